import { InvalidConfigError } from '@cm/config'
import { InvalidAddressError } from '@cm/config/address'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { InvalidSnapshotError } from '../src/errors.ts'
import { createGate, DefaultGate } from '../src/gate.ts'
import type { GateInit } from '../src/options.ts'
import type { GateVerdict } from '../src/verdict.ts'
import type { Clock } from '@cm/config'

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const PEER_CID = 'bafzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l'
const OTHER_PEER = 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'

/** A clock that only moves when told to. */
function fakeClock (start = 1_000): Clock & { advance: (ms: number) => void, set: (ms: number) => void } {
  let now = start
  return { now: () => now, advance: ms => { now += ms }, set: ms => { now = ms } }
}

function allowed (rule?: string, trusted = false): GateVerdict {
  return rule === undefined ? { allowed: true, reason: 'allowed', trusted } : { allowed: true, reason: 'allowed', rule, trusted }
}

function denied (rule: string): GateVerdict {
  return { allowed: false, reason: 'deny-list', rule, trusted: false }
}

const NOT_ALLOW_LISTED: GateVerdict = { allowed: false, reason: 'not-allow-listed', trusted: false }
const INVALID: GateVerdict = { allowed: false, reason: 'invalid-address', trusted: false }

function configProblems (action: () => unknown): string[] {
  try {
    action()
  } catch (error) {
    if (InvalidConfigError.isInstance(error)) {
      return error.problems.map(problem => problem.message)
    }
    throw error
  }
  throw new Error('expected an InvalidConfigError')
}

afterEach(() => {
  vi.useRealTimers()
})

describe('createGate()', () => {
  it('returns a DefaultGate that admits everyone when every list is empty', () => {
    const gate = createGate()
    expect(gate).toBeInstanceOf(DefaultGate)
    expect(Object.prototype.toString.call(gate)).toBe('[object @cm/gate]')
    expect(gate.check('10.0.0.1')).toEqual(allowed())
    expect(gate.check('2001:db8::1', { direction: 'outbound' })).toEqual(allowed())
    expect(gate.size()).toBe(0)
  })

  it('validates every option at once, with the messages of @cm/config', () => {
    expect(configProblems(() => createGate({
      denyList: ['10.0.0.0/8', '1.2.3.4/33'],
      trustedList: ['example.com'],
      allowList: 'nope',
      denyListDirection: 'in',
      clock: {},
      denyLst: []
    } as unknown as GateInit))).toEqual([
      expect.stringMatching(/^Unknown option `denyLst` \(did you mean `denyList`\?\)/),
      'Expected `denyList[1]` to be an IP address, CIDR range, multiaddr or peer ID, got "1.2.3.4/33" (string): the prefix length must be an integer from 0 to 32, got "33"',
      'Expected `allowList` to be an array of IP addresses, CIDR ranges, multiaddrs or peer IDs, got "nope" (string)',
      'Expected `trustedList[0]` to be an IP address, CIDR range, multiaddr or peer ID, got "example.com" (string): hostnames are not resolved; give an IP address, a CIDR range, a multiaddr or a peer ID',
      'Expected `denyListDirection` to be one of "both", "inbound", "outbound", got "in" (string)',
      'Expected `clock` to be a clock (an object with a now() method), got an object (Object)'
    ])
  })
})

