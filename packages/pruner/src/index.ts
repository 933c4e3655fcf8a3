/**
 * Chooses which connections to close when a node holds too many, by an explicit policy,
 * at any scale.
 *
 * - {@link selectVictims} is the pure core: given the open connections (direction, age,
 *   streams, tag value, peer, protected and trusted flags) and how many to close, it
 *   returns exactly which, in order, with the shortfall when too few are eligible. No I/O,
 *   deterministic (ties broken by id), O(N log k) with a bounded heap.
 * - Strategies: `'least-valuable'` (the default: lowest tag value, fewest streams, inbound
 *   before outbound, newest first), `'oldest'`, `'newest'`, or a custom comparison or
 *   score.
 * - Exemptions: protected peers (a {@link ProtectionRegistry} of reason tags, surviving
 *   reconnects), trusted connections and, optionally, connections in their grace period.
 * - {@link Pruner} is the runner: it hands the victims to the caller's closer, replaces
 *   each victim that is not closed so the target is reached, coalesces concurrent calls
 *   into one pass and reports only what was closed. It prunes the node above
 *   `maxConnections` (or from a high watermark down to a low one) and one peer above
 *   `maxConnectionsPerPeer`.
 *
 * It does not own connections, sockets, timers or events: the caller (`@cm/manager`)
 * lists the connections, closes them and decides when to prune.
 *
 * @example
 * ```ts
 * import { Pruner, selectVictims } from '@cm/pruner'
 * import type { PruneCandidate } from '@cm/pruner'
 *
 * const connections: PruneCandidate[] = [
 *   { id: 1, peer: 'QmA', direction: 'outbound', openedAt: 1_000, streams: 3, value: 50 },
 *   { id: 2, peer: 'QmB', direction: 'inbound', openedAt: 2_000, streams: 0, value: 0 },
 *   { id: 3, peer: 'QmC', direction: 'inbound', openedAt: 3_000, streams: 1, value: 0 }
 * ]
 *
 * // The pure selection: which one to close to keep two?
 * selectVictims(connections, { target: 2 }).victims // [connection 2]
 *
 * // The runner: closes them through your closer, replacing any that will not close.
 * const open = new Map(connections.map(connection => [connection.id, connection]))
 * const pruner = new Pruner({
 *   config: { maxConnections: 2, maxConnectionsPerPeer: 1, pruneGracePeriod: 0 },
 *   connections: () => open.values(),
 *   close: async victim => open.delete(victim.id)
 * })
 * pruner.protection.protect('QmB', 'bootstrap')
 * const report = await pruner.prune()
 * report.closed.map(entry => entry.connection.id) // [3]: QmB is protected
 * ```
 *
 * @packageDocumentation
 */

export type { CandidateId, ConnectionDirection, PruneCandidate } from './candidate.ts'
export { InvalidCandidateError, PrunerStoppedError } from './errors.ts'
export { ProtectionRegistry } from './protection.ts'
export type { ProtectionLookup } from './protection.ts'
export { Pruner } from './pruner.ts'
export type {
  CloseConnection,
  CloseContext,
  FailedClose,
  PrunedConnection,
  PruneOptions,
  PruneReason,
  PrunerConfigChange,
  PruneReport,
  PrunerInit
} from './pruner.ts'
export { selectVictims } from './select-victims.ts'
export type {
  ExemptCounts,
  SelectVictimsCommonOptions,
  SelectVictimsCountOptions,
  SelectVictimsOptions,
  SelectVictimsTargetOptions,
  VictimSelection
} from './select-victims.ts'
export { compareIds, compareLeastValuable, compareNewest, compareOldest } from './strategy.ts'
export type { CompareStrategy, PruneComparator, PruneStrategy, ScoreStrategy } from './strategy.ts'
