/**
 * Example: connection state monitoring over real sockets. Connections go through pending,
 * open, closing and closed on a @cm/manager TCP server, inbound and outbound, and the
 * example prints every event as it arrives, queries the tracker (`count`, `list`), prints
 * each connection's timeline, and the JSON snapshot a monitoring endpoint would serve.
 *
 * Run: pnpm --filter @cm/examples state-monitoring
 */
import { nameOf, peerHandshake, peerIdOf, startServer } from './support/network.ts'
import { Report, stamp, until } from './support/report.ts'
import type { Server } from './support/network.ts'
import type { ConnectionRecord } from '@cm/state'

const report = new Report('Connection state monitoring', [
  'A @cm/manager TCP server ("server", 127.0.0.1) with a one-line peer ID handshake and',
  'inboundUpgradeTimeout: 1000 ms. alice (127.0.6.1) and bob (127.0.6.2) connect, a client from',
  '127.0.6.3 connects and never sends its handshake, and the server dials another node ("relay").'
])

const labels = new Map([['127.0.6.1', 'alice'], ['127.0.6.2', 'bob'], ['127.0.6.3', 'staller'], ['127.0.0.1', 'relay']])
const label = (record: ConnectionRecord): string => labels.get(record.remoteIp ?? '') ?? `#${record.id}`
let server: Server | undefined
let relay: Server | undefined

