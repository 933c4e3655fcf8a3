import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { createGate } from '../src/gate.ts'
import type { GateVerdict } from '../src/verdict.ts'

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

const ALLOWED: GateVerdict = { allowed: true, reason: 'allowed', trusted: false }
const NOT_ALLOW_LISTED: GateVerdict = { allowed: false, reason: 'not-allow-listed', trusted: false }
const INVALID: GateVerdict = { allowed: false, reason: 'invalid-address', trusted: false }

/** An object that looks like a multiaddr to a duck-typing check: `getComponents()` only. */
function fakeMultiaddr (components: Array<{ code: number, name: string, value?: string }>): never {
  return { getComponents: () => components } as never
}

describe('.check() - values that only look like multiaddrs', () => {
  it('refuses null and a function with a getComponents method as invalid-address', () => {
    const gate = createGate({ denyList: ['10.0.0.0/8'] })
    expect(gate.check(null as never)).toEqual(INVALID)
    expect(gate.check(Object.assign(() => undefined, { getComponents: () => [] }) as never)).toEqual(INVALID)
  })

  it('refuses a multiaddr-like object whose IP does not parse as invalid-address', () => {
    const gate = createGate()
    expect(gate.check(fakeMultiaddr([{ code: 4, name: 'ip4', value: 'not an ip' }]))).toEqual(INVALID)
    expect(gate.check(fakeMultiaddr([{ code: 4, name: 'ip4', value: '10.0.0.1' }]))).toEqual(ALLOWED)
  })
})

describe('.checkPeer() - a peer that is not a string', () => {
  it('is a known peer that matches no rule: no provisional admission by a peer allow rule', () => {
    const gate = createGate({ allowList: [PEER] })
    expect(gate.checkPeer(undefined as never)).toEqual(NOT_ALLOW_LISTED)
    expect(gate.checkPeer(PEER)).toEqual({ allowed: true, reason: 'allowed', rule: PEER, trusted: false })
  })

  it('is not replaced by the peer the address names', () => {
    const gate = createGate({ denyList: [PEER] })
    expect(gate.checkPeer(undefined as never, { address: `/ip4/192.0.2.7/tcp/1/p2p/${PEER}` })).toEqual(ALLOWED)
    expect(gate.checkPeer(PEER, { address: '/ip4/192.0.2.7/tcp/1' }).allowed).toBe(false)
  })
})

describe('.check() and .checkPeer() - a check without an IP ignores the address checked before', () => {
  it('a peer checked alone does not meet an address-and-peer deny rule of the previous address', () => {
    const rule = `/ip6/2001:db8::/ipcidr/32/p2p/${PEER}`
    const gate = createGate({ denyList: [rule] })
    expect(gate.check('2001:db8::1', { peer: PEER }).allowed).toBe(false)
    expect(gate.checkPeer(PEER)).toEqual(ALLOWED)
    expect(gate.check(multiaddr(`/dns6/example.com/tcp/1/p2p/${PEER}`))).toEqual(ALLOWED)
  })

  it('an address without IP or peer is not admitted provisionally by an address-and-peer allow rule of the previous address', () => {
    const gate = createGate({ allowList: [`/ip6/2001:db8::/ipcidr/32/p2p/${PEER}`] })
    expect(gate.check('2001:db8::1')).toEqual(ALLOWED)
    expect(gate.check('/dns6/example.com/tcp/1')).toEqual(NOT_ALLOW_LISTED)
  })
})
