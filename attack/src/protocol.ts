import type { ConnectionConfigInit } from '@cm/config'

/** How the server under attack is built (passed as its first argument, as JSON). */
export interface ServerOptions {
  /** `managed`: every socket through `manager.accept()`; `bare`: accept and reset every socket. */
  readonly mode: 'managed' | 'bare'
  /** The manager's config. */
  readonly config?: ConnectionConfigInit
  /** Bytes sent after `welcome\n` on every open connection. */
  readonly payloadBytes?: number
  /** The server closes every open connection this long after it opened. */
  readonly closeAfterMs?: number
}

/** A request from the runner. */
export type ServerRequest =
  | { readonly id: number, readonly type: 'stats' | 'reset-peak' | 'stop' }
  | { readonly id: number, readonly type: 'deny', readonly entry: string }

/** What the server counts, outside the manager, and a few of the manager's own figures. */
export interface ServerStats {
  /** Sockets accepted and not yet destroyed now. */
  readonly held: number
  /** The most sockets held at once since start (or the last `reset-peak`). */
  readonly peakHeld: number
  /** Sockets accepted since start. */
  readonly accepted: number
  /** `heapUsed` after two full garbage collections (NaN without `--expose-gc`). */
  readonly heapUsed: number
  /** Connections the manager refused, since start. */
  readonly refused: number
  /** The same, by reason (non-zero ones). */
  readonly refusedBy: Readonly<Record<string, number>>
  /** Inbound connections opened since start. */
  readonly opened: number
  /** Pending connections evicted for a less pressured host, since start. */
  readonly evicted: number
  /** Graceful closes that timed out (and reset), since start. */
  readonly closeTimeouts: number
  /** Connections the manager tracks now (any state). */
  readonly tracked: number
}

/** A reply to a request (`id` 0: the server is listening, on `port`). */
export interface ServerReply {
  readonly id: number
  readonly port?: number
  readonly stats?: ServerStats
  readonly closed?: number
}
