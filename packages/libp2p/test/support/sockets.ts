import { connect, createServer } from 'node:net'
import type { Server, Socket } from 'node:net'

/**
 * Raw TCP on loopback that never speaks: a server that accepts and stalls (a dial to it
 * never finishes its handshake), and clients that connect and stall (an inbound
 * connection that never finishes its upgrade). `closeSockets()` (in `afterEach`) ends them.
 */
const servers: Server[] = []
const sockets: Socket[] = []

/** A server on 127.0.0.1 that accepts connections and never answers; resolves with its port. */
export async function stallingServer (): Promise<{ port: number, accepted: () => number }> {
  let accepted = 0
  const server = createServer(socket => {
    accepted++
    sockets.push(socket)
    socket.on('error', () => undefined)
  })
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the server has no TCP address')
  return { port: address.port, accepted: () => accepted }
}

/** A client that connects to 127.0.0.1:`port` and never sends a byte; resolves with when it closed, in ms. */
export function stallingClient (port: number): { closedAfter: Promise<number> } {
  const started = Date.now()
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket)
  socket.on('error', () => undefined)
  return { closedAfter: new Promise(resolve => socket.once('close', () => { resolve(Date.now() - started) })) }
}

/** Ends every socket and server made since the last call. */
export async function closeSockets (): Promise<void> {
  for (const socket of sockets.splice(0)) socket.destroy()
  await Promise.all(servers.splice(0).map(async server => { await new Promise(resolve => server.close(resolve)) }))
}
