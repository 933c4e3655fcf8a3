/**
 * Example: connection limits over real sockets. A server with `maxConnections: 3` and
 * `maxConnectionsPerPeer: 2` meets six hosts; the limit is raised and lowered while it runs;
 * the pruner picks its victims by strategy (`oldest`, then `least-valuable` with tags and a
 * protected peer); and one peer opening too many connections loses its newest.
 *
 * Run: pnpm --filter @cm/examples connection-limits
 */
import { nameOf, peerHandshake, peerIdOf, startServer } from './support/network.ts'
import { Report, stamp, until } from './support/report.ts'
import type { Server } from './support/network.ts'

const report = new Report('Connection limits', [
  'A @cm/manager TCP server on 127.0.0.1; six hosts (127.0.1.1-6), each a peer that names itself',
  'in a one-line handshake. Every limit below is enforced on real sockets.'
])

const hosts = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((name, index) => ({ name, ip: `127.0.1.${index + 1}`, peer: peerIdOf(name) }))
type Host = typeof hosts[number]
const host = (name: string): Host => hosts.find(each => each.name === name)!
const [carol, dave, erin, frank] = ['carol', 'dave', 'erin', 'frank'].map(host) as [Host, Host, Host, Host]
let server: Server | undefined

await report.run(async () => {
  server = await startServer({
    config: { maxConnections: 3, maxConnectionsPerPeer: 2, pruneStrategy: 'oldest' },
    upgrade: peerHandshake(peerIdOf('server'))
  })
  const { manager } = server
  const pruned: Array<{ id: number, peer: string, reason: string }> = []
  manager.events.addEventListener('connection:prune', event => {
    const { connection, reason } = event.detail
    pruned.push({ id: connection.id, peer: nameOf(connection.peer), reason })
    report.line(`${stamp()}  pruned: ${nameOf(connection.peer)}'s connection from ${connection.remoteIp} (${reason})`)
  })
  const openPeers = (): string[] => manager.connections.list({ state: 'open' }).map(record => nameOf(record.peer))

  manager.events.addEventListener('connection:open', event => {
    const { connection } = event.detail
    // The handshake named the peer, but the manager identifies it just after `connection:open`: name it by its host.
    const host = hosts.find(each => each.ip === connection.remoteIp)
    report.line(`${stamp()}  ${(host?.name ?? '?').padEnd(6)} from ${connection.remoteIp}: admitted, handshake done, open (${manager.connections.count({ state: 'open' })} open)`)
  })

  /** One host connects and sends its peer ID; we wait for the verdict and, if admitted, the open. */
  const join = async (host: Host): Promise<boolean> => {
    const { verdict } = await server!.attempt(host.ip, { peer: host.peer })
    if (verdict.admitted) {
      await until(() => verdict.record.state !== 'pending', `${host.name}'s connection to open`)
    } else {
      report.line(`${stamp()}  ${host.name.padEnd(6)} from ${host.ip}: refused (${verdict.reason}); the server reset the socket`)
    }
    return verdict.admitted
  }

  report.section('1. maxConnections: 3, six hosts connect one after another')
  const refusedAt3: string[] = []
  for (const host of hosts) {
    if (!await join(host)) refusedAt3.push(host.name)
  }
  report.check(refusedAt3.join() === 'dave,erin,frank', 'the first three are admitted, the last three refused (max-connections)')
  report.check(server.verdicts(dave.ip).every(verdict => !verdict.admitted && verdict.reason === 'max-connections'), 'the refusal reason is max-connections')

  report.section('2. Raise the limit at run time: updateConfig({ maxConnections: 6 })')
  report.line(`changed: ${manager.updateConfig({ maxConnections: 6 }).join(', ')}`)
  const admittedAfterRaise: string[] = []
  for (const host of [dave, erin, frank]) {
    if (await join(host)) admittedAfterRaise.push(host.name)
  }
  report.check(admittedAfterRaise.length === 3 && manager.connections.count({ state: 'open' }) === 6, 'the three refused hosts are admitted now: 6 open')

  /** Lowers maxConnections at run time and waits for the pruner to close the surplus; returns the pruned peers. */
  const lowerTo = async (limit: number): Promise<string[]> => {
    const surplus = manager.connections.count({ state: 'open' }) - limit
    manager.updateConfig({ maxConnections: limit })
    await until(() => pruned.length === surplus && manager.connections.count({ state: 'open' }) === limit, `${surplus} prunes and ${limit} open`)
    report.line(`open now: ${openPeers().join(', ')}`)
    return pruned.splice(0).map(entry => entry.peer)
  }

  report.section('3. Lower it to 4 with pruneStrategy \'oldest\': the two longest-open connections go')
  const prunedOldest = await lowerTo(4)
  report.check(prunedOldest.join() === 'alice,bob', 'oldest: alice and bob (opened first) are pruned')

  report.section('4. pruneStrategy \'least-valuable\', tags and a protected peer; lower the limit to 2')
  manager.updateConfig({ pruneStrategy: 'least-valuable' })
  for (const record of manager.connections.list({ state: 'open' })) {
    if (record.peer === carol.peer) manager.tag(record.id, 'relay', 100)
    if (record.peer === erin.peer) manager.tag(record.id, 'app', 20)
  }
  manager.protection.protect(dave.peer, 'bootstrap')
  for (const record of manager.connections.list({ state: 'open' })) {
    const value = Object.values(record.tags).reduce((sum, tag) => sum + tag, 0)
    const protectedText = manager.protection.isProtected(record.peer ?? '') ? ', protected (bootstrap)' : ''
    report.line(`  ${nameOf(record.peer).padEnd(6)} tags ${JSON.stringify(record.tags)} value ${value}${protectedText}`)
  }
  const prunedLeastValuable = await lowerTo(2)
  report.check(prunedLeastValuable.join() === 'frank,erin', 'least-valuable: frank (value 0) then erin (20) go; dave is protected, carol (100) stays')

  report.section('5. maxConnectionsPerPeer: 2: carol opens two more connections (limit back at 6)')
  manager.updateConfig({ maxConnections: 6 })
  await join(carol)
  await join(carol)
  await until(() => pruned.length === 1 && manager.connections.count({ state: 'open', peer: carol.peer }) === 2, 'carol pruned back to 2 connections')
  const perPeer = pruned.splice(0)
  const carolConnections = manager.connections.list({ state: 'open', peer: carol.peer })
  const newest = server.verdicts(carol.ip).at(-1)
  const newestPruned = newest?.admitted === true && perPeer[0]?.id === newest.id
  report.line(`carol's open connections now: tags ${carolConnections.map(record => JSON.stringify(record.tags)).join(' and ')}; the pruned one was ${newestPruned ? 'her newest' : 'not her newest'}`)
  report.check(perPeer.length === 1 && perPeer[0]?.reason === 'max-connections-per-peer', 'one of carol\'s connections is pruned for max-connections-per-peer')
  report.check(newestPruned && carolConnections.some(record => record.tags['relay'] === 100), 'carol keeps her tagged connection; her newest (untagged) one went')

  // Every client the server refused or pruned sees its socket closed by the server.
  await until(() => server!.clients.filter(client => client.socket.destroyed).length === 3 + 2 + 2 + 1, 'the refused and pruned clients\' sockets to close')
  report.line('\nThe 3 refused and 5 pruned clients all saw the server close their sockets.')
  const metrics = manager.metrics()
  report.line(`metrics: refused ${JSON.stringify(metrics.refused['max-connections'])} for max-connections, pruned ${JSON.stringify(metrics.pruned)}`)

  report.finish({
    refusedAtLimit3: refusedAt3,
    admittedAfterRaise,
    prunedOldest,
    prunedLeastValuable,
    prunedPerPeer: perPeer.map(entry => ({ peer: entry.peer, reason: entry.reason, newest: entry.id === (newest?.admitted === true ? newest.id : undefined) })),
    finalOpen: openPeers(),
    refused: metrics.refused,
    pruned: metrics.pruned
  })
}, async () => { await server?.stop() })
