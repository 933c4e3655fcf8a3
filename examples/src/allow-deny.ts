/**
 * Example: allow, deny and trusted lists over real sockets. IPv4 and IPv6 rules (addresses,
 * CIDR ranges, a multiaddr range, a peer ID), deny winning over allow, the trusted list's
 * exemption from the rate limit, lists changed while running (open connections that a new
 * rule matches are closed), a dial refused before any socket opens, and a ban that lapses.
 *
 * The ban lasts ten minutes of the manager's clock, a {@link ManualClock} the example moves,
 * so the example does not wait ten minutes.
 *
 * Run: pnpm --filter @cm/examples allow-deny
 */
import { DialDeniedError } from '@cm/manager'
import { ManualClock } from './support/clock.ts'
import { describeVerdict, isHeld, nameOf, peerHandshake, peerIdOf, startServer } from './support/network.ts'
import { Report, stamp, until } from './support/report.ts'
import type { Server, Verdict } from './support/network.ts'

const report = new Report('Allow, deny and trusted lists', [
  'A @cm/manager TCP server on 127.0.0.1 and ::1. Clients connect from 127.x.y.z addresses and ::1,',
  'and name their peer in a one-line handshake.'
])

const MALLORY = peerIdOf('mallory')
const config = {
  denyList: ['127.0.3.0/24', MALLORY],
  allowList: ['127.0.0.0/16', '/ip6/::/ipcidr/64'],
  trustedList: ['127.0.4.1'],
  inboundConnectionThreshold: 2
}
const clock = new ManualClock()
let server: Server | undefined
const outcomes: Array<{ step: string, host: string, outcome: string, rule?: string }> = []