describe('.check() - decision rules', () => {
  const peer = PEER
  // The precedence table: deny wins; a non-empty allow list is exclusive; trusted only marks.
  it.each([
    ['no list matches', {}, allowed()],
    ['the deny list matches', { denyList: ['10.0.0.0/8'] }, denied('10.0.0.0/8')],
    ['deny, allow and trusted all match: deny wins', { denyList: ['10.0.0.1'], allowList: ['10.0.0.0/8'], trustedList: ['10.0.0.0/8'] }, denied('10.0.0.1')],
    ['the allow list is not empty and does not match', { allowList: ['192.168.0.0/16'] }, NOT_ALLOW_LISTED],
    ['the allow list matches', { allowList: ['192.168.0.0/16', '10.0.0.0/8'] }, allowed('10.0.0.0/8')],
    ['only the trusted list matches', { trustedList: ['10.0.0.0/24'] }, allowed(undefined, true)],
    ['the allow and trusted lists match', { allowList: ['10.0.0.0/8'], trustedList: ['10.0.0.1'] }, allowed('10.0.0.0/8', true)],
    ['trusted, but not on a non-empty allow list: trust admits no one', { allowList: ['192.168.0.0/16'], trustedList: ['10.0.0.1'] }, NOT_ALLOW_LISTED],
    ['denied and trusted: trust exempts from nothing when refused', { denyList: ['10.0.0.0/8'], trustedList: ['10.0.0.1'] }, denied('10.0.0.0/8')],
    ['a deny list that does not match and an empty allow list', { denyList: ['192.168.0.0/16'] }, allowed()]
  ] as Array<[string, GateInit, GateVerdict]>)('%s', (_title, init, verdict) => {
    expect(createGate(init).check('10.0.0.1')).toEqual(verdict)
    expect(createGate(init).check('10.0.0.1', { peer })).toEqual(verdict)
  })

  it('applies both lists to inbound connections and outbound dials alike by default', () => {
    const gate = createGate({ denyList: ['10.0.0.0/8'], allowList: ['10.0.0.0/8', '192.168.0.0/16'] })
    for (const direction of ['inbound', 'outbound', undefined] as const) {
      expect(gate.check('10.1.2.3', { direction })).toEqual(denied('10.0.0.0/8'))
      expect(gate.check('172.16.0.1', { direction })).toEqual(NOT_ALLOW_LISTED)
      expect(gate.check('192.168.1.1', { direction })).toEqual(allowed('192.168.0.0/16'))
    }
  })

  it('names the most specific rule that matched', () => {
    const gate = createGate({
      denyList: ['10.0.0.0/8', '10.1.0.0/16', PEER, `/ip4/10.0.0.0/ipcidr/8/p2p/${PEER}`, `/ip4/10.1.0.0/ipcidr/16/p2p/${PEER}`]
    })
    expect(gate.check('10.2.0.1').rule).toBe('10.0.0.0/8')
    expect(gate.check('10.1.0.1').rule).toBe('10.1.0.0/16')
    expect(gate.check('10.1.0.1', { peer: PEER }).rule).toBe(`/ip4/10.1.0.0/ipcidr/16/p2p/${PEER}`)
    expect(gate.check('10.2.0.1', { peer: PEER }).rule).toBe(`/ip4/10.0.0.0/ipcidr/8/p2p/${PEER}`)
    expect(gate.check('192.0.2.1', { peer: PEER }).rule).toBe(PEER)
  })

  it('returns frozen verdicts, the same object for the same outcome', () => {
    const gate = createGate({ denyList: ['10.0.0.0/8'], trustedList: ['192.0.2.1'] })
    const first = gate.check('10.1.2.3')
    expect(Object.isFrozen(first)).toBe(true)
    expect(gate.check('10.9.9.9')).toBe(first)
    expect(gate.check('192.0.2.1')).toBe(gate.check('192.0.2.1'))
  })
})

