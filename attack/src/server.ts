/**
 * The server under attack, in a process of its own: a `net.Server` whose sockets go through
 * `manager.accept()` (mode `managed`), or that accepts and resets every socket (mode `bare`,
 * the baseline for refusals per second). It counts the sockets it holds itself, outside the
 * manager, and answers the runner over IPC.
 *
 * The handshake reads one line (`hello\n`); an open connection is sent `welcome\n`, then
 * `payloadBytes` more, and is closed by the server after `closeAfterMs` if set.
 */
import { createServer } from 'node:net'
import { createConnectionManager } from '@cm/manager'
import { tcp } from '@cm/manager/tcp'
import type { ServerOptions, ServerReply, ServerRequest, ServerStats } from './protocol.ts'
import type { ConnectionManager } from '@cm/manager'
import type { Socket } from 'node:net'

const options = JSON.parse(process.argv[2] ?? '{}') as ServerOptions

/** Reads the handshake line, or rejects when the signal aborts or the socket closes. */
async function readHello (socket: Socket, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    let text = ''
    const done = (error?: Error): void => {
      socket.removeListener('data', onData)
      socket.removeListener('close', onClose)
      signal.removeEventListener('abort', onAbort)
      socket.pause()
      if (error === undefined) resolve()
      else reject(error)
    }
    const onData = (data: Buffer): void => {
      text += data.toString('latin1')
      if (text.includes('\n')) done()
      else if (text.length > 64) done(new Error('handshake too long'))
    }
    const onClose = (): void => { done(new Error('closed during the handshake')) }
    const onAbort = (): void => { done(signal.reason instanceof Error ? signal.reason : new Error('aborted')) }
    socket.on('data', onData)
    socket.once('close', onClose)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

const payload = Buffer.alloc(options.payloadBytes ?? 0, 0x61)
const manager: ConnectionManager<Socket> | undefined = options.mode === 'bare'
  ? undefined
  : createConnectionManager({
    transport: tcp(),
    config: options.config,
    upgrade: async (socket, { signal }) => { await readHello(socket, signal) },
    onConnection: connection => {
      connection.raw.write('welcome\n')
      if (payload.length > 0) connection.raw.write(payload)
      if (options.closeAfterMs !== undefined) {
        setTimeout(() => { void connection.close() }, options.closeAfterMs)
      }
    },
    onListenerError: () => {}
  })

// Sockets accepted and not yet destroyed: counted here, not by the manager.
const held = new Set<Socket>()
let peakHeld = 0
let accepted = 0
const server = createServer({ noDelay: true }, socket => {
  accepted++
  socket.on('error', () => {})
  // The same bookkeeping in both modes, so that refusals per second compare the manager
  // with the bare server, not this harness with itself.
  held.add(socket)
  if (manager === undefined) {
    socket.resetAndDestroy()
  } else {
    void manager.accept(socket)
  }
  // A refused socket was destroyed synchronously.
  if (socket.destroyed) {
    held.delete(socket)
    return
  }
  socket.once('close', () => { held.delete(socket) })
  // The set still holds sockets destroyed whose 'close' has not come yet (a pending one
  // evicted just now): they are not counted.
  if (held.size > peakHeld) peakHeld = Math.max(peakHeld, liveSockets())
})

function liveSockets (): number {
  let live = 0
  for (const socket of held) {
    if (!socket.destroyed) live++
  }
  return live
}
server.on('error', () => {})

function heapAfterGc (): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) return Number.NaN
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

function stats (): ServerStats {
  const metrics = manager?.metrics()
  return {
    held: liveSockets(),
    peakHeld,
    accepted,
    heapUsed: heapAfterGc(),
    refused: metrics === undefined ? 0 : Object.values(metrics.refused).reduce((sum, count) => sum + count, 0),
    refusedBy: metrics === undefined ? {} : Object.fromEntries(Object.entries(metrics.refused).filter(([, count]) => count > 0)),
    opened: metrics?.opened.inbound ?? 0,
    evicted: metrics?.pendingInbound.evicted ?? 0,
    closeTimeouts: metrics?.closeTimeouts ?? 0,
    tracked: manager?.connections.count() ?? 0
  }
}

process.on('message', (request: ServerRequest) => {
  void (async () => {
    let reply: ServerReply
    switch (request.type) {
      case 'stats':
        reply = { id: request.id, stats: stats() }
        break
      case 'reset-peak':
        peakHeld = liveSockets()
        reply = { id: request.id }
        break
      case 'deny':
        reply = { id: request.id, closed: manager?.deny(request.entry) ?? 0 }
        break
      case 'stop':
        await manager?.stop()
        server.close()
        reply = { id: request.id }
        break
    }
    process.send?.(reply)
    if (request.type === 'stop') process.disconnect()
  })()
})
process.on('disconnect', () => { process.exit(0) })

await manager?.start()
server.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, () => {
  const address = server.address()
  process.send?.({ id: 0, port: typeof address === 'object' && address !== null ? address.port : 0 } satisfies ServerReply)
})
