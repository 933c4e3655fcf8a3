import { readdirSync, readFileSync } from 'node:fs'

/** The states of TCP sockets as `/proc/net/tcp` numbers them. */
const STATES: Readonly<Record<string, string>> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
  '0C': 'NEW_SYN_RECV'
}

/** One socket of the kernel's table. */
export interface KernelSocket {
  /** `ESTABLISHED`, `FIN_WAIT1`, ... */
  readonly state: string
  /** The local address, written as {@link KernelSocket.remoteAddress} is. */
  readonly localAddress: string
  readonly localPort: number
  /** The remote address: dotted quad for IPv4 (and IPv4-mapped IPv6), hex words otherwise. */
  readonly remoteAddress: string
  readonly remotePort: number
  /** Bytes in the send queue: written by the process, not yet acknowledged by the peer. */
  readonly sendQueue: number
}

/** What the kernel holds for a listening port, LISTEN itself left out. */
export interface KernelCount {
  /** Sockets whose local port is the port, in any state but LISTEN. */
  readonly sockets: number
  /** Bytes in their send queues. */
  readonly sendQueue: number
  /** Sockets by state. */
  readonly byState: Readonly<Record<string, number>>
}

/** Reads an IPv4 address from `/proc/net/tcp` hex (host byte order, little-endian here). */
function ipv4 (hex: string): string {
  const value = Number.parseInt(hex, 16)
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24].join('.')
}

/** Reads an address from `/proc/net/tcp6` hex: IPv4-mapped ones as dotted quads. */
function ipv6 (hex: string): string {
  if (hex.startsWith('0000000000000000FFFF0000')) {
    return ipv4(hex.slice(24))
  }
  return hex.toLowerCase()
}

/**
 * Parses the text of `/proc/net/tcp` or `/proc/net/tcp6`.
 *
 * @param text - the file's text
 * @param family - 4 for `tcp`, 6 for `tcp6`
 */
export function parseProcNetTcp (text: string, family: 4 | 6): KernelSocket[] {
  const sockets: KernelSocket[] = []
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields.length < 5) continue
    const [local = '', remote = '', state = '', queues = ''] = fields.slice(1, 5)
    const [localHex = '', localPort = '0'] = local.split(':')
    const [remoteHex = '', remotePort = '0'] = remote.split(':')
    sockets.push({
      state: STATES[state] ?? state,
      localAddress: family === 4 ? ipv4(localHex) : ipv6(localHex),
      localPort: Number.parseInt(localPort, 16),
      remoteAddress: family === 4 ? ipv4(remoteHex) : ipv6(remoteHex),
      remotePort: Number.parseInt(remotePort, 16),
      sendQueue: Number.parseInt(queues.split(':')[0] ?? '0', 16)
    })
  }
  return sockets
}

/** Every TCP socket of this network namespace (IPv4 and IPv6). */
export function kernelSockets (): KernelSocket[] {
  return [
    ...parseProcNetTcp(readFileSync('/proc/net/tcp', 'utf8'), 4),
    ...parseProcNetTcp(readFileSync('/proc/net/tcp6', 'utf8'), 6)
  ]
}

/** The address every server of the suite listens on. */
const SERVER_HOST = '127.0.0.1'

/**
 * Counts the server-side sockets the kernel holds for a port: its local address is the
 * servers' (127.0.0.1) and its local port is `port` (a client of another process may bind
 * another 127.x.y.z to the same port number, and is not the server's), in any state but
 * LISTEN (connections queued in the backlog, open ones, closing ones, those
 * Node has let go of that the kernel still holds: FIN_WAIT, TIME_WAIT), and their unsent
 * bytes. A `remote` filter keeps those from some peers only.
 *
 * @param port - the listening port
 * @param remote - keeps sockets whose remote address it accepts
 */
export function countKernelSockets (port: number, remote?: (address: string) => boolean): KernelCount {
  const byState: Record<string, number> = {}
  let sockets = 0
  let sendQueue = 0
  for (const socket of kernelSockets()) {
    if (socket.localPort !== port || socket.localAddress !== SERVER_HOST || socket.state === 'LISTEN' || (remote !== undefined && !remote(socket.remoteAddress))) continue
    sockets++
    sendQueue += socket.sendQueue
    byState[socket.state] = (byState[socket.state] ?? 0) + 1
  }
  return { sockets, sendQueue, byState }
}

/**
 * The CPU time a process has used, in seconds: the time its threads have run, summed over
 * `/proc/<pid>/task/<tid>/schedstat` (nanoseconds, where `/proc/<pid>/stat` counts 10 ms
 * ticks, too coarse for rounds of a second).
 *
 * @param pid - the process
 */
export function processCpuSeconds (pid: number): number {
  let ns = 0
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // A thread that ended between the listing and the read: its time is lost with it.
    }
  }
  return ns / 1e9
}
