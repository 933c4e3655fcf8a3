/**
 * The loopback network the examples play on: a managed TCP server (`@cm/manager` with
 * `tcp()`), clients that connect from chosen source addresses (`127.x.y.z`, `::1`) to play
 * many hosts, a one-line handshake that tells each side the other's peer ID, and a log of
 * the server's verdicts per host.
 */
import { createHash } from 'node:crypto'
import { on } from 'node:events'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { createConnectionManager } from '@cm/manager'
import { tcp } from '@cm/manager/tcp'
import { until } from './report.ts'
import type { ConnectionDenyDetail, ConnectionManager, ConnectionManagerInit, RefusalReason, Upgrade } from '@cm/manager'
import type { ConnectionRecord } from '@cm/state'
import type { Socket } from 'node:net'

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const names = new Map<string, string>()

function base58 (bytes: Uint8Array): string {
  let value = BigInt(`0x${Buffer.from(bytes).toString('hex')}`)
  let text = ''
  while (value > 0n) {
    text = BASE58[Number(value % 58n)]! + text
    value /= 58n
  }
  for (const byte of bytes) {
    if (byte !== 0) break
    text = `1${text}`
  }
  return text
}

/**
 * A valid libp2p peer ID (`12D3KooW…`, an Ed25519 key inlined with the identity hash) made
 * from a name, the same on every run, so the examples print and deny stable peer IDs.
 */
export function peerIdOf (name: string): string {
  const key = createHash('sha256').update(name).digest()
  const id = base58(Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...key]))
  names.set(id, name)
  return id
}

/** The name a peer ID was made from (`alice`), or the ID shortened. */
export function nameOf (peer: string | undefined): string {
  if (peer === undefined) return '(no peer)'
  return names.get(peer) ?? `${peer.slice(0, 10)}…${peer.slice(-4)}`
}

/**
 * Reads the first line a socket sends. What follows is not kept: the examples' connections
 * carry nothing after the handshake, and the socket keeps reading so that it sees the
 * remote's close.
 */
async function readLine (socket: Socket, signal: AbortSignal): Promise<string> {
  let text = ''
  for await (const [chunk] of on(socket, 'data', { signal, close: ['end', 'close'] }) as AsyncIterableIterator<[Buffer]>) {
    text += chunk.toString('utf8')
    const end = text.indexOf('\n')
    if (end !== -1) return text.slice(0, end)
  }
  throw new Error('closed before the handshake')
}

/**
 * A one-line handshake: each side sends its peer ID on a line and reads the other's. Until
 * the remote's line arrives the connection is pending; the manager bounds that wait with
 * `inboundUpgradeTimeout` (inbound) or `dialTimeout` (outbound).
 */
export function peerHandshake (ownPeer: string): Upgrade<Socket> {
  return async (socket, { signal }) => {
    socket.write(`${ownPeer}\n`)
    const line = await readLine(socket, signal)
    return line === '' ? {} : { peer: line }
  }
}

/** A plain TCP client from one loopback source address, and what became of it. */
export interface Client {
  /** The source address it connects from (`127.0.1.2`, `::1`). */
  readonly from: string
  readonly socket: Socket
  /** Lines the server sent (its peer ID line, if it runs the handshake). */
  readonly lines: string[]
  /** Resolves when the socket has closed (the server reset or closed it, or we did). */
  readonly closed: Promise<void>
}

/**
 * Opens a TCP connection to `port` from the source address `from`. With `peer`, the client
 * sends its peer ID line at once (the handshake of {@link peerHandshake}); without it, it
 * sends nothing: a stalling client, if the server waits for a handshake.
 */
export function connectFrom (from: string, port: number, options: { peer?: string | undefined } = {}): Client {
  const host = from.includes(':') ? '::1' : '127.0.0.1'
  const socket = connect({ port, host, localAddress: from })
  socket.on('error', () => {}) // a refused connection is reset: expected here
  const lines: string[] = []
  createInterface({ input: socket }).on('line', line => { lines.push(line) }).on('error', () => {})
  if (options.peer !== undefined) {
    const peer = options.peer
    socket.once('connect', () => { socket.write(`${peer}\n`) })
  }
  const closed = new Promise<void>(resolve => { socket.once('close', () => { resolve() }) })
  return { from, socket, lines, closed }
}

/** The server's verdict on one inbound attempt. */
export type Verdict =
  | { readonly admitted: true, readonly id: number, readonly record: ConnectionRecord }
  | { readonly admitted: false, readonly reason: RefusalReason, readonly rule: string | undefined, readonly retryAfterMs: number | undefined }

