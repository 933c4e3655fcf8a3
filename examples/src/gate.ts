/**
 * Example: a gate with a deny list, an exclusive allow list and a trusted list; a peer rule
 * decided after the handshake; a ten-minute ban that lapses on its own (with a fake clock,
 * so the example does not wait); and the lists saved to JSON and loaded back.
 *
 * Run: pnpm --filter @cm/examples gate
 */
import { createGate, DefaultGate } from '@cm/gate'

const peer = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
let now = 0
const clock = { now: (): number => now }

const gate = createGate({
  denyList: ['10.0.0.0/8', '/ip6/2001:db8::/ipcidr/32'],
  allowList: ['10.0.0.0/8', '192.168.0.0/16', '::1', peer],
  trustedList: ['192.168.1.1'],
  clock
})

function show (label: string, verdict: ReturnType<typeof gate.check>): void {
  const rule = verdict.rule === undefined ? '' : ` (rule ${verdict.rule})`
  console.log(`  ${label.padEnd(46)} ${verdict.allowed ? 'allowed' : 'refused'}: ${verdict.reason}${rule}${verdict.trusted ? ', trusted' : ''}`)
}

console.log('Checks:')
show('10.1.2.3 (denied and allowed: deny wins)', gate.check('10.1.2.3'))
show('::ffff:10.1.2.3 (the same IPv4 address)', gate.check('::ffff:10.1.2.3'))
show('192.168.1.1 (allowed and trusted)', gate.check('192.168.1.1'))
show('/ip6/::1/tcp/4001 (allowed)', gate.check('/ip6/::1/tcp/4001'))
show('203.0.113.5 (may be the allowed peer)', gate.check('203.0.113.5'))
show('203.0.113.5 after the handshake, as the peer', gate.check('203.0.113.5', { peer }))
show('203.0.113.5 after the handshake, as another', gate.check('203.0.113.5', { peer: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' }))
show('010.1.2.3 (ambiguous text)', gate.check('010.1.2.3'))

console.log('\nA ten-minute ban on 192.168.7.7:')
gate.deny('192.168.7.7', { ttl: 10 * 60_000 })
show('at once', gate.check('192.168.7.7'))
now += 10 * 60_000
show('ten minutes later', gate.check('192.168.7.7'))

gate.deny('192.168.8.8', { ttl: 60_000 })
const saved = JSON.stringify(gate)
console.log(`\nSaved: ${saved.replace(/"savedAt":\d+/, '"savedAt":…')}`)
const restored = DefaultGate.fromJSON(JSON.parse(saved), { clock })
show('restored gate, 192.168.8.8', restored.check('192.168.8.8'))

const ok = !gate.check('10.1.2.3').allowed &&
  gate.check('192.168.1.1').trusted &&
  gate.check('192.168.7.7').allowed &&
  restored.check('192.168.8.8').reason === 'deny-list'
if (!ok) {
  console.error('The example did not behave as described.')
  process.exit(1)
}
