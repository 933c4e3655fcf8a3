/**
 * Connection management for Node.js services and peer-to-peer nodes, end to end: one
 * object that takes a `ConnectionConfig` and manages real connections. Inbound
 * connections pass admission in a fixed order (deny list, exclusive allow list,
 * pending-inbound limit, per-host rate limit, `maxConnections`), then an optional upgrade,
 * then the peer rules (peer deny, `maxConnectionsPerPeer`). Outbound dials go through the
 * gate and a priority dial queue with timeouts. Over the limits, the pruner picks victims.
 * Keep-alive connections are redialled with backoff. Every option is enforced, and can
 * change while running.
 *
 * It wires `@cm/gate`, `@cm/rate-limit`, `@cm/pruner` and `@cm/state` together and
 * re-implements none of their policy. The core works over any {@link Transport}; a TCP
 * binding for Node's `net` module ships as `@cm/manager/tcp`.
 *
 * @example A managed TCP server and a dial
 * ```ts
 * import { createConnectionManager } from '@cm/manager'
 * import { tcp } from '@cm/manager/tcp'
 *
 * const manager = createConnectionManager({
 *   transport: tcp(),
 *   config: { maxConnections: 100, maxConnectionsPerPeer: 2, inboundConnectionThreshold: 10, denyList: ['10.0.0.0/8'] },
 *   onConnection: connection => {
 *     connection.raw.write(`hello, connection #${connection.id}\n`)
 *   }
 * })
 * manager.events.addEventListener('connection:deny', event => {
 *   console.log(`refused ${event.detail.remoteAddress}: ${event.detail.reason}`)
 * })
 * await manager.start()
 * const listener = await manager.listen('/ip4/127.0.0.1/tcp/0')
 * const client = await manager.dial(listener.addresses[0] ?? '')
 * console.log(manager.metrics().connections.open) // { inbound: 1, outbound: 1 }
 * await client.close()
 * await manager.stop()
 * ```
 *
 * @packageDocumentation
 */

export type { AdmissionObserver } from './admission-observer.ts'
export { backoffDelay } from './backoff.ts'
export type { BackoffOptions } from './backoff.ts'
export { DEFAULT_DIAL_PRIORITY, DialQueue, DialQueueFullError } from './dial-queue.ts'
export type { DialQueueLimits, DialQueueOptions, DialQueueStats } from './dial-queue.ts'
export { ConnectionRefusedError, DialDeniedError, DialTimeoutError, ManagerStoppedError, NotStartedError } from './errors.ts'
export { REFUSAL_REASONS } from './events.ts'
export type {
  ConfigChangeDetail,
  ConnectionDenyDetail,
  ConnectionManagerEvents,
  ConnectionPruneDetail,
  ReconnectAttemptDetail,
  ReconnectFailureDetail,
  ReconnectSuccessDetail,
  RefusalReason
} from './events.ts'
export { ConnectionManager, createConnectionManager } from './manager.ts'
export type {
  ConnectionFigures,
  DialQueueFigures,
  DirectionFigures,
  GateFigures,
  ManagerMetrics,
  PendingInboundFigures,
  ReconnectFigures
} from './metrics.ts'
export type {
  AcceptClosed,
  AcceptOpen,
  AcceptRefused,
  AcceptResult,
  ConnectionManagerInit,
  DialOptions,
  ManagedConnection,
  ManagerDenyOptions,
  Upgrade,
  UpgradeContext,
  UpgradeResult
} from './types.ts'
export type { Listener, RemoteAddress, SignalOptions, Transport } from './transport.ts'
