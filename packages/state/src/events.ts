import type { ConnectionRecord, ConnectionState } from './connection-record.ts'

/**
 * The detail of a connection event: the connection, the state the event announces and the
 * state it left.
 */
export interface ConnectionEventDetail<Metadata = unknown> {
  /** The connection (a live view: by the time a listener runs it may have moved on). */
  readonly connection: ConnectionRecord<Metadata>
  /** The state the connection entered, which this event announces. */
  readonly state: ConnectionState
  /** The state it left; `undefined` for `connection:pending`. */
  readonly previous: ConnectionState | undefined
}

/** The detail of a peer event: the peer and the connection that made it connect or disconnect. */
export interface PeerEventDetail<Metadata = unknown> {
  /** The peer's ID. */
  readonly peer: string
  /**
   * For `peer:connect`, the connection that became the peer's first open one; for
   * `peer:disconnect`, the last one that closed.
   */
  readonly connection: ConnectionRecord<Metadata>
}

/**
 * The events of a {@link ConnectionTracker}, as a typed `EventTarget` event map.
 *
 * Guarantees:
 * - every event is dispatched after the tracker has been updated, so a listener sees
 *   counts that include the change;
 * - events are dispatched in the order of the changes. When a listener changes the tracker,
 *   the events of that change wait until the listeners of the current event have run, so
 *   a connection's `connection:close` never precedes its `connection:open`, and a peer's
 *   `peer:disconnect` never precedes its `peer:connect`; the tracker a listener sees may
 *   then be ahead of the event it handles;
 * - `peer:disconnect` follows the `connection:close` of the peer's last connection;
 * - a listener that throws does not stop the other listeners, the remaining events or the
 *   tracker, and does not crash the process (see `onListenerError`).
 *
 * A peer is connected while it has at least one connection that has opened and not yet
 * closed (open or closing).
 *
 * @example
 * ```ts
 * import { createConnectionTracker } from '@cm/state'
 *
 * const tracker = createConnectionTracker()
 * tracker.events.addEventListener('connection:close', event => {
 *   const { connection, previous } = event.detail
 *   console.log(`connection ${connection.id} closed from ${previous}: ${connection.closeReason}`)
 * })
 * tracker.events.addEventListener('peer:connect', event => {
 *   console.log(`peer ${event.detail.peer} connected`)
 * })
 * ```
 */
export interface ConnectionTrackerEvents<Metadata = unknown> {
  /** A connection was added (pending). */
  'connection:pending': CustomEvent<ConnectionEventDetail<Metadata>>
  /** A connection opened. */
  'connection:open': CustomEvent<ConnectionEventDetail<Metadata>>
  /** A connection started closing. */
  'connection:closing': CustomEvent<ConnectionEventDetail<Metadata>>
  /** A connection closed (from pending, open or closing) and left the tracker. */
  'connection:close': CustomEvent<ConnectionEventDetail<Metadata>>
  /** A peer's first connection opened (or an open connection was identified as it). */
  'peer:connect': CustomEvent<PeerEventDetail<Metadata>>
  /** A peer's last open or closing connection closed. */
  'peer:disconnect': CustomEvent<PeerEventDetail<Metadata>>
}
