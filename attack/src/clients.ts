/**
 * The hostile clients (and the good one), run by the runner in its own process. Every
 * socket binds a loopback source address (`127.x.y.z`), so that many hosts can be played
 * from one machine; nothing here ever connects to anything but 127.0.0.1.
 */
import { connect } from 'node:net'
import type { Socket } from 'node:net'

/** The server's address: loopback only. */
export const SERVER_HOST = '127.0.0.1'

/** A loopback source address of the block `a` (127.a.x.y), the n-th from 1. */
export function sourceAddress (block: number, index: number): string {
  const n = index + 1
  return `127.${block}.${(n >>> 8) & 0xff}.${n & 0xff}`
}

/**
 * How a connection ended, as the client saw it: `served` (the server answered), `reset`
 * (ECONNRESET: refused, or closed by a reset), `closed` (a clean close before any answer),
 * `failed` (another error, such as ECONNREFUSED) or `timeout` (no answer in time).
 */
export type Ending = 'served' | 'reset' | 'closed' | 'failed' | 'timeout'

/**
 * Connects from `from`, says hello when `hello`, and resolves when the server answers
 * (`served`: the socket is returned, open) or closes or resets the connection first
 * (`refused`), or after `timeoutMs` (also `refused`; the socket is reset).
 */
export async function attempt (port: number, from: string, options: { readonly hello: boolean, readonly timeoutMs: number }): Promise<{ ending: Ending, socket: Socket }> {
  return await new Promise(resolve => {
    const socket = connect({ host: SERVER_HOST, port, localAddress: from, noDelay: true })
    let settled = false
    let failure: Ending = 'closed'
    const settle = (ending: Ending): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.removeListener('data', onData)
      if (ending !== 'served' && !socket.destroyed) socket.resetAndDestroy()
      resolve({ ending, socket })
    }
    const onData = (): void => { settle('served') }
    const timer = setTimeout(() => { settle('timeout') }, options.timeoutMs)
    socket.on('error', (error: NodeJS.ErrnoException) => { failure = error.code === 'ECONNRESET' ? 'reset' : 'failed' })
    socket.once('close', () => { settle(failure) })
    socket.once('data', onData)
    if (options.hello) socket.once('connect', () => { socket.write('hello\n') })
  })
}

/** Whether an ending means the server refused or dropped the connection. */
export function refused (ending: Ending): boolean {
  return ending === 'reset' || ending === 'closed'
}

/**
 * A good client: connects, says hello at once (the handshake completes as soon as the server
 * reads it), and counts as served if `welcome` arrives within `timeoutMs`. It then resets
 * its socket (no TIME_WAIT left behind).
 */
export async function goodClient (port: number, from: string, timeoutMs = 2_000): Promise<Ending> {
  const { ending, socket } = await attempt(port, from, { hello: true, timeoutMs })
  if (!socket.destroyed) socket.resetAndDestroy()
  return ending
}

/**
 * Opens a connection and keeps it: says hello when `hello` (or never, to hold a pending slot),
 * reads nothing when `read` is false (`pause()`: the kernel's buffers fill and stay full).
 * Resolves when the server closes or resets it, or when `until` aborts (the client then
 * resets it).
 */
export async function hold (port: number, from: string, options: { readonly hello: boolean, readonly read: boolean, readonly until: AbortSignal }): Promise<void> {
  if (options.until.aborted) return
  await new Promise<void>(resolve => {
    const socket = connect({ host: SERVER_HOST, port, localAddress: from, noDelay: true })
    const onAbort = (): void => { socket.resetAndDestroy() }
    socket.on('error', () => {})
    socket.once('close', () => {
      options.until.removeEventListener('abort', onAbort)
      resolve()
    })
    options.until.addEventListener('abort', onAbort, { once: true })
    if (options.hello) socket.once('connect', () => { socket.write('hello\n') })
    if (options.read) socket.resume()
    else socket.pause()
  })
}

/** Connects and resets at once (RST), possibly before the server has accepted. */
export async function resetAtOnce (port: number, from: string): Promise<void> {
  await new Promise<void>(resolve => {
    const socket = connect({ host: SERVER_HOST, port, localAddress: from })
    socket.on('error', () => {})
    socket.once('connect', () => { socket.resetAndDestroy() })
    socket.once('close', () => { resolve() })
  })
}

/**
 * Runs `worker` in `parallel` loops until `until` aborts or `count` runs have started;
 * resolves with the number of runs. Bounded in count and in time.
 */
export async function loops (parallel: number, count: number, until: AbortSignal, worker: (run: number) => Promise<void>): Promise<number> {
  let started = 0
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (!until.aborted && started < count) {
      await worker(started++)
    }
  }))
  return started
}

/** Resolves after `ms`. */
export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