describe('.check() - address forms', () => {
  it.each([
    '::ffff:10.1.2.3',
    '::FFFF:10.1.2.3',
    '::ffff:a01:203',
    '::ffff:0a01:0203',
    '0:0:0:0:0:ffff:10.1.2.3',
    '0000:0000:0000:0000:0000:ffff:0a01:0203',
    '/ip6/::ffff:10.1.2.3/tcp/1'
  ])('matches the IPv4-mapped address %s against IPv4 rules', address => {
    const gate = createGate({ denyList: ['10.0.0.0/8'] })
    expect(gate.check(address)).toEqual(denied('10.0.0.0/8'))
  })

  it('matches IPv4 addresses against IPv4-mapped rules', () => {
    const gate = createGate({ denyList: ['::ffff:10.0.0.0/104', '/ip6/::ffff:192.168.0.0/ipcidr/112'] })
    expect(gate.check('10.1.2.3')).toEqual(denied('10.0.0.0/8'))
    expect(gate.check('192.168.7.7')).toEqual(denied('192.168.0.0/16'))
  })

  it.each([
    '2001:db8::1',
    '2001:DB8::1',
    '2001:db8:0:0:0:0:0:1',
    '2001:0db8:0000:0000:0000:0000:0000:0001',
    '2001:db8:0::0:1',
    '/ip6/2001:db8::1/udp/4001/quic-v1'
  ])('matches every textual form of an IPv6 address: %s', address => {
    const gate = createGate({ denyList: ['2001:0DB8::1'] })
    expect(gate.check(address)).toEqual(denied('2001:db8::1'))
  })

  it('ignores zone IDs, in the address checked and in the entry', () => {
    const gate = createGate({ denyList: ['fe80::1'], trustedList: ['fe80::2%eth1'] })
    expect(gate.check('fe80::1%eth0')).toEqual(denied('fe80::1'))
    expect(gate.check('/ip6zone/eth0/ip6/fe80::1/tcp/1')).toEqual(denied('fe80::1'))
    expect(gate.check('fe80::2%7')).toEqual(allowed(undefined, true))
  })

  it('normalises a range with host bits set to its network', () => {
    const gate = createGate()
    expect(gate.deny('192.168.1.5/24').text).toBe('192.168.1.0/24')
    expect(gate.check('192.168.1.200')).toEqual(denied('192.168.1.0/24'))
    expect(gate.check('192.168.2.1')).toEqual(allowed())
  })

  it('ignores the port of a multiaddr entry and of a multiaddr checked', () => {
    const gate = createGate({ denyList: ['/ip4/1.2.3.4/tcp/4001'] })
    expect(gate.check('1.2.3.4')).toEqual(denied('1.2.3.4'))
    expect(gate.check('/ip4/1.2.3.4/tcp/9999')).toEqual(denied('1.2.3.4'))
    expect(gate.check(multiaddr('/ip4/1.2.3.4/udp/1/quic-v1'))).toEqual(denied('1.2.3.4'))
  })

  it.each([
    '010.0.0.1', '1.2.3', '1.2.3.4.5', '256.1.1.1', '', ' 1.2.3.4', '1.2.3.4 ', 'example.com', '[::1]',
    '1.2.3.4/32', '::1::', '1.2.3.4%eth0', 'garbage', '/ip4/1.2.3', '/not/a/multiaddr', '/ip4/1.2.3.4/tcp/x'
  ])('refuses the malformed address %j as invalid-address, without throwing', address => {
    const gate = createGate({ denyList: ['1.0.0.0/8'] })
    expect(gate.check(address)).toEqual(INVALID)
  })

  it('refuses values that are neither strings nor multiaddrs as invalid-address', () => {
    const gate = createGate()
    for (const value of [undefined, null, 42, {}, [], { getComponents: 'no' }, { getComponents: () => { throw new Error('broken') } }]) {
      expect(gate.check(value as never)).toEqual(INVALID)
    }
  })

  it('checks a relayed address by its peer only: the relay\'s IP is not the peer\'s', () => {
    const relayed = `/ip4/192.0.2.1/tcp/4001/p2p/${OTHER_PEER}/p2p-circuit/p2p/${PEER}`
    expect(createGate({ denyList: ['192.0.2.1'] }).check(relayed)).toEqual(allowed())
    expect(createGate({ denyList: [PEER] }).check(relayed)).toEqual(denied(PEER))
    expect(createGate({ allowList: ['192.0.2.0/24'] }).check(relayed)).toEqual(NOT_ALLOW_LISTED)
    expect(createGate({ allowList: [PEER] }).check(relayed)).toEqual(allowed(PEER))
  })

  it('never resolves names: a DNS multiaddr is checked by its peer only', () => {
    expect(createGate({ denyList: ['10.0.0.0/8'] }).check('/dns4/example.com/tcp/443')).toEqual(allowed())
    expect(createGate({ allowList: ['10.0.0.0/8'] }).check('/dns4/example.com/tcp/443')).toEqual(NOT_ALLOW_LISTED)
    expect(createGate({ denyList: [PEER] }).check(`/dns4/example.com/tcp/443/p2p/${PEER}`)).toEqual(denied(PEER))
  })
})

