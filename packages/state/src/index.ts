/**
 * Every connection's lifecycle, queryable in O(1) and observable by events: the single
 * source of truth for connection counts in `@cm`.
 *
 * A {@link ConnectionTracker} holds a record per connection (direction, remote address and
 * IP, peer once known, state, timeline, close reason, stream count, tags, metadata), lets it
 * change state only along the allowed transitions (pending → open → closing → closed,
 * pending → closed, open → closed), indexes it by ID, peer, state, direction and remote
 * host with counters kept as connections change, dispatches typed events, keeps a bounded
 * history of closed connections and gives a JSON snapshot for monitoring.
 *
 * It does not open, accept or close sockets, enforce limits, or decide what to prune: it
 * records what the caller (such as `@cm/manager`) reports, exactly and cheaply.
 *
 * @example
 * ```ts
 * import { createConnectionTracker } from '@cm/state'
 *
 * const tracker = createConnectionTracker({ connectionHistorySize: 100 })
 * tracker.events.addEventListener('peer:disconnect', event => {
 *   console.log(`peer ${event.detail.peer} disconnected`)
 * })
 *
 * const connection = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001', remoteIp: '10.0.0.1' })
 * tracker.open(connection.id)
 * tracker.identify(connection.id, '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')
 *
 * tracker.count({ state: 'open', direction: 'inbound' }) // 1, in O(1)
 * tracker.count({ host: '10.0.0.1' }) // 1
 *
 * tracker.close(connection.id, 'remote') // connection:close, then peer:disconnect
 * tracker.snapshot().closed.byReason.remote // 1
 * ```
 *
 * @packageDocumentation
 */

export { CLOSE_REASONS, ConnectionRecord } from './connection-record.ts'
export type { ActiveState, CloseReason, ConnectionRecordJson, ConnectionState, ConnectionTimeline, Direction } from './connection-record.ts'
export { ConnectionTracker, createConnectionTracker } from './connection-tracker.ts'
export { ConnectionClosedError, InvalidArgumentError, InvalidTransitionError, PeerMismatchError, TrackerFullError, UnknownConnectionError } from './errors.ts'
export type { ConnectionEventDetail, ConnectionTrackerEvents, PeerEventDetail } from './events.ts'
export type { DirectionCounts, DurationStats, OldestConnection, PeerCounts, TrackerSnapshot } from './snapshot.ts'
export type { AddConnectionInit, ConnectionFilter } from './tracker-arguments.ts'
export type { ConnectionTrackerInit } from './tracker-options.ts'
