/**
 * `@cm` connection management for a js-libp2p node: allow, deny and trusted lists over
 * IPs, CIDR ranges and peer IDs, inbound rate limiting by remote IP, connection limits,
 * pruning by an explicit strategy, and a live, O(1)-countable view of the node's
 * connections, through js-libp2p's public interfaces.
 *
 * - {@link cmLibp2p}: one call, one `ConnectionConfig`, for one node. It returns the
 *   `connectionGater`, the `connectionManager` settings and the `cm` service to spread into
 *   `createLibp2p`'s options, so that every option is enforced once, by one part (the
 *   package README has the table of who enforces what).
 * - The parts, for a node set up by hand: {@link cmGater} (a js-libp2p `ConnectionGater`
 *   deciding with `@cm/gate` and `@cm/rate-limit`, and the inbound connection limits with a
 *   monitor), {@link createNodeMonitor} (follows the node's connections into a `@cm/state`
 *   tracker) and {@link createNodePruner} (per-peer and node-wide pruning with
 *   `@cm/pruner`). Each takes exactly the options it enforces and refuses the others with
 *   an error that names the part that does.
 *
 * It does not replace js-libp2p's dial queue, upgrader, reconnect queue or ping monitor:
 * {@link cmLibp2p} gives them the config's values. js-libp2p 3 needs Node 22 (it calls
 * `Promise.withResolvers`), and so does this package.
 *
 * @example
 * ```ts
 * import { cmLibp2p } from '@cm/libp2p'
 * import { noise } from '@libp2p/noise'
 * import { tcp } from '@libp2p/tcp'
 * import { yamux } from '@libp2p/yamux'
 * import { createLibp2p } from 'libp2p'
 *
 * const node = await createLibp2p({
 *   addresses: { listen: ['/ip4/0.0.0.0/tcp/4001'] },
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   ...cmLibp2p({
 *     maxConnections: 200,
 *     maxConnectionsPerPeer: 2,
 *     inboundConnectionThreshold: 5, // attempts per second per host
 *     denyList: ['203.0.113.0/24'],
 *     trustedList: ['192.0.2.1'],
 *     dialTimeout: 5_000 // milliseconds
 *   })
 * })
 * const { gater, monitor, pruning } = node.services.cm
 *
 * gater.gate.deny('198.51.100.7', { ttl: 10 * 60_000 }) // a ten-minute ban
 * monitor.tracker.count({ state: 'open', direction: 'inbound' }) // O(1)
 * pruning.protection.protect('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA', 'bootstrap')
 *
 * await node.stop()
 * ```
 *
 * @packageDocumentation
 */

export { cmLibp2p, CmService } from './cm-libp2p.ts'
export type { CmLibp2pInit, CmLibp2pOptions, CmServiceComponents, Libp2pConfig, Libp2pConnectionManagerInit } from './cm-libp2p.ts'
export { cmGater, CmGater } from './gater.ts'
export type { GaterConfig, GaterDenyDetail, GaterDenyReason, GaterEvents, GaterHook, GaterInit, GaterStats } from './gater.ts'
export { createNodeMonitor, NodeMonitor } from './monitor.ts'
export type { MonitoredNode, NodeMonitorInit } from './monitor.ts'
export { createNodePruner, NodePruner } from './pruning.ts'
export type { ConnectionPruneDetail, NodePruneCandidate, NodePrunerEvents, NodePrunerInit, PrunerConfig } from './pruning.ts'