describe('.check() and .checkPeer() - peer IDs', () => {
  it('a peer rule refuses once the peer is known, from any address', () => {
    const gate = createGate({ denyList: [PEER] })
    expect(gate.check('192.0.2.7')).toEqual(allowed())
    expect(gate.check('192.0.2.7', { peer: PEER })).toEqual(denied(PEER))
    expect(gate.check(`/ip4/192.0.2.7/tcp/1/p2p/${PEER}`)).toEqual(denied(PEER))
    expect(gate.checkPeer(PEER)).toEqual(denied(PEER))
    expect(gate.checkPeer(OTHER_PEER)).toEqual(allowed())
  })

  it('accepts the CID form of a peer ID', () => {
    const gate = createGate({ denyList: [PEER_CID] })
    expect(gate.rules()).toEqual([{ list: 'deny', text: PEER }])
    expect(gate.check('192.0.2.7', { peer: PEER_CID })).toEqual(denied(PEER))
    expect(gate.checkPeer(PEER)).toEqual(denied(PEER))
    expect(gate.check(`/ip4/192.0.2.7/tcp/1/p2p/${PEER_CID}`)).toEqual(denied(PEER))
  })

  it('lets the peer option override the peer of a multiaddr', () => {
    const gate = createGate({ denyList: [PEER] })
    expect(gate.check(`/ip4/192.0.2.7/tcp/1/p2p/${OTHER_PEER}`, { peer: PEER })).toEqual(denied(PEER))
    expect(gate.check(`/ip4/192.0.2.7/tcp/1/p2p/${PEER}`, { peer: OTHER_PEER })).toEqual(allowed())
  })

  it('an address-and-peer deny rule refuses only that peer from that network', () => {
    const rule = `/ip4/192.0.2.0/ipcidr/24/p2p/${PEER}`
    const gate = createGate({ denyList: [rule] })
    expect(gate.check('192.0.2.7')).toEqual(allowed())
    expect(gate.check('192.0.2.7', { peer: PEER })).toEqual(denied(rule))
    expect(gate.check('192.0.3.7', { peer: PEER })).toEqual(allowed())
    expect(gate.check('192.0.2.7', { peer: OTHER_PEER })).toEqual(allowed())
    expect(gate.checkPeer(PEER)).toEqual(allowed())
    expect(gate.checkPeer(PEER, { address: '192.0.2.7' })).toEqual(denied(rule))
    expect(gate.checkPeer(PEER, { address: multiaddr('/ip4/192.0.2.7/tcp/1') })).toEqual(denied(rule))
  })

  it('an address-and-peer allow rule admits provisionally before the handshake, then decides', () => {
    const rule = `/ip4/192.0.2.7/p2p/${PEER}`
    const gate = createGate({ allowList: [rule] })
    expect(gate.check('192.0.2.7')).toEqual(allowed())
    expect(gate.check('192.0.2.8')).toEqual(NOT_ALLOW_LISTED)
    expect(gate.check('192.0.2.7', { peer: PEER })).toEqual(allowed(rule))
    expect(gate.check('192.0.2.7', { peer: OTHER_PEER })).toEqual(NOT_ALLOW_LISTED)
    expect(gate.checkPeer(PEER)).toEqual(NOT_ALLOW_LISTED)
  })

  it('a peer allow rule admits any address provisionally, and only that peer once known', () => {
    const gate = createGate({ allowList: ['10.0.0.0/8', PEER] })
    expect(gate.check('203.0.113.5')).toEqual(allowed())
    expect(gate.check('203.0.113.5', { peer: PEER })).toEqual(allowed(PEER))
    expect(gate.check('203.0.113.5', { peer: OTHER_PEER })).toEqual(NOT_ALLOW_LISTED)
    expect(gate.check('10.0.0.1', { peer: OTHER_PEER })).toEqual(allowed('10.0.0.0/8'))
  })

  it('a string that is not a peer ID is a known peer that matches no rule', () => {
    const gate = createGate({ allowList: [PEER] })
    for (const peer of ['nope', '1nope', 'Qmnope', '']) {
      expect(gate.check('203.0.113.5', { peer })).toEqual(NOT_ALLOW_LISTED)
      expect(gate.checkPeer(peer)).toEqual(NOT_ALLOW_LISTED)
    }
    expect(gate.checkPeer(42 as never)).toEqual(NOT_ALLOW_LISTED)
  })

  it('trusted peer rules mark only connections whose peer is known', () => {
    const gate = createGate({ trustedList: [PEER, `/ip4/192.0.2.9/p2p/${OTHER_PEER}`] })
    expect(gate.check('192.0.2.7')).toEqual(allowed())
    expect(gate.check('192.0.2.7', { peer: PEER })).toEqual(allowed(undefined, true))
    expect(gate.check('192.0.2.9', { peer: OTHER_PEER })).toEqual(allowed(undefined, true))
    expect(gate.check('192.0.2.8', { peer: OTHER_PEER })).toEqual(allowed())
  })
})

describe('.check() - directions', () => {
  it('a deny list narrowed to inbound does not refuse outbound dials', () => {
    const gate = createGate({ denyList: ['10.0.0.0/8'], denyListDirection: 'inbound' })
    expect(gate.check('10.0.0.1', { direction: 'inbound' })).toEqual(denied('10.0.0.0/8'))
    expect(gate.check('10.0.0.1', { direction: 'outbound' })).toEqual(allowed())
    expect(gate.check('10.0.0.1')).toEqual(denied('10.0.0.0/8'))
  })

  it('an allow list narrowed to outbound does not restrict inbound connections', () => {
    const gate = createGate({ allowList: ['10.0.0.0/8'], allowListDirection: 'outbound' })
    expect(gate.check('192.0.2.1', { direction: 'inbound' })).toEqual(allowed())
    expect(gate.check('192.0.2.1', { direction: 'outbound' })).toEqual(NOT_ALLOW_LISTED)
    expect(gate.check('192.0.2.1', { direction: 'sideways' as never })).toEqual(NOT_ALLOW_LISTED)
  })

  it('.setDirection() - changes a list\'s direction from the next check, and validates', () => {
    const gate = createGate({ denyList: ['10.0.0.0/8'] })
    gate.setDirection('deny', 'outbound')
    expect(gate.check('10.0.0.1', { direction: 'inbound' })).toEqual(allowed())
    gate.setDirection('deny', 'both')
    expect(gate.check('10.0.0.1', { direction: 'inbound' })).toEqual(denied('10.0.0.0/8'))
    expect(configProblems(() => { gate.setDirection('deny', 'up' as never) })).toEqual(['Expected `denyListDirection` to be one of "both", "inbound", "outbound", got "up" (string)'])
    expect(configProblems(() => { gate.setDirection('trusted' as never, 'both') })).toEqual(['Expected `list` to be one of "deny", "allow", got "trusted" (string)'])
  })
})

