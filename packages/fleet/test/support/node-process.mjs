/* global process, AbortSignal */
// One fleet node in a process of its own: a @cm/manager over TCP on 127.0.0.1 with a fleet
// attached, driven by its parent over IPC. Uses the built package (dist/), as a user would.
import { createConnectionManager } from '@cm/manager'
import { tcp } from '@cm/manager/tcp'
import { createFleet } from '../../dist/index.js'

const { url, node } = JSON.parse(process.argv[2] ?? '{}')
const manager = createConnectionManager({
  transport: tcp(),
  config: { inboundConnectionThreshold: 1_000, maxIncomingPendingConnections: 100 },
  onConnection: connection => { connection.raw.end('ok') }
})
const fleet = createFleet({ redis: { url }, node, syncIntervalMs: 50, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } })
fleet.attach(manager)
await manager.start()
const listener = await manager.listen('/ip4/127.0.0.1/tcp/0')
const states = []
fleet.events.addEventListener('fleet:state', event => { states.push(event.detail.state) })

process.on('message', async message => {
  try {
    let reply
    if (message.command === 'start') {
      await fleet.start({ signal: AbortSignal.timeout(10_000) })
    } else if (message.command === 'deny') {
      // With Redis away the write waits for it: answer at once, the ban is already enforced here.
      const written = fleet.deny(message.entry, message.ttl === undefined ? {} : { ttl: message.ttl })
      written.catch(() => {})
      reply = message.wait === false ? undefined : await written
    } else if (message.command === 'metrics') {
      reply = { ...fleet.metrics(), states }
    } else if (message.command === 'exit') {
      await fleet.stop()
      await manager.stop()
      process.exit(0)
    }
    process.send({ id: message.id, ok: true, reply })
  } catch (error) {
    process.send({ id: message.id, ok: false, error: String(error) })
  }
})
process.send({ ready: true, port: Number(listener.addresses[0]?.split('/')[4]) })
