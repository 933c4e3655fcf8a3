import type { ConnectionDenyDetail } from './events.ts'
import type { RemoteAddress, Transport } from './transport.ts'
import type { Clock, ConnectionConfigInit } from '@cm/config'
import type { ListenerErrorHandler } from '@cm/config/events'
import type { PruneCandidate, PruneStrategy } from '@cm/pruner'
import type { CloseReason, ConnectionRecord } from '@cm/state'

/** What an upgrade (a handshake) learnt about the remote end. */
export interface UpgradeResult {
  /** The remote peer's ID, once authenticated. */
  readonly peer?: string | undefined
}

/** What an upgrade is told. */
export interface UpgradeContext {
  /** Which side opened the connection. */
  readonly direction: 'inbound' | 'outbound'
  /** The remote end. */
  readonly remoteAddress: RemoteAddress
  /**
   * Aborts when the upgrade takes too long (`inboundUpgradeTimeout` inbound, `dialTimeout`
   * outbound), when the connection closes, or when the manager stops.
   */
  readonly signal: AbortSignal
}

/**
 * Turns an accepted or dialled raw connection into an open one: a handshake, an
 * authentication, protocol negotiation. Until it resolves the connection is pending (it
 * counts against `maxIncomingPendingConnections` inbound). A rejection closes it.
 */
export type Upgrade<Raw> = (raw: Raw, context: UpgradeContext) => Promise<UpgradeResult | undefined | void>

/** A connection the manager holds, as handed to the application. */
export interface ManagedConnection<Raw> {
  /** The tracker's ID of the connection. */
  readonly id: number
  /** The transport's connection (a `net.Socket` for TCP). */
  readonly raw: Raw
  /** The tracker's live, read-only record: state, timeline, peer, tags, close reason. */
  readonly record: ConnectionRecord
  /**
   * Closes the connection gracefully; after `connectionCloseTimeout` it is destroyed and
   * closed with reason `timeout`. Resolves when closed. Idempotent.
   */
  close(reason?: CloseReason): Promise<void>
}

/** The outcome of {@link ConnectionManager.accept}: open, refused, or closed before it opened. */
export type AcceptResult<Raw> = AcceptOpen<Raw> | AcceptRefused | AcceptClosed

/** An inbound connection that passed admission (and its upgrade) and is open. */
export interface AcceptOpen<Raw> {
  /** `'open'`. */
  readonly outcome: 'open'
  /** The open connection. */
  readonly connection: ManagedConnection<Raw>
}

/** An inbound connection refused by admission or, after its upgrade, by the peer rules. */
export interface AcceptRefused {
  /** `'refused'`. */
  readonly outcome: 'refused'
  /** Why, as `connection:deny` reported it. */
  readonly refusal: ConnectionDenyDetail
}

/** An admitted connection that closed before it was handed over (upgrade failed or timed out, remote close, stop, pruned at once). */
export interface AcceptClosed {
  /** `'closed'`. */
  readonly outcome: 'closed'
  /** The connection's record, with its close reason and error. */
  readonly record: ConnectionRecord
}

/** Options of {@link ConnectionManager.dial}. */
export interface DialOptions {
  /** The peer expected at the address (also read from a final `/p2p/<id>`). */
  readonly peer?: string | undefined
  /** Higher dials leave the queue first. @default 50 */
  readonly priority?: number | undefined
  /** Cancels this caller's dial, queued or running. */
  readonly signal?: AbortSignal | undefined
  /**
   * Redial this connection after it closes unexpectedly (a remote close or an error; never
   * after a local close, a prune or a deny), up to `reconnectRetries` times with backoff.
   * @default false
   */
  readonly keepAlive?: boolean | undefined
}

/** Options of {@link ConnectionManager.deny}. */
export interface ManagerDenyOptions {
  /** Milliseconds until the rule lapses by itself (a ban). */
  readonly ttl?: number | undefined
}

/** Everything a {@link ConnectionManager} is built from. */
export interface ConnectionManagerInit<Raw> {
  /** The transport: `tcp()` from `@cm/manager/tcp`, or your own. */
  readonly transport: Transport<Raw>
  /** The connection-management options (see `ConnectionConfig` in `@cm/config`). */
  readonly config?: ConnectionConfigInit | undefined
  /** The handshake run on every connection before it counts as open. @default none: open at once */
  readonly upgrade?: Upgrade<Raw> | undefined
  /** Called with every connection that opens (inbound and outbound). Errors it throws are reported, not raised. */
  readonly onConnection?: ((connection: ManagedConnection<Raw>) => void) | undefined
  /** A custom pruning order (wins over `pruneStrategy`); see `@cm/pruner`. */
  readonly pruneStrategy?: PruneStrategy<PruneCandidate> | undefined
  /**
   * Whether adding a deny rule at run time (by `updateConfig` or `deny`) also closes the
   * open connections it matches.
   * @default true
   */
  readonly closeDeniedConnections?: boolean | undefined
  /** The clock for timelines and wait times. @default systemClock */
  readonly clock?: Clock | undefined
  /** Where errors thrown by event listeners and `onConnection` go. @default console.error */
  readonly onListenerError?: ListenerErrorHandler | undefined
  /** Random numbers in [0, 1) for reconnect jitter. @default Math.random */
  readonly random?: (() => number) | undefined
}