describe('runtime changes', () => {
  it('.deny(), .allow() and .trust() - take effect on the next check and return the canonical rule', () => {
    const gate = createGate()
    expect(gate.allow('/ip4/10.0.0.0/ipcidr/8')).toEqual({ list: 'allow', text: '10.0.0.0/8' })
    expect(gate.check('192.0.2.1')).toEqual(NOT_ALLOW_LISTED)
    expect(gate.deny('10.1.2.3/16')).toEqual({ list: 'deny', text: '10.1.0.0/16' })
    expect(gate.check('10.1.9.9')).toEqual(denied('10.1.0.0/16'))
    expect(gate.trust('10.2.0.1')).toEqual({ list: 'trusted', text: '10.2.0.1' })
    expect(gate.check('10.2.0.1')).toEqual(allowed('10.0.0.0/8', true))
  })

  it('.deny() - rejects every malformed entry, quoting it and saying why', () => {
    const gate = createGate()
    const cases: Array<[string, RegExp]> = [
      ['1.2.3.4/33', /prefix length must be an integer from 0 to 32/],
      ['256.1.1.1', /each part of an IPv4 address must be an integer from 0 to 255/],
      ['10.0.0.0/8/8', /at most one "\/"/],
      ['', /empty/],
      [' 10.0.0.1', /white space/],
      ['example.com', /hostnames are not resolved/],
      ['/dns4/example.com/tcp/443', /names are not resolved/],
      ['010.0.0.1', /leading zeros/],
      ['garbage!', /not an IP address, CIDR range, multiaddr or valid peer ID/]
    ]
    for (const [entry, reason] of cases) {
      let caught: unknown
      try {
        gate.deny(entry)
      } catch (error) {
        caught = error
      }
      expect(InvalidAddressError.isInstance(caught)).toBe(true)
      const error = caught as InvalidAddressError
      expect(error.input).toBe(entry)
      expect(error.message).toContain(JSON.stringify(entry))
      expect(error.reason).toMatch(reason)
    }
    expect(gate.size()).toBe(0)
  })

  it('.remove() - removes a rule written in any spelling, and says whether it was there', () => {
    const gate = createGate({ denyList: ['10.0.0.0/8', PEER], trustedList: ['192.0.2.1'] })
    expect(gate.remove('deny', '10.255.0.0/8')).toBe(true)
    expect(gate.remove('deny', '/ip4/10.0.0.0/ipcidr/8')).toBe(false)
    expect(gate.check('10.1.2.3')).toEqual(allowed())
    expect(gate.remove('deny', `/p2p/${PEER}`)).toBe(true)
    expect(gate.remove('trusted', '::ffff:192.0.2.1')).toBe(true)
    expect(gate.size()).toBe(0)
    expect(() => gate.remove('deny', 'nope')).toThrow(InvalidAddressError)
    expect(configProblems(() => gate.remove('block' as never, '10.0.0.1'))).toEqual(['Expected `list` to be one of "deny", "allow", "trusted", got "block" (string)'])
  })

  it('.has(), .size() and .rules() - list the rules, one per rule whatever the spelling', () => {
    const gate = createGate({ denyList: ['10.0.0.0/8', '10.1.2.3/8', '2001:DB8::/32'], allowList: [`/ip4/192.0.2.7/tcp/1/p2p/${PEER}`] })
    expect(gate.has('deny', '/ip4/10.0.0.0/ipcidr/8')).toBe(true)
    expect(gate.has('allow', '10.0.0.0/8')).toBe(false)
    expect(gate.size('deny')).toBe(2)
    expect(gate.size()).toBe(3)
    expect(gate.rules()).toEqual([
      { list: 'deny', text: '10.0.0.0/8' },
      { list: 'deny', text: '2001:db8::/32' },
      { list: 'allow', text: `/ip4/192.0.2.7/p2p/${PEER}` }
    ])
    expect(gate.rules('allow')).toEqual([{ list: 'allow', text: `/ip4/192.0.2.7/p2p/${PEER}` }])
  })

  it('.remove() - one peer\'s rule on an address leaves the other peers\' rules on it', () => {
    const mine = `/ip4/10.0.0.1/p2p/${PEER}`
    const theirs = `/ip6/2001:db8::1/p2p/${OTHER_PEER}`
    const gate = createGate({ denyList: [mine, `/ip4/10.0.0.1/p2p/${OTHER_PEER}`, theirs, `/ip6/2001:db8::1/p2p/${PEER}`] })
    expect(gate.remove('deny', mine)).toBe(true)
    expect(gate.remove('deny', theirs)).toBe(true)
    expect(gate.check('10.0.0.1', { peer: OTHER_PEER })).toEqual(denied(`/ip4/10.0.0.1/p2p/${OTHER_PEER}`))
    expect(gate.check('2001:db8::1', { peer: PEER })).toEqual(denied(`/ip6/2001:db8::1/p2p/${PEER}`))
    expect(gate.size('deny')).toBe(2)
  })

  it('.rules() and .toJSON() - list each list sorted by text, whatever the order the rules came in', () => {
    const deny = ['2001:db8::/32', PEER, '192.0.2.7', `/ip4/10.0.0.1/p2p/${PEER}`, '10.0.0.0/8']
    const gate = createGate({ denyList: deny, allowList: ['192.0.2.0/24', '10.0.0.0/8'] })
    const sortedDeny = [...deny].sort()
    expect(gate.rules('deny').map(rule => rule.text)).toEqual(sortedDeny)
    expect(gate.toJSON().deny.map(entry => entry.entry)).toEqual(sortedDeny)
    expect(gate.toJSON().allow).toEqual(['10.0.0.0/8', '192.0.2.0/24'])
  })

  it('.replace() - swaps a whole list at once, or changes nothing if any entry is malformed', () => {
    const gate = createGate({ allowList: ['10.0.0.0/8'] })
    expect(configProblems(() => { gate.replace('allow', ['192.168.0.0/16', '1.2.3', 'x y']) })).toEqual([
      'Expected `allowList[1]` to be an IP address, CIDR range, multiaddr or peer ID, got "1.2.3" (string): an IPv4 address has four decimal parts, got 3',
      'Expected `allowList[2]` to be an IP address, CIDR range, multiaddr or peer ID, got "x y" (string): not an IP address, CIDR range, multiaddr or valid peer ID'
    ])
    expect(gate.check('10.0.0.1')).toEqual(allowed('10.0.0.0/8'))
    gate.replace('allow', ['192.168.0.0/16'])
    expect(gate.check('10.0.0.1')).toEqual(NOT_ALLOW_LISTED)
    expect(gate.check('192.168.0.1')).toEqual(allowed('192.168.0.0/16'))
  })

  it('.clear() - empties one list or all three', () => {
    const gate = createGate({ denyList: ['10.0.0.0/8'], allowList: ['10.0.0.0/8'], trustedList: ['10.0.0.0/8'] })
    gate.clear('deny')
    expect(gate.check('10.0.0.1')).toEqual(allowed('10.0.0.0/8', true))
    gate.clear()
    expect(gate.size()).toBe(0)
    expect(gate.check('192.0.2.1')).toEqual(allowed())
  })
})

