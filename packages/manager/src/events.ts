import type { ConnectionTrackerEvents, ConnectionRecord } from '@cm/state'
import type { ConnectionConfig } from '@cm/config'
import type { PruneReason } from '@cm/pruner'

/**
 * Why the manager refused a connection or a dial, in the order the checks run:
 * `deny-list`, `not-allow-listed` and `invalid-address` (the gate), `rate-limit` (the
 * per-host limiter), `pending-limit` (`maxIncomingPendingConnections`), `max-connections`
 * (`maxConnections`, every socket held); after the peer is identified, `peer-denied` (the
 * gate, with the peer ID); and `not-started` for an inbound connection arriving while
 * stopped.
 */
export type RefusalReason =
  | 'deny-list'
  | 'not-allow-listed'
  | 'invalid-address'
  | 'pending-limit'
  | 'rate-limit'
  | 'max-connections'
  | 'peer-denied'
  | 'not-started'

/** Every refusal reason, in check order. */
export const REFUSAL_REASONS: readonly RefusalReason[] = Object.freeze([
  // Stryker disable next-line StringLiteral: a module-level initializer runs once, at load, before any mutant is active; test/admission-edges.test.ts checks it
  'deny-list', 'not-allow-listed', 'invalid-address', 'rate-limit', 'pending-limit', 'max-connections', 'peer-denied', 'not-started'
])

/** The detail of `connection:deny`. */
export interface ConnectionDenyDetail {
  /** Inbound (a connection refused at accept or after the handshake) or outbound (a dial). */
  readonly direction: 'inbound' | 'outbound'
  /** The remote address, as a multiaddr string. */
  readonly remoteAddress: string
  /** The remote IP, when known. */
  readonly remoteIp: string | undefined
  /** The peer ID, when known. */
  readonly peer: string | undefined
  /** Why. */
  readonly reason: RefusalReason
  /** The gate rule that matched, for gate refusals. */
  readonly rule: string | undefined
  /** For `rate-limit`: milliseconds until the host would be admitted. */
  readonly retryAfterMs: number | undefined
}

/** The detail of `connection:prune`. */
export interface ConnectionPruneDetail {
  /** The connection being closed (its state is `closing` when the event is dispatched). */
  readonly connection: ConnectionRecord
  /** Why: over `maxConnections`, over the high watermark, or over `maxConnectionsPerPeer`. */
  readonly reason: PruneReason
}

/** The detail of `reconnect:attempt`. */
export interface ReconnectAttemptDetail {
  /** The address being redialled. */
  readonly address: string
  /** The peer, if known. */
  readonly peer: string | undefined
  /** The retry's number, from 1 to `reconnectRetries`. */
  readonly attempt: number
  /** Milliseconds until the dial (the backoff delay). */
  readonly delayMs: number
}

/** The detail of `reconnect:success`. */
export interface ReconnectSuccessDetail {
  /** The new connection. */
  readonly connection: ConnectionRecord
  /** Which retry succeeded, from 1. */
  readonly attempt: number
}

/** The detail of `reconnect:failure` (the last retry failed, or redialling became impossible). */
export interface ReconnectFailureDetail {
  /** The address that could not be redialled. */
  readonly address: string
  /** The peer, if known. */
  readonly peer: string | undefined
  /** Retries made. */
  readonly attempts: number
  /** The last error. */
  readonly error: unknown
}

/** The detail of `config:change`. */
export interface ConfigChangeDetail {
  /** The config now in force. */
  readonly config: ConnectionConfig
  /** The options whose values changed. */
  readonly changed: ReadonlyArray<keyof ConnectionConfig>
}

/**
 * Every event on the manager's bus: the connection tracker's events (connection
 * lifecycle and peers) and the manager's own.
 *
 * @example
 * ```ts
 * import { createConnectionManager } from '@cm/manager'
 * import { tcp } from '@cm/manager/tcp'
 *
 * const manager = createConnectionManager({ transport: tcp() })
 * manager.events.addEventListener('connection:deny', event => {
 *   console.log(`refused ${event.detail.remoteAddress}: ${event.detail.reason}`)
 * })
 * manager.events.addEventListener('connection:open', event => {
 *   console.log(`open #${event.detail.connection.id}`)
 * })
 * ```
 */
export interface ConnectionManagerEvents extends ConnectionTrackerEvents {
  /** A connection or dial was refused; the socket (if any) was closed at once. */
  'connection:deny': CustomEvent<ConnectionDenyDetail>
  /** The pruner chose a connection to close; it is closing. */
  'connection:prune': CustomEvent<ConnectionPruneDetail>
  /** A keep-alive connection closed unexpectedly and a redial is scheduled. */
  'reconnect:attempt': CustomEvent<ReconnectAttemptDetail>
  /** A redial succeeded. */
  'reconnect:success': CustomEvent<ReconnectSuccessDetail>
  /** Redialling gave up. */
  'reconnect:failure': CustomEvent<ReconnectFailureDetail>
  /** The config changed at run time. */
  'config:change': CustomEvent<ConfigChangeDetail>
}
