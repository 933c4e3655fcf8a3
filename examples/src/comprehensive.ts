/**
 * Example: a production-style configuration under a burst of mixed clients, over real
 * sockets: good clients, clients from a denied range, a peer flooding from three hosts,
 * stalling clients that never finish their handshake (slowloris), and a trusted monitor.
 * The operator then bans the flooder's subnet for a minute and lowers the connection limit.
 * A status line is printed every 250 ms, and a summary at the end.
 *
 * Run: pnpm start (or pnpm --filter @cm/examples comprehensive)
 */
import { nameOf, peerHandshake, peerIdOf, startServer } from './support/network.ts'
import { Report, sleep, until } from './support/report.ts'
import type { Server } from './support/network.ts'
import type { ConnectionConfigInit } from '@cm/config'

const config = {
  maxConnections: 24,
  maxConnectionsPerPeer: 2,
  maxIncomingPendingConnections: 10,
  inboundConnectionThreshold: 1, // attempts per second per host
  inboundUpgradeTimeout: 3_000, // ms to finish the handshake
  connectionCloseTimeout: 500,
  denyList: ['127.0.66.0/24'],
  trustedList: ['127.0.0.9'], // the monitoring host: no rate limit, no pending limit, never pruned
  pruneStrategy: 'least-valuable'
} satisfies ConnectionConfigInit

const report = new Report('A production-style node under a mixed burst', [
  'A @cm/manager TCP server on 127.0.0.1 with a one-line peer ID handshake, configured as:',
  `  ${JSON.stringify(config)}`,
  'Clients: good 127.0.10.x, denied 127.0.66.x, a flooding peer on 127.0.20.1-3, stallers',
  '127.0.30.x, and the trusted monitor 127.0.0.9.'
])

const KINDS = [
  { kind: 'good', prefix: '127.0.10.' },
  { kind: 'denied', prefix: '127.0.66.' },
  { kind: 'flooder', prefix: '127.0.20.' },
  { kind: 'staller', prefix: '127.0.30.' },
  { kind: 'monitor', prefix: '127.0.0.9' }
] as const
const kindOf = (ip: string | undefined): string => KINDS.find(each => ip?.startsWith(each.prefix) === true)?.kind ?? 'other'
let server: Server | undefined
let status: ReturnType<typeof setInterval> | undefined

