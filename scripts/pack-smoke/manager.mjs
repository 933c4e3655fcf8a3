// Smoke test of @cm/manager installed alone (with its @cm dependencies): the README's quick
// start over real loopback TCP. Valid as ESM JavaScript and as TypeScript.
import { createConnectionManager, DialDeniedError } from '@cm/manager'
import { tcp } from '@cm/manager/tcp'

const greeted = []
const manager = createConnectionManager({
  transport: tcp(),
  config: { maxConnections: 10, denyList: ['192.0.2.0/24'] },
  onConnection: connection => { greeted.push(connection.id) }
})
await manager.start()
const listener = await manager.listen('/ip4/127.0.0.1/tcp/0')
const client = await manager.dial(listener.addresses[0] ?? '')
const open = manager.metrics().connections.open
if (open.outbound !== 1 || open.inbound !== 1 || greeted.length !== 2) {
  throw new Error(`expected one connection each way, got ${JSON.stringify(open)}`)
}
let refused = false
try {
  await manager.dial('/ip4/192.0.2.1/tcp/1')
} catch (error) {
  refused = DialDeniedError.isInstance(error)
}
if (!refused) {
  throw new Error('a denied dial was not refused')
}
await client.close()
await manager.stop()
if (manager.connections.size !== 0) {
  throw new Error('connections left after stop()')
}
console.log('@cm/manager ok')
