import { describe, expect, it } from 'vitest'
import { createGate } from '../src/gate.ts'

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const OTHER_PEER = 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'

describe('peer rules - adding and removing', () => {
  it('.deny() - the same peer twice is one rule', () => {
    const gate = createGate()
    gate.deny(PEER)
    gate.deny(PEER)
    expect(gate.size('deny')).toBe(1)
    expect(gate.has('deny', PEER)).toBe(true)
    expect(gate.has('deny', OTHER_PEER)).toBe(false)
    expect(gate.remove('deny', PEER)).toBe(true)
    expect(gate.checkPeer(PEER).allowed).toBe(true)
  })

  it('.remove() - an address-and-peer rule that is not there: false, and the rules there stay in force', () => {
    const rule = `/ip4/192.0.2.0/ipcidr/24/p2p/${PEER}`
    const gate = createGate({ denyList: [rule] })
    expect(gate.remove('deny', `/ip4/198.51.100.0/ipcidr/24/p2p/${PEER}`)).toBe(false)
    expect(gate.remove('deny', `/ip4/192.0.2.0/ipcidr/24/p2p/${OTHER_PEER}`)).toBe(false)
    expect(gate.size('deny')).toBe(1)
    expect(gate.check('192.0.2.7', { peer: PEER })).toEqual({ allowed: false, reason: 'deny-list', rule, trusted: false })
  })

  it('.remove() - the last peer\'s rule on a network no longer admits that network provisionally', () => {
    const gate = createGate({ allowList: [`/ip4/192.0.2.0/ipcidr/24/p2p/${PEER}`, `/ip4/198.51.100.0/ipcidr/24/p2p/${PEER}`] })
    expect(gate.check('192.0.2.7').allowed).toBe(true)
    expect(gate.remove('allow', `/ip4/192.0.2.0/ipcidr/24/p2p/${PEER}`)).toBe(true)
    expect(gate.check('192.0.2.7')).toEqual({ allowed: false, reason: 'not-allow-listed', trusted: false })
    expect(gate.check('198.51.100.7').allowed).toBe(true)
    expect(gate.rules('allow')).toEqual([{ list: 'allow', text: `/ip4/198.51.100.0/ipcidr/24/p2p/${PEER}` }])
  })
})
