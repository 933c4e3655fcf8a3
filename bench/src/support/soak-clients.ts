/**
 * The far side of the soak run, in a process of its own, driven by IPC:
 * - `{ type: 'listen', ports }`: starts `ports` servers on 127.0.0.1 for the manager to dial;
 *   each writes one byte to a new connection (the manager's outbound handshake reads it) and
 *   resets the connection once the manager closes its side (so neither side keeps a
 *   TIME_WAIT socket). Answers `{ ports: number[] }`.
 * - `{ type: 'inbound', port, count, parallel }`: runs `count` connections to the manager from
 *   1,000 loopback source addresses (127.20.x.y): connect, say `hello`, wait for the answer,
 *   reset. Answers `{ served }`.
 */
import { connect, createServer } from 'node:net'
import type { Server } from 'node:net'

type Job =
  | { readonly type: 'listen', readonly ports: number }
  | { readonly type: 'inbound', readonly port: number, readonly count: number, readonly parallel: number }

const servers: Server[] = []

async function inbound (port: number, index: number): Promise<boolean> {
  return await new Promise(resolve => {
    const n = (index % 1_000) + 1
    const socket = connect({ port, host: '127.0.0.1', localAddress: `127.20.${n >>> 8}.${n & 0xff}` })
    let served = false
    socket.on('error', () => {})
    socket.once('connect', () => { socket.write('hello\n') })
    socket.once('data', () => { served = true; socket.resetAndDestroy() })
    socket.once('close', () => { resolve(served) })
  })
}

async function listen (): Promise<number> {
  const server = createServer(socket => {
    socket.on('error', () => {})
    socket.write('w')
    socket.once('end', () => { socket.resetAndDestroy() })
    socket.resume()
  })
  servers.push(server)
  await new Promise<void>(resolve => { server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, resolve) })
  return (server.address() as { port: number }).port
}

process.on('message', (job: Job) => {
  void (async () => {
    if (job.type === 'listen') {
      const ports: number[] = []
      for (let index = 0; index < job.ports; index++) ports.push(await listen())
      process.send?.({ ports })
      return
    }
    let next = 0
    let served = 0
    await Promise.all(Array.from({ length: job.parallel }, async () => {
      while (next < job.count) {
        if (await inbound(job.port, next++)) served++
      }
    }))
    process.send?.({ served })
  })()
})
process.on('disconnect', () => {
  for (const server of servers) server.close()
  process.exit(0)
})