await report.run(async () => {
  server = await startServer({ config, clock, ipv6: true, upgrade: peerHandshake(peerIdOf('server')) })
  const { manager } = server
  manager.events.addEventListener('connection:deny', event => {
    const { remoteIp, reason, rule, peer } = event.detail
    if (reason === 'peer-denied' || isHeld(manager, event.detail)) {
      const ruleText = rule === MALLORY ? '<mallory>' : rule
      report.line(`${stamp()}  connection:deny ${remoteIp} (peer ${nameOf(peer)}): ${reason}, rule ${ruleText}; the open connection is closed`)
    }
  })

  /** One attempt from `host`, named `name` in the handshake; prints and records the verdict. */
  const tryFrom = async (step: string, host: string, why: string, name = `peer@${host}`): Promise<Verdict> => {
    const { verdict } = await server!.attempt(host, { peer: peerIdOf(name) })
    if (verdict.admitted) await until(() => verdict.record.state !== 'pending', `the handshake of ${host}`)
    const denied = verdict.admitted && verdict.record.closeReason === 'denied'
    report.line(`  ${host.padEnd(11)} ${why.padEnd(44)} ${denied ? 'admitted at accept, then closed: peer denied' : describeVerdict(verdict).replace(/ \(#\d+\)/, '')}`)
    outcomes.push({
      step,
      host,
      outcome: verdict.admitted ? (denied ? 'peer-denied' : 'admitted') : verdict.reason,
      ...(!verdict.admitted && verdict.rule !== undefined ? { rule: verdict.rule } : {})
    })
    return verdict
  }

  report.section('1. The lists at start')
  report.line(`  ${JSON.stringify(config.denyList.map(entry => entry === MALLORY ? '<mallory\'s peer ID>' : entry))} deny, ${JSON.stringify(config.allowList)} allow (exclusive), ${JSON.stringify(config.trustedList)} trusted`)
  await tryFrom('start', '127.0.3.7', 'denied range, also allowed: deny wins')
  await tryFrom('start', '127.0.5.5', 'in the allowed 127.0.0.0/16')
  await tryFrom('start', '127.1.0.1', 'outside every allow rule')
  await tryFrom('start', '::1', 'IPv6, in the allowed ::/64')
  await tryFrom('start', '127.0.5.66', 'allowed address, denied peer (mallory)', 'mallory')
  report.check(outcomes.map(entry => entry.outcome).join() === 'deny-list,admitted,not-allow-listed,admitted,peer-denied', 'deny wins, the allow list is exclusive, IPv6 ranges match ::1, a peer rule applies after the handshake')

  report.section('2. The trusted list: exempt from the rate limit (threshold 2)')
  const trusted = [1, 2, 3, 4].map(() => 0)
  const untrusted = [1, 2, 3, 4].map(() => 0)
  for (const index of trusted.keys()) trusted[index] = (await server.attempt('127.0.4.1', { peer: peerIdOf('monitor') })).verdict.admitted ? 1 : 0
  for (const index of untrusted.keys()) untrusted[index] = (await server.attempt('127.0.5.9', { peer: peerIdOf('client') })).verdict.admitted ? 1 : 0
  const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0)
  report.line(`  127.0.4.1 (trusted)   4 attempts at one instant: ${sum(trusted)} admitted`)
  report.line(`  127.0.5.9 (untrusted) 4 attempts at one instant: ${sum(untrusted)} admitted, ${server.verdicts('127.0.5.9').filter(verdict => !verdict.admitted).map(verdict => !verdict.admitted && verdict.reason).join(', ')}`)
  report.check(sum(trusted) === 4 && sum(untrusted) === 2, 'the trusted host skips the rate limit; the other gets its 2')

  report.section('3. Changing the lists while running')
  report.line('  updateConfig({ denyList: [...denyList, \'::1\'] }): the open ::1 connection is closed at once')
  manager.updateConfig({ denyList: [...config.denyList, '::1'] })
  await until(() => manager.connections.count({ host: '::1' }) === 0, 'the ::1 connection to close')
  await tryFrom('runtime', '::1', 'after denying ::1')
  report.line('  updateConfig({ allowList: [...allowList, \'127.1.0.0/16\'] })')
  manager.updateConfig({ allowList: [...config.allowList, '127.1.0.0/16'] })
  await tryFrom('runtime', '127.1.0.1', 'after allowing 127.1.0.0/16')
  report.line('  updateConfig({ denyList: [mallory, \'::1\'] }): 127.0.3.0/24 is no longer denied')
  manager.updateConfig({ denyList: [MALLORY, '::1'] })
  await tryFrom('runtime', '127.0.3.7', 'after removing 127.0.3.0/24')
  let dialRefusal = ''
  try {
    await manager.dial(`/ip6/::1/tcp/${server.port}`)
  } catch (error) {
    if (DialDeniedError.isInstance(error)) dialRefusal = error.reason
  }
  report.line(`  dial /ip6/::1/tcp/${server.port}                    refused before any socket opened: DialDeniedError (${dialRefusal})`)
  report.check(outcomes.slice(-3).map(entry => entry.outcome).join() === 'deny-list,admitted,admitted' && dialRefusal === 'deny-list', 'changes apply to the next connection, and to dials')

  report.section('4. A ban that lapses: manager.deny(\'127.0.5.5\', { ttl: 10 minutes })')
  const closed = manager.deny('127.0.5.5', { ttl: 10 * 60_000 })
  report.line(`  it closed ${closed} open connection from 127.0.5.5`)
  const ban = manager.gate.rules('deny').find(rule => rule.text === '127.0.5.5')
  report.line(`  the rule: ${JSON.stringify(ban)} (expiresAt is on the manager's clock, now ${clock.now()} ms)`)
  await tryFrom('ban', '127.0.5.5', 'during the ban')
  clock.advance(10 * 60_000 - 1)
  await tryFrom('ban', '127.0.5.5', 'one millisecond before it lapses')
  clock.advance(1)
  await tryFrom('ban', '127.0.5.5', 'ten minutes later')
  report.check(closed === 1 && outcomes.slice(-3).map(entry => entry.outcome).join() === 'deny-list,deny-list,admitted', 'the ban closes the open connection, refuses for ten minutes, then lapses by itself')

  report.section('5. The lists as JSON (gate.toJSON(), to save and load back)')
  const snapshot = manager.gate.toJSON()
  report.line(`  ${JSON.stringify({ ...snapshot, savedAt: '…', deny: snapshot.deny.map(entry => entry.entry === MALLORY ? { ...entry, entry: '<mallory>' } : entry) })}`)
  const metrics = manager.metrics()
  report.line(`\nrefusals by reason: ${JSON.stringify(Object.fromEntries(Object.entries(metrics.refused).filter(([, count]) => count > 0)))}`)

  report.finish({
    outcomes,
    trusted: { attempts: 4, admitted: sum(trusted) },
    untrusted: { attempts: 4, admitted: sum(untrusted) },
    dialRefusal,
    banClosed: closed,
    refused: metrics.refused
  })
}, async () => { await server?.stop() })
