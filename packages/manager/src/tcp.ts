/**
 * A {@link Transport} over Node's `net` module: TCP over IPv4 and IPv6, addressed by
 * multiaddrs (`/ip4/127.0.0.1/tcp/4001`, `/ip6/::1/tcp/0`).
 *
 * @example A managed TCP echo server
 * ```ts
 * import { createConnectionManager } from '@cm/manager'
 * import { tcp } from '@cm/manager/tcp'
 *
 * const manager = createConnectionManager({
 *   transport: tcp(),
 *   config: { maxConnections: 100, inboundConnectionThreshold: 5 },
 *   onConnection: connection => {
 *     connection.raw.pipe(connection.raw) // echo
 *   }
 * })
 * await manager.start()
 * const listener = await manager.listen('/ip4/127.0.0.1/tcp/0')
 * console.log(`listening on ${listener.addresses.join(', ')}`)
 * await manager.stop()
 * ```
 *
 * @packageDocumentation
 */
import { createServer, Socket } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { CmError } from '@cm/config'
import { parseIp } from '@cm/config/address'
import { quoteInput } from '@cm/config/validation'
import type { Listener, RemoteAddress, SignalOptions, Transport } from './transport.ts'
import type { AddressInfo, Server } from 'node:net'

/**
 * Thrown when an address is not a TCP multiaddr this transport can use.
 *
 * @example
 * ```ts
 * import { InvalidTcpAddressError, tcp } from '@cm/manager/tcp'
 *
 * try {
 *   await tcp().dial('/dns4/example.com/tcp/443', { signal: AbortSignal.timeout(1_000) })
 * } catch (error) {
 *   InvalidTcpAddressError.isInstance(error) // true
 * }
 * ```
 */
export class InvalidTcpAddressError extends CmError {
  // Stryker disable next-line StringLiteral: a static initializer runs once, at load, before any mutant is active (tcp-edges tests check the name)
  static override readonly name: string = 'InvalidTcpAddressError'

  /** The address as given. */
  readonly address: string

  /**
   * @param address - the address as given
   * @param reason - why it cannot be used
   */
  constructor (address: string, reason: string) {
    super(`Cannot use ${quoteInput(address)} as a TCP address: ${reason}`)
    this.address = address
  }
}

/** Options of the TCP transport. */
export interface TcpOptions {
  /**
   * The local IP address outgoing connections are bound to (for example one of
   * `127.0.0.0/8` in tests that need many source addresses). By default the system picks.
   */
  readonly localAddress?: string | undefined
  /**
   * The listen backlog: connections the kernel queues before they are accepted.
   * @default 511
   */
  readonly backlog?: number | undefined
  /**
   * Whether `/ip6` listeners accept only IPv6 (no IPv4-mapped connections).
   * @default false
   */
  readonly ipv6Only?: boolean | undefined
}

interface HostPort {
  readonly host: string
  readonly port: number
}

/** Reads `/ip4/<ip>/tcp/<port>` or `/ip6/<ip>/tcp/<port>`. */
function toHostPort (address: string): HostPort {
  let components
  try {
    components = multiaddr(address).getComponents()
  } catch (error) {
    throw new InvalidTcpAddressError(address, (error as Error).message)
  }
  const [ip, tcpPart] = components
  if (ip === undefined || (ip.name !== 'ip4' && ip.name !== 'ip6') || tcpPart?.name !== 'tcp' || components.length !== 2) {
    throw new InvalidTcpAddressError(address, 'expected /ip4/<address>/tcp/<port> or /ip6/<address>/tcp/<port>')
  }
  // Node reads the family from the IP literal itself, for connect() and listen() alike.
  // Stryker disable next-line StringLiteral: an ip4 or ip6 component always has a value
  return { host: ip.value ?? '', port: Number(tcpPart.value) }
}

/** Formats a host and port as a TCP multiaddr, reading IPv4-mapped IPv6 hosts as IPv4. */
function toMultiaddr (host: string, port: number): { ip: string, multiaddr: string } {
  // Node writes IPv4 addresses as canonical dotted quads: only IPv6 text needs reading (to
  // turn an IPv4-mapped address into IPv4). This runs for every connection, refused or not.
  // Stryker disable next-line ConditionalExpression,BlockStatement,StringLiteral: a fast path; parseIp gives the same text for a dotted quad
  if (!host.includes(':')) {
    return { ip: host, multiaddr: `/ip4/${host}/tcp/${port}` }
  }
  const ip = parseIp(host)
  if (ip === undefined) {
    return { ip: host, multiaddr: `/ip6/${host}/tcp/${port}` }
  }
  return { ip: ip.text, multiaddr: `/ip${ip.family}/${ip.text}/tcp/${port}` }
}

class TcpTransport implements Transport<Socket> {
  readonly #options: TcpOptions

  constructor (options: TcpOptions) {
    this.#options = options
  }

