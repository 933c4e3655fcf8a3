/**
 * Adapters that bring `@cm`'s gate, rate limiter, connection tracker and pruner to a
 * js-libp2p node, through its public interfaces:
 *
 * - {@link cmGater}: a js-libp2p `ConnectionGater` deciding with a `@cm/gate` gate
 *   (constant-cost allow, deny and trusted lists over IPs, CIDR ranges and peer IDs,
 *   IPv4-mapped addresses handled) and, for inbound connections, a `@cm/rate-limit`
 *   limiter keyed by the remote IP (IPv6 by prefix, never a relay's IP, bounded memory);
 * - {@link createNodeMonitor}: follows the node's connections into a `@cm/state` tracker,
 *   so they can be counted in O(1), listed, observed and snapshotted;
 * - {@link createNodePruner}: per-peer and node-wide pruning with `@cm/pruner`, closing
 *   the connections it selects.
 *
 * js-libp2p's own connection manager keeps running: its `maxConnections` admission, its
 * pending-connection limit, its own rate limit and its own pruner still apply (see the
 * README for the settings that leave the decisions to `@cm`). js-libp2p 3 needs Node 22
 * (it calls `Promise.withResolvers`); this package itself runs on Node 20.
 *
 * @example
 * ```ts
 * import { cmGater, createNodeMonitor, createNodePruner } from '@cm/libp2p'
 * import { createLibp2p } from 'libp2p'
 *
 * const monitor = createNodeMonitor()
 * const gater = cmGater({
 *   config: { denyList: ['203.0.113.0/24'], trustedList: ['192.0.2.1'], inboundConnectionThreshold: 5 },
 *   monitor
 * })
 * const node = await createLibp2p({
 *   connectionGater: gater,
 *   // leave inbound rate limiting to the gater; keep js-libp2p's pruner above ours
 *   connectionManager: { inboundConnectionThreshold: Number.MAX_SAFE_INTEGER, maxConnections: 200 }
 *   // addresses, transports, connectionEncrypters, streamMuxers, ...
 * })
 * monitor.start(node)
 * const pruning = createNodePruner({ monitor, gate: gater.gate, config: { maxConnections: 100, maxConnectionsPerPeer: 2 } })
 *
 * monitor.tracker.count({ state: 'open', direction: 'inbound' }) // O(1)
 * gater.gate.deny('198.51.100.7', { ttl: 10 * 60_000 }) // a ten-minute ban
 *
 * await pruning.stop()
 * monitor.stop()
 * await node.stop()
 * ```
 *
 * @packageDocumentation
 */

export { cmGater, CmGater } from './gater.ts'
export type { GaterDenyDetail, GaterDenyReason, GaterEvents, GaterHook, GaterInit, GaterStats } from './gater.ts'
export { createNodeMonitor, NodeMonitor } from './monitor.ts'
export type { MonitoredNode, NodeMonitorInit } from './monitor.ts'
export { createNodePruner, NodePruner } from './pruning.ts'
export type { NodePruneCandidate, NodePrunerEvents, NodePrunerInit } from './pruning.ts'