describe('.deny() - expiry', () => {
  it('a timed rule matches until its time, then stops at once and is removed', () => {
    const clock = fakeClock()
    const gate = createGate({ clock })
    expect(gate.deny('192.0.2.7', { ttl: 600_000 })).toEqual({ list: 'deny', text: '192.0.2.7', expiresAt: 601_000 })
    clock.advance(599_999)
    expect(gate.check('192.0.2.7')).toEqual(denied('192.0.2.7'))
    clock.advance(1)
    expect(gate.check('192.0.2.7')).toEqual(allowed())
    expect(gate.has('deny', '192.0.2.7')).toBe(false)
    expect(gate.size('deny')).toBe(0)
  })

  it('a lapsed rule leaves the broader rules under it in force', () => {
    const clock = fakeClock()
    const gate = createGate({ clock, denyList: ['10.0.0.0/8'] })
    gate.deny('10.1.2.3', { ttl: 1_000 })
    gate.deny(`/ip4/10.1.2.3/p2p/${PEER}`, { ttl: 1_000 })
    expect(gate.check('10.1.2.3', { peer: PEER }).rule).toBe(`/ip4/10.1.2.3/p2p/${PEER}`)
    clock.advance(1_000)
    expect(gate.check('10.1.2.3', { peer: PEER })).toEqual(denied('10.0.0.0/8'))
    expect(gate.rules()).toEqual([{ list: 'deny', text: '10.0.0.0/8' }])
  })

  it('uses no timers', () => {
    const setTimeout = vi.spyOn(globalThis, 'setTimeout')
    const setInterval = vi.spyOn(globalThis, 'setInterval')
    const clock = fakeClock()
    const gate = createGate({ clock })
    for (let index = 0; index < 1_000; index++) {
      gate.deny(`10.0.${index >> 8}.${index & 255}`, { ttl: 1_000 + index })
    }
    clock.advance(1_500)
    expect(gate.size('deny')).toBe(499)
    clock.advance(500)
    expect(gate.check('10.0.3.231')).toEqual(allowed())
    expect(gate.size('deny')).toBe(0)
    expect(setTimeout).not.toHaveBeenCalled()
    expect(setInterval).not.toHaveBeenCalled()
  })

  it('denying again changes the expiry: the latest call decides', () => {
    const clock = fakeClock()
    const gate = createGate({ clock })
    gate.deny('192.0.2.7', { ttl: 1_000 })
    gate.deny('192.0.2.7', { ttl: 5_000 })
    clock.advance(2_000)
    expect(gate.check('192.0.2.7').allowed).toBe(false)
    gate.deny('192.0.2.7', { ttl: 100 })
    clock.advance(100)
    expect(gate.check('192.0.2.7').allowed).toBe(true)
    gate.deny('192.0.2.7', { ttl: 100 })
    gate.deny('192.0.2.7')
    clock.advance(10_000_000)
    expect(gate.check('192.0.2.7').allowed).toBe(false)
    expect(gate.rules('deny')).toEqual([{ list: 'deny', text: '192.0.2.7' }])
  })

  it('a removed timed rule added again without expiry stays', () => {
    const clock = fakeClock()
    const gate = createGate({ clock })
    gate.deny('192.0.2.7', { ttl: 1_000 })
    gate.remove('deny', '192.0.2.7')
    gate.deny('192.0.2.7')
    clock.advance(5_000)
    expect(gate.check('192.0.2.7').allowed).toBe(false)
  })

  it('accepts an absolute expiry in clock time', () => {
    const clock = fakeClock(50_000)
    const gate = createGate({ clock })
    gate.deny('192.0.2.7', { expiresAt: 60_000 })
    expect(gate.check('192.0.2.7').allowed).toBe(false)
    clock.set(60_000)
    expect(gate.check('192.0.2.7').allowed).toBe(true)
    gate.deny('192.0.2.8', { expiresAt: 10 })
    expect(gate.check('192.0.2.8').allowed).toBe(true)
  })

  it('validates the expiry options', () => {
    const gate = createGate()
    expect(configProblems(() => gate.deny('192.0.2.7', { ttl: 0 }))).toEqual(['Expected `ttl` to be a finite number > 0, got 0 (number)'])
    expect(configProblems(() => gate.deny('192.0.2.7', { ttl: Number.NaN, expiresAt: Number.POSITIVE_INFINITY }))).toEqual([
      'Expected `ttl` to be a finite number > 0, got NaN (number)',
      'Expected `expiresAt` to be a finite number, got Infinity (number)'
    ])
    expect(configProblems(() => gate.deny('192.0.2.7', { ttl: 5, expiresAt: 5 }))).toEqual(['Expected `ttl` or `expiresAt`, not both'])
    expect(configProblems(() => gate.deny('192.0.2.7', { tll: 5 } as never))[0]).toMatch(/^Unknown option `tll` \(did you mean `ttl`\?\)/)
    expect(gate.size()).toBe(0)
  })

  it('keeps the expiry queue small when the same rule is banned again and again', () => {
    const clock = fakeClock()
    const gate = createGate({ clock })
    for (let round = 0; round < 10_000; round++) {
      gate.deny('192.0.2.7', { ttl: 1_000_000 })
    }
    clock.advance(999_999)
    expect(gate.check('192.0.2.7').allowed).toBe(false)
    clock.advance(1)
    expect(gate.check('192.0.2.7').allowed).toBe(true)
  })
})

