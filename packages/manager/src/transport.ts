/**
 * What the manager needs from a transport, so that its core works over any of them. A
 * binding for Node's `net` module (TCP over IPv4 and IPv6) ships as `@cm/manager/tcp`.
 *
 * `Raw` is the transport's own connection type (`net.Socket` for TCP).
 *
 * @example
 * ```ts
 * import type { Transport } from '@cm/manager'
 * import { tcp } from '@cm/manager/tcp'
 * import type { Socket } from 'node:net'
 *
 * const transport: Transport<Socket> = tcp()
 * ```
 */
export interface Transport<Raw> {
  /**
   * Opens a connection to `address` (a multiaddr string such as `/ip4/127.0.0.1/tcp/4001`).
   * Rejects with `signal.reason` when the signal aborts first, leaving nothing open.
   */
  dial(address: string, options: SignalOptions): Promise<Raw>

  /**
   * Starts accepting connections on `address`, passing each to `onConnection` at once
   * (before any data is read), and resolves when listening.
   */
  listen(address: string, onConnection: (raw: Raw) => void): Promise<Listener>

  /**
   * Closes a connection gracefully and resolves when it is fully closed. Rejects with
   * `signal.reason` if the signal aborts first; the manager then calls {@link abort}.
   */
  close(raw: Raw, options: SignalOptions): Promise<void>

  /** Destroys a connection at once (no graceful close). Must not throw. */
  abort(raw: Raw, error?: Error): void

  /** The remote end of a connection. */
  remoteAddress(raw: Raw): RemoteAddress

  /**
   * Calls `listener` once when the connection closes by itself (the remote end closed it,
   * or an error destroyed it), or when it is closed or aborted locally.
   */
  onClose(raw: Raw, listener: (error?: Error) => void): void
}

/** The signal a transport operation must obey (always given, unlike `AbortOptions`). */
export interface SignalOptions {
  /** Aborts the operation; it then rejects with `signal.reason` and leaves nothing open. */
  readonly signal: AbortSignal
}

/** The remote end of a raw connection. */
export interface RemoteAddress {
  /** The remote host's IP text, if it has one (a relayed or Unix connection may not). */
  readonly ip?: string | undefined
  /** The remote address as a multiaddr string, such as `/ip4/127.0.0.1/tcp/53012`. */
  readonly multiaddr: string
}

/** A listening endpoint opened by {@link Transport.listen}. */
export interface Listener {
  /** The addresses it listens on (with the real port, if port 0 was asked for). */
  readonly addresses: readonly string[]
  /** Stops accepting connections; connections already accepted stay open. */
  close(): Promise<void>
}
