/**
 * Example: tracking the connections of a TCP server on loopback with @cm/state, counting them
 * in O(1), listening to their events, and serving the JSON snapshot a monitoring endpoint
 * would.
 *
 * Run: pnpm --filter @cm/examples state
 */
import { connect, createServer } from 'node:net'
import { once } from 'node:events'
import { createConnectionTracker } from '@cm/state'
import type { Socket } from 'node:net'

const tracker = createConnectionTracker<{ socket: Socket }>({
  connectionHistorySize: 10,
  onListenerError: error => { console.log(`a listener failed (${(error as Error).message}); the tracker carries on`) }
})
tracker.events.addEventListener('connection:open', event => {
  const { connection } = event.detail
  console.log(`open   #${connection.id} from ${connection.remoteIp} (${tracker.count({ state: 'open' })} open)`)
})
tracker.events.addEventListener('connection:close', event => {
  const { connection, previous } = event.detail
  console.log(`close  #${connection.id} from ${previous}: ${connection.closeReason} (${tracker.count({ state: 'open' })} open)`)
})
// A buggy listener: its error goes to onListenerError, nothing else is affected.
tracker.events.addEventListener('connection:pending', () => { throw new Error('a bug in a listener') })

const server = createServer(socket => {
  // Accepted: pending until the (here empty) handshake is done, then open.
  const record = tracker.add({
    direction: 'inbound',
    remoteAddress: `/ip4/${socket.remoteAddress ?? '0.0.0.0'}/tcp/${socket.remotePort ?? 0}`,
    remoteIp: socket.remoteAddress ?? '0.0.0.0',
    metadata: { socket }
  })
  tracker.open(record.id)
  socket.on('error', () => {})
  socket.on('close', () => { tracker.close(record.id, 'remote') })
})
server.listen(0, '127.0.0.1')
await once(server, 'listening')
const { port } = server.address() as { port: number }

const clients = await Promise.all([1, 2, 3].map(async () => {
  const client = connect(port, '127.0.0.1')
  await once(client, 'connect')
  return client
}))
while (tracker.count({ state: 'open' }) < 3) await new Promise(resolve => setTimeout(resolve, 5))
console.log(`\nFrom 127.0.0.1: ${tracker.count({ host: '127.0.0.1' })} connections; inbound open: ${tracker.count({ state: 'open', direction: 'inbound' })}`)

// The server closes the oldest one itself, gracefully.
const [oldest] = tracker.list({ state: 'open' })
if (oldest !== undefined) {
  tracker.closing(oldest.id, 'pruned')
  oldest.metadata?.socket.end()
}
for (const client of clients) client.end()
while (tracker.size > 0) await new Promise(resolve => setTimeout(resolve, 5))
server.close()

const snapshot = tracker.snapshot()
console.log(`\nSnapshot: ${JSON.stringify({ connections: snapshot.connections.total, closed: snapshot.closed.total, byReason: snapshot.closed.byReason })}`)