describe('.toJSON() / .load() / DefaultGate.fromJSON()', () => {
  it('saves every list, with the time left on timed rules, and loads it back', () => {
    vi.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date'] })
    const clock = fakeClock()
    const gate = createGate({ clock, denyList: ['10.0.0.0/8'], allowList: ['10.0.0.0/8', PEER], trustedList: [`/ip4/10.0.0.1/tcp/1/p2p/${PEER}`] })
    gate.deny('192.0.2.7', { ttl: 60_000 })
    clock.advance(10_000)
    const snapshot = gate.toJSON()
    expect(snapshot).toEqual({
      version: 1,
      savedAt: 1_700_000_000_000,
      deny: [{ entry: '10.0.0.0/8' }, { entry: '192.0.2.7', expiresInMs: 50_000 }],
      allow: ['10.0.0.0/8', PEER],
      trusted: [`/ip4/10.0.0.1/p2p/${PEER}`]
    })
    expect(JSON.parse(JSON.stringify(gate))).toEqual(snapshot)

    // Twenty seconds on disk: the ban has thirty left.
    vi.setSystemTime(1_700_000_020_000)
    const restoredClock = fakeClock(0)
    const restored = DefaultGate.fromJSON(JSON.parse(JSON.stringify(snapshot)), { clock: restoredClock })
    expect(restored.rules()).toEqual([
      { list: 'deny', text: '10.0.0.0/8' },
      { list: 'deny', text: '192.0.2.7', expiresAt: 30_000 },
      { list: 'allow', text: '10.0.0.0/8' },
      { list: 'allow', text: PEER },
      { list: 'trusted', text: `/ip4/10.0.0.1/p2p/${PEER}` }
    ])
    expect(restored.check('192.0.2.7')).toEqual(denied('192.0.2.7'))
    restoredClock.advance(30_000)
    expect(restored.check('192.0.2.7', { peer: OTHER_PEER })).toEqual(NOT_ALLOW_LISTED)
  })

  it('skips timed rules whose time ran out while the snapshot was stored', () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] })
    const gate = createGate()
    gate.load({ version: 1, savedAt: 900_000, deny: [{ entry: '192.0.2.7', expiresInMs: 100_000 }, { entry: '192.0.2.8', expiresInMs: 100_001 }], allow: [], trusted: [] })
    expect(gate.rules().map(rule => rule.text)).toEqual(['192.0.2.8'])
  })

  it('adds to the lists already there', () => {
    const gate = createGate({ denyList: ['10.0.0.0/8'] })
    gate.load({ version: 1, savedAt: Date.now(), deny: [{ entry: '192.0.2.0/24' }], allow: [], trusted: ['10.0.0.1'] })
    expect(gate.size()).toBe(3)
  })

  it('refuses a snapshot with one problem alone, whichever it is, and loads none of it', () => {
    const valid = { version: 1, savedAt: Date.now(), deny: [{ entry: '192.0.2.1' }], allow: ['10.0.0.0/8'], trusted: ['10.0.0.1'] }
    const broken: Array<[string, Record<string, unknown>]> = [
      ['version', { version: 2 }],
      ['savedAt', { savedAt: 'yesterday' }],
      ['deny[0].expiresInMs', { deny: [{ entry: '192.0.2.1', expiresInMs: -5 }] }],
      ['deny[0].entry', { deny: [{ entry: '1.2.3.4/33' }] }],
      ['allow[0]', { allow: ['nope'] }]
    ]
    for (const [path, change] of broken) {
      const gate = createGate()
      let caught: unknown
      try {
        gate.load({ ...valid, ...change })
      } catch (error) {
        caught = error
      }
      expect(InvalidSnapshotError.isInstance(caught)).toBe(true)
      expect((caught as InvalidSnapshotError).problems.map(problem => problem.path)).toEqual([path])
      expect(gate.size()).toBe(0)
    }
  })

  it('refuses a malformed snapshot whole, listing every problem', () => {
    const gate = createGate()
    let caught: unknown
    try {
      gate.load({
        version: 2,
        savedAt: 'yesterday',
        deny: [{ entry: '1.2.3.4/33' }, { entry: '10.0.0.1', expiresInMs: -5 }, 'oops', { entry: '10.0.0.2', ttl: 5 }, { entry: '10.0.0.3' }],
        allow: ['nope'],
        trusted: 'x',
        extra: true
      })
    } catch (error) {
      caught = error
    }
    const error = caught as InvalidSnapshotError
    expect(InvalidSnapshotError.isInstance(caught)).toBe(true)
    expect(error.problems.map(problem => problem.path)).toEqual([
      'extra', 'version', 'savedAt', 'deny[0].entry', 'deny[1].expiresInMs', 'deny[2]', 'deny[3].ttl', 'allow[0]', 'trusted'
    ])
    expect(error.message.split('\n')[0]).toBe('Invalid gate snapshot (9 problems):')
    expect(error.problems[3]?.message).toBe('Expected `deny[0].entry` to be an IP address, CIDR range, multiaddr or peer ID, got "1.2.3.4/33" (string): the prefix length must be an integer from 0 to 32, got "33"')
    expect(gate.size()).toBe(0)
    expect(() => gate.load(null)).toThrow(/Expected `snapshot` to be a gate snapshot object, got null/)
  })
})