await report.run(async () => {
  relay = await startServer({ upgrade: peerHandshake(peerIdOf('relay')) })
  server = await startServer({
    config: { inboundUpgradeTimeout: 1_000 },
    upgrade: peerHandshake(peerIdOf('server'))
  })
  const { manager } = server
  const tracker = manager.connections

  // Every lifecycle event, printed as it arrives, and kept in order for the test.
  const events: string[] = []
  for (const type of ['connection:pending', 'connection:open', 'connection:closing', 'connection:close'] as const) {
    manager.events.addEventListener(type, event => {
      const { connection, previous } = event.detail
      const name = type.slice('connection:'.length)
      const reason = type === 'connection:closing' || type === 'connection:close' ? ` (${connection.closeReason})` : ''
      events.push(`${label(connection)}:${name}${reason === '' ? '' : `:${connection.closeReason}`}`)
      report.line(`${stamp()}  ${type.padEnd(18)} ${label(connection).padEnd(8)} ${connection.direction.padEnd(8)} ${previous ?? '-'} -> ${connection.state}${reason}   [pending ${tracker.count({ state: 'pending' })}, open ${tracker.count({ state: 'open' })}, closing ${tracker.count({ state: 'closing' })}]`)
    })
  }
  for (const type of ['peer:connect', 'peer:disconnect'] as const) {
    manager.events.addEventListener(type, event => {
      events.push(`${label(event.detail.connection)}:${type}`)
      report.line(`${stamp()}  ${type.padEnd(18)} ${nameOf(event.detail.peer)}`)
    })
  }

  report.section('1. alice and bob connect and complete the handshake')
  const alice = server.connect('127.0.6.1', { peer: peerIdOf('alice') })
  await until(() => tracker.count({ peer: peerIdOf('alice'), state: 'open' }) === 1, 'alice to be open')
  const bob = server.connect('127.0.6.2', { peer: peerIdOf('bob') })
  await until(() => tracker.count({ peer: peerIdOf('bob'), state: 'open' }) === 1, 'bob to be open')

  report.section('2. The server dials the relay node (outbound)')
  const outbound = await manager.dial(`/ip4/127.0.0.1/tcp/${relay.port}`)
  await until(() => outbound.record.peer !== undefined, 'the relay to be identified')

  report.section('3. A client connects and never sends its handshake: it stays pending')
  server.connect('127.0.6.3')
  await until(() => tracker.count({ state: 'pending' }) === 1, 'the staller to be pending')

  report.section('4. Queries, while the staller is pending')
  const queries = {
    open: tracker.count({ state: 'open' }),
    pending: tracker.count({ state: 'pending' }),
    inbound: tracker.count({ direction: 'inbound' }),
    outbound: tracker.count({ direction: 'outbound' }),
    openInbound: tracker.count({ state: 'open', direction: 'inbound' }),
    alice: tracker.count({ peer: peerIdOf('alice') }),
    host: tracker.count({ host: '::ffff:127.0.6.1' })
  }
  report.line(`  count({ state: 'open' })                         ${queries.open}`)
  report.line(`  count({ state: 'pending' })                      ${queries.pending}`)
  report.line(`  count({ direction: 'inbound' }) / 'outbound'     ${queries.inbound} / ${queries.outbound}`)
  report.line(`  count({ state: 'open', direction: 'inbound' })   ${queries.openInbound}`)
  report.line(`  count({ peer: alice })                           ${queries.alice}`)
  report.line(`  count({ host: '::ffff:127.0.6.1' })              ${queries.host}   (IPv4-mapped text finds the IPv4 host)`)
  report.line('  list({ state: \'open\' }):')
  for (const record of tracker.list({ state: 'open' })) {
    report.line(`    ${label(record).padEnd(8)} ${record.direction.padEnd(8)} ${record.remoteAddress.padEnd(26)} peer ${nameOf(record.peer).padEnd(6)} open for ${Math.round(performance.now() - (record.timeline.open ?? 0))} ms`)
  }
  report.check(JSON.stringify(queries) === JSON.stringify({ open: 3, pending: 1, inbound: 3, outbound: 1, openInbound: 2, alice: 1, host: 1 }), 'the counts match the connections: 3 open (2 in, 1 out), 1 pending')

  report.section('5. The staller runs out of time; bob leaves; the server closes alice gracefully')
  await until(() => tracker.count({ state: 'pending' }) === 0, 'the staller to time out', 6_000)
  bob.socket.end()
  await until(() => tracker.count({ peer: peerIdOf('bob') }) === 0, 'bob to be closed')
  const aliceRecord = tracker.list({ peer: peerIdOf('alice') })[0]!
  await manager.close(aliceRecord.id)
  await alice.closed

  report.section('6. Timelines of the closed connections (history(), ms after each was accepted)')
  for (const record of tracker.history()) {
    const { pending, open, closing, closed } = record.timeline
    const at = (time: number | undefined): string => time === undefined ? '' : ` +${Math.round(time - pending)}`
    const steps = [`pending +0`, open === undefined ? '' : `open${at(open)}`, closing === undefined ? '' : `closing${at(closing)}`, `closed${at(closed)}`].filter(step => step !== '')
    report.line(`  ${label(record).padEnd(8)} ${steps.join(' -> ').padEnd(52)} reason: ${record.closeReason}`)
  }

  report.section('7. The JSON snapshot (tracker.snapshot())')
  const snapshot = tracker.snapshot()
  // One line per key, times rounded to the millisecond, peer IDs by name, for reading.
  const readable = (_key: string, value: unknown): unknown => typeof value === 'number' ? Math.round(value) : typeof value === 'string' && value.startsWith('12D3KooW') ? nameOf(value) : value
  for (const [key, value] of Object.entries({ ...snapshot, peers: { ...snapshot.peers, byPeer: Object.fromEntries(Object.entries(snapshot.peers.byPeer).map(([peer, figures]) => [nameOf(peer), figures])) } })) {
    report.line(`  ${`"${key}":`.padEnd(15)} ${JSON.stringify(value, readable)}`)
  }
  report.check(snapshot.connections.open.total === 1 && snapshot.closed.total === 3, 'the snapshot shows the relay open and three closed')

  report.section('8. The server stops: the relay connection closes with reason shutdown')
  await server.stop()
  await relay.stop()

  const history = tracker.history().map(record => `${label(record)}:${record.closeReason}`)
  report.check(history.join() === 'staller:timeout,bob:remote,alice:local,relay:shutdown', 'close reasons: timeout, remote, local, shutdown')
  report.finish({ events, queries, closeReasons: history, snapshot: { open: snapshot.connections.open, closed: snapshot.closed.total, byReason: snapshot.closed.byReason } })
}, async () => {
  await server?.stop()
  await relay?.stop()
})
