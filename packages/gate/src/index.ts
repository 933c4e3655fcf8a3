/**
 * Allow, deny and trusted lists over IP addresses, CIDR ranges, multiaddrs and peer IDs,
 * and the check a connection manager calls on every inbound connection and outbound dial.
 *
 * A check returns a verdict value and never throws: allowed or not, why, the rule that
 * decided and whether the address is trusted. Its cost depends on the address length,
 * not on the number of rules: one hash-table probe per prefix length present. Every
 * textual form of an address matches the same rules (`::ffff:10.0.0.1` is `10.0.0.1`),
 * deny rules can lapse on their own, and the lists can be changed while running and
 * saved to plain JSON.
 *
 * The gate knows nothing of connections: it does not count, rate-limit, close or resolve
 * names. "Trusted" is what js-libp2p calls its `allow` list: it refuses no one and admits
 * no one, and the manager exempts trusted connections from its limits.
 *
 * @example Deny a range, trust an address, ban for ten minutes
 * ```ts
 * import { createGate } from '@cm/gate'
 *
 * const gate = createGate({
 *   denyList: ['10.0.0.0/8', '/ip6/2001:db8::/ipcidr/32'],
 *   trustedList: ['192.0.2.1']
 * })
 *
 * gate.check('10.1.2.3') // { allowed: false, reason: 'deny-list', rule: '10.0.0.0/8', trusted: false }
 * gate.check('::ffff:10.1.2.3').allowed // false: the same IPv4 address
 * gate.check('192.0.2.1') // { allowed: true, reason: 'allowed', trusted: true }
 * gate.check('not an address').reason // 'invalid-address'
 *
 * gate.deny('198.51.100.7', { ttl: 10 * 60_000 }) // lapses by itself
 * const saved = JSON.stringify(gate) // persist the lists, bans included
 * ```
 *
 * @example Admit only your own ranges and peers
 * ```ts
 * import { createGate } from '@cm/gate'
 *
 * const peer = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
 * const gate = createGate({ allowList: ['192.168.0.0/16', peer] })
 *
 * gate.check('192.168.1.20').allowed // true
 * gate.check('203.0.113.5').allowed // true for now: it may be the allowed peer
 * gate.check('203.0.113.5', { peer }).allowed // true: after the handshake, it is
 * gate.check('203.0.113.5', { peer: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' }).reason // 'not-allow-listed'
 * ```
 *
 * @packageDocumentation
 */

export { InvalidSnapshotError } from './errors.ts'
export { createGate, DefaultGate } from './gate.ts'
export type { Gate } from './gate.ts'
export type { DenyOptions, GateCheckOptions, GateDirection, GateInit, GateList, GatePeerCheckOptions, GateRule } from './options.ts'
export type { GateSnapshot, GateSnapshotDenyEntry } from './snapshot.ts'
export type { GateAllowed, GateReason, GateRefused, GateVerdict } from './verdict.ts'
