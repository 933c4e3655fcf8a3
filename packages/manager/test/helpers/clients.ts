import { connect, createServer } from 'node:net'
import type { Server, Socket } from 'node:net'

/** A loopback client socket and what became of it. */
export interface Client {
  readonly socket: Socket
  /** Resolves once connected (or rejects if the connection failed). */
  readonly connected: Promise<void>
  /** Resolves when the socket closes, with whether the server reset or closed it. */
  readonly closed: Promise<void>
  /** Lines the server sent. */
  readonly lines: string[]
}

/**
 * Opens a TCP connection from a chosen loopback source address (`127.x.y.z` or `::1`),
 * optionally sending a line first (the test upgrade's handshake).
 */
export function client (port: number, options: { host?: string, localAddress?: string, send?: string } = {}): Client {
  const host = options.host ?? '127.0.0.1'
  const socket = connect({ port, host, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) })
  socket.on('error', () => {})
  const lines: string[] = []
  let buffer = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    buffer += chunk
    let index
    while ((index = buffer.indexOf('\n')) !== -1) {
      lines.push(buffer.slice(0, index))
      buffer = buffer.slice(index + 1)
    }
  })
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      if (options.send !== undefined) socket.write(`${options.send}\n`)
      resolve()
    })
    socket.once('error', reject)
  })
  connected.catch(() => {})
  const closed = new Promise<void>(resolve => { socket.once('close', () => { resolve() }) })
  return { socket, connected, closed, lines }
}

/** Reads the first line a socket sends (the test upgrade's handshake). */
export async function readLine (socket: Socket, signal: AbortSignal): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    let buffer = ''
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8')
      const index = buffer.indexOf('\n')
      if (index !== -1) {
        cleanup()
        socket.pause()
        const rest = buffer.slice(index + 1)
        if (rest !== '') socket.unshift(Buffer.from(rest))
        resolve(buffer.slice(0, index))
      }
    }
    const onEnd = (): void => { cleanup(); reject(new Error('closed before the handshake')) }
    const onAbort = (): void => { cleanup(); reject(signal.reason) }
    const cleanup = (): void => {
      socket.removeListener('data', onData)
      socket.removeListener('end', onEnd)
      socket.removeListener('close', onEnd)
      signal.removeEventListener('abort', onAbort)
    }
    if (signal.aborted) { reject(signal.reason); return }
    socket.on('data', onData)
    socket.once('end', onEnd)
    socket.once('close', onEnd)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** A plain TCP server on loopback, for the manager to dial. */
export async function plainServer (onConnection: (socket: Socket) => void, options: { port?: number, allowHalfOpen?: boolean } = {}): Promise<{ server: Server, port: number, sockets: Set<Socket>, close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer({ allowHalfOpen: options.allowHalfOpen ?? false }, socket => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('close', () => { sockets.delete(socket) })
    onConnection(socket)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => { resolve() })
  })
  const port = (server.address() as { port: number }).port
  let closing: Promise<void> | undefined
  return {
    server,
    port,
    sockets,
    close: async () => {
      closing ??= new Promise<void>(resolve => {
        for (const socket of sockets) socket.destroy()
        server.close(() => { resolve() })
      })
      await closing
    }
  }
}

/** The port of a `/ip4/…/tcp/<port>` address. */
export function portOf (address: string | undefined): number {
  return Number(address?.split('/')[4])
}

/** Waits until `predicate` holds, polling, or fails after `timeoutMs`. */
export async function until (predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}