  async dial (address: string, options: SignalOptions): Promise<Socket> {
    const { host, port } = toHostPort(address)
    const { signal } = options
    signal.throwIfAborted()
    return await new Promise<Socket>((resolve, reject) => {
      const socket = new Socket()
      const cleanup = (): void => {
        signal.removeEventListener('abort', onAbort)
        // Stryker disable next-line StringLiteral: after a connect `once` has removed it; after an error or abort the socket is destroyed and never handed out
        socket.removeListener('connect', onConnect)
        socket.removeListener('error', onError)
      }
      const onConnect = (): void => {
        cleanup()
        resolve(socket)
      }
      const onError = (error: Error): void => {
        cleanup()
        socket.destroy()
        reject(error)
      }
      const onAbort = (): void => {
        cleanup()
        socket.destroy()
        reject(signal.reason)
      }
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: a signal fires 'abort' at most once, and cleanup() removes the listener anyway
      signal.addEventListener('abort', onAbort, { once: true })
      socket.once('connect', onConnect)
      socket.once('error', onError)
      const localAddress = this.#options.localAddress
      // Stryker disable next-line ConditionalExpression: connect() takes a localAddress of undefined as none (`true` is killed by the tests, hidden by this comment)
      socket.connect(localAddress === undefined ? { host, port } : { host, port, localAddress })
    })
  }

  async listen (address: string, onConnection: (raw: Socket) => void): Promise<Listener> {
    const { host, port } = toHostPort(address)
    // The manager decides on a connection synchronously, inside this callback, so a refused
    // socket is destroyed before any of its data is read.
    const server: Server = createServer(socket => { onConnection(socket) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      // Node applies ipv6Only to IPv6 binds only: an /ip4 listener is not affected.
      server.listen({ host, port, backlog: this.#options.backlog ?? 511, ipv6Only: this.#options.ipv6Only === true }, () => {
        // Stryker disable next-line StringLiteral: once listening, a reject is a no-op (the promise has settled)
        server.removeListener('error', reject)
        resolve()
      })
    })
    // Errors after listening (for example EMFILE on accept) are not fatal to the server.
    server.on('error', () => {})
    // A TCP server that listens always has an AddressInfo (null only when closed, a string only for pipes).
    const bound = server.address() as AddressInfo
    return {
      addresses: [toMultiaddr(bound.address, bound.port).multiaddr],
      close: () => {
        // Stops accepting at once. Not awaiting Node's close callback: it waits until every
        // accepted connection has ended, and those stay open (the manager closes them).
        server.close()
        return Promise.resolve()
      }
    }
  }

  async close (raw: Socket, options: SignalOptions): Promise<void> {
    const { signal } = options
    if (raw.destroyed) {
      return
    }
    signal.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onClose = (): void => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        raw.removeListener('close', onClose)
        reject(signal.reason)
      }
      raw.once('close', onClose)
      // Stryker disable next-line BooleanLiteral,ObjectLiteral: a signal fires 'abort' at most once
      signal.addEventListener('abort', onAbort, { once: true })
      // A graceful close: send FIN, let the peer finish, then the socket closes.
      raw.end()
      // Read (and drop) what is left, so that the peer's FIN is seen and the socket closes.
      raw.resume()
    })
  }

  abort (raw: Socket, error?: Error): void {
    if (raw.destroyed) {
      return
    }
    // The socket is going away: an error it reports now (such as a failed reset) is moot.
    raw.on('error', () => {})
    // Refusals and timeouts reset the connection (RST), in every state the socket can be in:
    // after end() it is 'readOnly', and a plain destroy() would leave the kernel socket in
    // FIN_WAIT1 holding its unsent data for as long as a peer that never reads stays.
    if (raw.connecting) {
      raw.destroy(error) // a reset would wait for the connection to open first
      return
    }
    try {
      raw.resetAndDestroy()
    } catch {
      raw.destroy(error) // not a TCP handle (a pipe): no reset to send
    }
  }

  remoteAddress (raw: Socket): RemoteAddress {
    const host = raw.remoteAddress
    const port = raw.remotePort
    // Both come from one getpeername(): set together, or neither (a socket not connected).
    if (
      // Stryker disable next-line LogicalOperator,ConditionalExpression: either half alone decides; `false` for the whole condition is killed by the tests, hidden by this comment
      host === undefined || port === undefined
    ) {
      return { multiaddr: '/tcp/0' }
    }
    return toMultiaddr(host, port)
  }

  onClose (raw: Socket, listener: (error?: Error) => void): void {
    let failure: Error | undefined
    raw.on('error', error => { failure = error })
    if (raw.destroyed) {
      queueMicrotask(() => { listener(failure) })
      return
    }
    raw.once('close', () => { listener(failure) })
  }
}

/**
 * Creates the TCP transport.
 *
 * @param options - local address for dials, listen backlog, IPv6-only listeners
 *
 * @example
 * ```ts
 * import { tcp } from '@cm/manager/tcp'
 *
 * // Outgoing connections from a chosen loopback address.
 * const transport = tcp({ localAddress: '127.0.0.2' })
 * ```
 */
export function tcp (options: TcpOptions = {}): Transport<Socket> {
  return new TcpTransport(options)
}