await report.run(async () => {
  server = await startServer({ config, upgrade: peerHandshake(peerIdOf('node')) })
  const { manager } = server
  const tracker = manager.connections
  const started = performance.now()
  let peakOpen = 0
  manager.events.addEventListener('connection:open', () => { peakOpen = Math.max(peakOpen, tracker.count({ state: 'open' })) })

  const statusLine = (): string => {
    const metrics = manager.metrics()
    const refused = Object.entries(metrics.refused).filter(([, count]) => count > 0).map(([reason, count]) => `${reason} ${count}`).join(', ')
    const pruned = Object.values(metrics.pruned).reduce((sum, count) => sum + count, 0)
    return `[${((performance.now() - started) / 1000).toFixed(2).padStart(5)} s] open ${String(tracker.count({ state: 'open' })).padStart(2)} | pending ${String(tracker.count({ state: 'pending' })).padStart(2)} | refused ${refused === '' ? 0 : refused} | pruned ${pruned} | closed ${tracker.snapshot().closed.total}`
  }
  status = setInterval(() => { report.line(`  status ${statusLine()}`) }, 250)
  const settle = async (what: string, condition: () => boolean): Promise<void> => {
    await until(() => condition() && tracker.count({ state: 'closing' }) === 0, what)
    report.line(`  settled ${statusLine()}`)
  }

  report.section('Wave 1: a burst of 31 connections at once')
  for (let index = 1; index <= 6; index++) server.connect(`127.0.10.${index}`, { peer: peerIdOf(`good-${index}`) })
  for (let index = 1; index <= 3; index++) server.connect(`127.0.66.${index}`, { peer: peerIdOf(`denied-${index}`) })
  for (let host = 1; host <= 3; host++) {
    for (let attempt = 0; attempt < 6; attempt++) server.connect(`127.0.20.${host}`, { peer: peerIdOf('flooder') })
  }
  for (let index = 1; index <= 4; index++) server.connect('127.0.0.9', { peer: peerIdOf(`monitor-${index}`) })
  report.line('  6 good, 3 from the denied range, 18 from the flooder (6 from each of 3 hosts), 4 from the monitor')
  await settle('wave 1 to settle', () => server!.allVerdicts().length === 31 && tracker.count({ state: 'pending' }) === 0 && manager.metrics().pruned['max-connections-per-peer'] === 1)

  report.section('Wave 2: 14 stallers connect and never send their handshake')
  for (let index = 1; index <= 14; index++) server.connect(`127.0.30.${index}`)
  await until(() => server!.allVerdicts().length === 31 + 14, 'the stallers\' verdicts')
  report.line(`  ${tracker.count({ state: 'pending' })} held pending (maxIncomingPendingConnections ${config.maxIncomingPendingConnections}), ${manager.metrics().refused['pending-limit']} refused`)
  const lateGood = await server.attempt('127.0.10.7', { peer: peerIdOf('good-7') })
  report.line(`  good-7 arrives while the slots are full: ${lateGood.verdict.admitted ? 'admitted' : `refused (${lateGood.verdict.reason})`}`)
  const lateMonitor = await server.attempt('127.0.0.9', { peer: peerIdOf('monitor-5') })
  report.line(`  monitor-5 (trusted) arrives too: ${lateMonitor.verdict.admitted ? 'admitted: the pending limit does not apply to it' : `refused (${lateMonitor.verdict.reason})`}`)
  // good-7's host has used as much of its budget as each staller's (threshold 1: all of it),
  // so it can take a slot only from a staller pending for a tenth of inboundUpgradeTimeout.
  await sleep(1_000)
  const retry = await server.attempt('127.0.10.7', { peer: peerIdOf('good-7') })
  report.line(`  1 s later (its rate budget back) good-7 tries again: ${retry.verdict.admitted ? 'admitted: the oldest staller, pending longer than a tenth of inboundUpgradeTimeout, gave way (closed, reason limit)' : `refused (${retry.verdict.reason})`}`)
  await settle('the stallers to time out', () => tracker.count({ state: 'pending' }) === 0)
  report.line(`  the other stallers timed out (inboundUpgradeTimeout ${config.inboundUpgradeTimeout} ms)`)

  report.section('Wave 3: the operator bans the flooder\'s subnet for a minute and lowers maxConnections to 10')
  const banned = manager.deny('127.0.20.0/24', { ttl: 60_000 })
  report.line(`  manager.deny('127.0.20.0/24', { ttl: 60_000 }) closed ${banned} open connections`)
  for (const record of tracker.list({ state: 'open' })) {
    const name = nameOf(record.peer)
    if (name.startsWith('good-')) manager.tag(record.id, 'score', 10 * Number(name.slice(5)))
  }
  report.line('  good-N is tagged score = 10 × N; updateConfig({ maxConnections: 10 })')
  const prunedPeers: string[] = []
  manager.events.addEventListener('connection:prune', event => { prunedPeers.push(nameOf(event.detail.connection.peer)) })
  manager.updateConfig({ maxConnections: 10 })
  await settle('the prune to 10', () => tracker.count({ state: 'open' }) === 10)
  report.line(`  pruned: ${prunedPeers.join(', ')} (the least valuable; the trusted monitors are exempt)`)
  clearInterval(status)

  // The summary: every attempt by kind of client, and what became of the admitted ones.
  report.section('Summary')
  const closedRecords = tracker.history()
  const kinds = Object.fromEntries(KINDS.map(({ kind }) => {
    const verdicts = server!.allVerdicts().filter(entry => kindOf(entry.ip) === kind).map(entry => entry.verdict)
    const refused: Record<string, number> = {}
    for (const verdict of verdicts) if (!verdict.admitted) refused[verdict.reason] = (refused[verdict.reason] ?? 0) + 1
    const closed: Record<string, number> = {}
    for (const record of closedRecords) if (kindOf(record.remoteIp) === kind) closed[record.closeReason ?? 'unknown'] = (closed[record.closeReason ?? 'unknown'] ?? 0) + 1
    const open = tracker.list({ state: 'open' }).filter(record => kindOf(record.remoteIp) === kind).length
    return [kind, { attempts: verdicts.length, admitted: verdicts.filter(verdict => verdict.admitted).length, refused, closed, open }]
  }))
  report.line(`  ${'client'.padEnd(8)} ${'attempts'.padStart(8)} ${'admitted'.padStart(8)}  ${'refused at accept'.padEnd(28)} ${'closed later'.padEnd(26)} open now`)
  for (const [kind, figures] of Object.entries(kinds)) {
    const list = (counts: Record<string, number>): string => Object.entries(counts).map(([reason, count]) => `${count} ${reason}`).join(', ') || '-'
    report.line(`  ${kind.padEnd(8)} ${String(figures.attempts).padStart(8)} ${String(figures.admitted).padStart(8)}  ${list(figures.refused).padEnd(28)} ${list(figures.closed).padEnd(26)} ${figures.open}`)
  }
  const metrics = manager.metrics()
  report.line(`  at most ${peakOpen} open at once (maxConnections ${config.maxConnections}); refused ${JSON.stringify(Object.fromEntries(Object.entries(metrics.refused).filter(([, count]) => count > 0)))}, pruned ${JSON.stringify(Object.fromEntries(Object.entries(metrics.pruned).filter(([, count]) => count > 0)))}`)

  const expected = {
    good: { attempts: 8, admitted: 7, refused: { 'pending-limit': 1 }, closed: { pruned: 2 }, open: 5 },
    denied: { attempts: 3, admitted: 0, refused: { 'deny-list': 3 }, closed: {}, open: 0 },
    flooder: { attempts: 18, admitted: 3, refused: { 'rate-limit': 15 }, closed: { pruned: 1, denied: 2 }, open: 0 },
    staller: { attempts: 14, admitted: 10, refused: { 'pending-limit': 4 }, closed: { limit: 1, timeout: 9 }, open: 0 },
    monitor: { attempts: 5, admitted: 5, refused: {}, closed: {}, open: 5 }
  }
  for (const [kind, figures] of Object.entries(expected)) {
    report.check(JSON.stringify(kinds[kind]) === JSON.stringify(figures), `${kind}: ${JSON.stringify(figures)}`)
  }
  report.check(prunedPeers.join() === 'good-1,good-2', 'lowering the limit prunes good-1 and good-2, the least valuable')
  report.check(peakOpen <= config.maxConnections, 'never more than maxConnections open')
  report.finish({ kinds, prunedAtLowerLimit: prunedPeers, refused: metrics.refused, pruned: metrics.pruned, bannedClosed: banned, peakOpen, open: tracker.count({ state: 'open' }) })
}, async () => {
  clearInterval(status)
  await server?.stop()
})
