// Smoke test of @cm/gate installed alone: valid as ESM JavaScript and as TypeScript.
import { createGate, DefaultGate, InvalidSnapshotError } from '@cm/gate'

const gate = createGate({ denyList: ['10.0.0.0/8'], trustedList: ['192.0.2.1'] })
const denied = gate.check('::ffff:10.1.2.3')
if (denied.allowed || denied.reason !== 'deny-list' || denied.rule !== '10.0.0.0/8') {
  throw new Error('an IPv4-mapped address slipped past an IPv4 deny rule')
}
const trusted = gate.check('/ip4/192.0.2.1/tcp/4001')
if (!trusted.allowed || !trusted.trusted) {
  throw new Error('a trusted multiaddr was not marked trusted')
}
if (gate.check('010.0.0.1').reason !== 'invalid-address') {
  throw new Error('ambiguous IPv4 text was not refused')
}
gate.deny('198.51.100.7', { ttl: 60_000 })
const restored = DefaultGate.fromJSON(JSON.parse(JSON.stringify(gate)))
if (restored.check('198.51.100.7').reason !== 'deny-list') {
  throw new Error('a timed ban did not survive the JSON snapshot')
}
let refused = false
try {
  restored.load({ version: 1, savedAt: 0, deny: [{ entry: '1.2.3.4/33' }], allow: [], trusted: [] })
} catch (error) {
  refused = InvalidSnapshotError.isInstance(error)
}
if (!refused) {
  throw new Error('a malformed snapshot was not refused')
}
console.log('@cm/gate ok')
