/**
 * One deny list and one rate budget across a fleet of nodes, shared through Redis, with
 * every per-connection check still the local gate's synchronous lookup.
 *
 * Each node runs a {@link Fleet} attached to its gate (a `@cm/manager` connection manager,
 * or `@cm/libp2p`'s gater and monitor). Deny, allow and trusted rules, with optional TTLs
 * that lapse at the same moment everywhere, are written by any node or by an operator
 * ({@link createFleetAdmin}, or the `cm-fleet` command) and reach every node by push,
 * through an ordered log that a node resumes from after an outage. A fleet-wide budget of
 * inbound attempts per host is counted locally, with no I/O on the accept path, and added
 * up in Redis every sync interval; a host over it is refused by every node until the
 * window ends. When Redis is away, every node keeps the rules it knows and its own rate
 * limiter, says so (`fleet:state`, `metrics().connected`), and catches up when it returns.
 *
 * It does not replace the local limiter or the gate: it only changes what the gate knows.
 * It needs Redis 7 (or Valkey); Redis Cluster is not supported.
 *
 * @example Three lines per node
 * ```ts
 * import { createFleet } from '@cm/fleet'
 * import { createConnectionManager } from '@cm/manager'
 * import { tcp } from '@cm/manager/tcp'
 *
 * const manager = createConnectionManager({ transport: tcp() })
 * const fleet = createFleet({
 *   redis: { url: 'redis://127.0.0.1:6379', username: 'fleet', password: 'secret' },
 *   prefix: 'cm:fleet:relays:',
 *   budget: { limit: 20 } // attempts per second per host, across the fleet
 * })
 * fleet.attach(manager)
 * await manager.start()
 * await manager.listen('/ip4/0.0.0.0/tcp/4001')
 * await fleet.start()
 *
 * await fleet.deny('203.0.113.0/24', { ttl: 60 * 60_000 }) // every node refuses it, for an hour
 * ```
 *
 * @packageDocumentation
 */

export { createFleetAdmin, FleetAdmin } from './admin.ts'
export type { FleetAdminInit } from './admin.ts'
export type { FleetAttemptConnection, FleetAttemptDetail, FleetAttemptEvents, FleetTarget } from './binding.ts'
export { budgetBound } from './budget.ts'
export { FleetQueueFullError, FleetStoppedError, FleetUnavailableError } from './errors.ts'
export type {
  FleetBudgetHoldDetail,
  FleetEvents,
  FleetRemoveReason,
  FleetResyncDetail,
  FleetResyncReason,
  FleetRuleApplyDetail,
  FleetRuleRejectDetail,
  FleetRuleRemoveDetail,
  FleetRuleSource,
  FleetState,
  FleetStateDetail
} from './events.ts'
export { createFleet, Fleet } from './fleet.ts'
export type { FleetMetrics, FleetWriteOptions } from './fleet.ts'
export type {
  FleetBudgetInit,
  FleetInit,
  FleetReconnectOptions,
  FleetRedisOptions,
  FleetWidestAllow
} from './options.ts'
export type { FleetRule } from './records.ts'