/** Prints a verdict: `admitted (#3)` or `refused: rate-limit, retry in 334 ms`. */
export function describeVerdict (verdict: Verdict): string {
  if (verdict.admitted) return `admitted (#${verdict.id})`
  const rule = verdict.rule === undefined ? '' : ` (rule ${verdict.rule})`
  const retry = verdict.retryAfterMs === undefined ? '' : `, retry in ${verdict.retryAfterMs} ms`
  return `refused: ${verdict.reason}${rule}${retry}`
}

/**
 * Whether a `connection:deny` is about a connection the manager already holds (a new deny
 * rule closing it) rather than a refused attempt: the connection is still tracked when the
 * event is dispatched.
 */
export function isHeld (manager: ConnectionManager<Socket>, detail: ConnectionDenyDetail): boolean {
  return detail.remoteIp !== undefined && manager.connections.list({ host: detail.remoteIp }).some(record => record.remoteAddress === detail.remoteAddress)
}

/** A managed TCP server on loopback, with its verdicts logged per source host. */
export interface Server {
  readonly manager: ConnectionManager<Socket>
  /** The port it listens on (on `127.0.0.1`, and on `::1` when asked). */
  readonly port: number
  /** Every client opened through {@link Server.attempt} (destroyed by {@link Server.stop}). */
  readonly clients: Client[]
  /** The inbound verdicts so far, per remote IP, in order. */
  verdicts (ip: string): readonly Verdict[]
  /** Every inbound verdict so far, in order. */
  allVerdicts (): ReadonlyArray<{ readonly ip: string, readonly verdict: Verdict }>
  /**
   * Connects from `from` and waits for the server's verdict on that attempt (one attempt
   * per host at a time: the verdict is the host's next one).
   */
  attempt (from: string, options?: { peer?: string | undefined }): Promise<{ client: Client, verdict: Verdict }>
  /** Connects from `from` without waiting (for bursts); see {@link Server.verdicts}. */
  connect (from: string, options?: { peer?: string | undefined }): Client
  /** Stops the manager and destroys every client socket still open. */
  stop (): Promise<void>
}

/**
 * Starts a connection manager over `tcp()` and listens on `127.0.0.1` (and `::1` with
 * `ipv6: true`, on the same port), port chosen by the system.
 */
export async function startServer (init: Omit<ConnectionManagerInit<Socket>, 'transport'> & { readonly ipv6?: boolean }): Promise<Server> {
  const { ipv6, ...rest } = init
  const manager = createConnectionManager({ ...rest, transport: tcp() })
  const byIp = new Map<string, Verdict[]>()
  const all: Array<{ ip: string, verdict: Verdict }> = []
  const record = (ip: string | undefined, verdict: Verdict): void => {
    if (ip === undefined) return
    let list = byIp.get(ip)
    if (list === undefined) byIp.set(ip, list = [])
    list.push(verdict)
    all.push({ ip, verdict })
  }
  manager.events.addEventListener('connection:pending', event => {
    const { connection } = event.detail
    if (connection.direction === 'inbound') record(connection.remoteIp, { admitted: true, id: connection.id, record: connection })
  })
  manager.events.addEventListener('connection:deny', event => {
    const detail: ConnectionDenyDetail = event.detail
    // Only refusals at accept are verdicts on an attempt. A peer denied after the handshake,
    // or an open connection closed by a new deny rule, is a connection already admitted.
    if (detail.direction === 'inbound' && detail.reason !== 'peer-denied' && !isHeld(manager, detail)) {
      record(detail.remoteIp, { admitted: false, reason: detail.reason, rule: detail.rule, retryAfterMs: detail.retryAfterMs })
    }
  })
  await manager.start()
  const listener = await manager.listen('/ip4/127.0.0.1/tcp/0')
  const port = Number(listener.addresses[0]?.split('/')[4])
  if (ipv6 === true) {
    await manager.listen(`/ip6/::1/tcp/${port}`)
  }
  const clients: Client[] = []
  const open = (from: string, options: { peer?: string | undefined } = {}): Client => {
    const client = connectFrom(from, port, options)
    clients.push(client)
    return client
  }
  return {
    manager,
    port,
    clients,
    verdicts: ip => byIp.get(ip) ?? [],
    allVerdicts: () => all,
    connect: open,
    attempt: async (from, options = {}) => {
      const before = byIp.get(from)?.length ?? 0
      const client = open(from, options)
      await until(() => (byIp.get(from)?.length ?? 0) > before, `the server's verdict on a connection from ${from}`)
      return { client, verdict: byIp.get(from)![before]! }
    },
    stop: async () => {
      await manager.stop()
      for (const client of clients) client.socket.destroy()
      await Promise.all(clients.map(async client => { await client.closed }))
    }
  }
}
