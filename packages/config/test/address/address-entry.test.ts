import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { InvalidAddressError, ipFromMultiaddr, parseAddressEntry, readMultiaddr, tryParseAddressEntry } from '../../src/address/index.ts'
import { CmError } from '../../src/index.ts'

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const RSA_PEER = 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'

describe('parseAddressEntry()', () => {
  it.each([
    ['10.0.0.1', { family: 4, words: [0x0a000001], prefixLength: 32, text: '10.0.0.1' }],
    ['10.0.0.0/8', { family: 4, words: [0x0a000000], prefixLength: 8, text: '10.0.0.0/8' }],
    ['192.168.1.5/24', { family: 4, words: [0xc0a80100], prefixLength: 24, text: '192.168.1.0/24' }],
    ['0.0.0.0/0', { family: 4, words: [0], prefixLength: 0, text: '0.0.0.0/0' }],
    ['2001:db8::1', { family: 6, words: [0x20010db8, 0, 0, 1], prefixLength: 128, text: '2001:db8::1' }],
    ['2001:DB8::1/32', { family: 6, words: [0x20010db8, 0, 0, 0], prefixLength: 32, text: '2001:db8::/32' }],
    ['fe80::1%eth0', { family: 6, words: [0xfe800000, 0, 0, 1], prefixLength: 128, text: 'fe80::1' }],
    ['::ffff:10.0.0.1', { family: 4, words: [0x0a000001], prefixLength: 32, text: '10.0.0.1' }],
    ['::ffff:a00:1', { family: 4, words: [0x0a000001], prefixLength: 32, text: '10.0.0.1' }],
    ['::ffff:10.0.0.0/104', { family: 4, words: [0x0a000000], prefixLength: 8, text: '10.0.0.0/8' }],
    ['/ip4/10.0.0.0/ipcidr/8', { family: 4, words: [0x0a000000], prefixLength: 8, text: '10.0.0.0/8' }],
    ['/ip4/10.1.2.3/ipcidr/8', { family: 4, words: [0x0a000000], prefixLength: 8, text: '10.0.0.0/8' }],
    ['/ip6/2001:db8::/ipcidr/32', { family: 6, words: [0x20010db8, 0, 0, 0], prefixLength: 32, text: '2001:db8::/32' }],
    ['/ip4/1.2.3.4/tcp/4001', { family: 4, words: [0x01020304], prefixLength: 32, text: '1.2.3.4' }],
    ['/ip4/1.2.3.4/udp/4001/quic-v1', { family: 4, words: [0x01020304], prefixLength: 32, text: '1.2.3.4' }],
    ['/ip6/::ffff:1.2.3.4/tcp/1', { family: 4, words: [0x01020304], prefixLength: 32, text: '1.2.3.4' }],
    ['/ip6zone/eth0/ip6/fe80::1', { family: 6, words: [0xfe800000, 0, 0, 1], prefixLength: 128, text: 'fe80::1' }],
    // The longest prefixes, written out: one address each.
    ['10.0.0.1/32', { family: 4, words: [0x0a000001], prefixLength: 32, text: '10.0.0.1' }],
    ['2001:db8::1/128', { family: 6, words: [0x20010db8, 0, 0, 1], prefixLength: 128, text: '2001:db8::1' }],
    ['::ffff:10.0.0.1/128', { family: 4, words: [0x0a000001], prefixLength: 32, text: '10.0.0.1' }],
    ['/ip4/10.0.0.1/ipcidr/32', { family: 4, words: [0x0a000001], prefixLength: 32, text: '10.0.0.1' }],
    ['/ip6/2001:db8::1/ipcidr/128', { family: 6, words: [0x20010db8, 0, 0, 1], prefixLength: 128, text: '2001:db8::1' }]
  ])('parses %s as a network', (input, network) => {
    const entry = parseAddressEntry(input)
    expect(entry).toEqual({ input, network, text: network.text })
  })

  it('parses peer IDs, bare or as /p2p multiaddrs', () => {
    expect(parseAddressEntry(PEER)).toEqual({ input: PEER, peerId: PEER, text: PEER })
    expect(parseAddressEntry(RSA_PEER)).toEqual({ input: RSA_PEER, peerId: RSA_PEER, text: RSA_PEER })
    expect(parseAddressEntry(`/p2p/${PEER}`)).toEqual({ input: `/p2p/${PEER}`, peerId: PEER, text: PEER })
  })

  it('parses an address with a peer ID as both', () => {
    const input = `/ip4/1.2.3.4/tcp/4001/p2p/${PEER}`
    expect(parseAddressEntry(input)).toEqual({
      input,
      network: { family: 4, words: [0x01020304], prefixLength: 32, text: '1.2.3.4' },
      peerId: PEER,
      text: `/ip4/1.2.3.4/p2p/${PEER}`
    })
  })

  it('gives an address with a peer ID a multiaddr text that parses back to the same rule', () => {
    for (const [input, text] of [
      [`/ip4/10.1.2.3/ipcidr/8/tcp/1/p2p/${PEER}`, `/ip4/10.0.0.0/ipcidr/8/p2p/${PEER}`],
      [`/ip6/2001:DB8::1/p2p/${RSA_PEER}`, `/ip6/2001:db8::1/p2p/${RSA_PEER}`],
      [`/ip6/2001:db8::/ipcidr/32/p2p/${PEER}`, `/ip6/2001:db8::/ipcidr/32/p2p/${PEER}`],
      [`/ip6/::ffff:10.0.0.0/ipcidr/104/p2p/${PEER}`, `/ip4/10.0.0.0/ipcidr/8/p2p/${PEER}`]
    ] as const) {
      const entry = parseAddressEntry(input)
      expect(entry.text).toBe(text)
      expect(parseAddressEntry(entry.text)).toEqual({ ...entry, input: text })
    }
  })

  it('gives every spelling of one rule the same text', () => {
    const spellings = ['10.0.0.0/8', '10.255.0.1/8', '/ip4/10.0.0.0/ipcidr/8', '::ffff:10.0.0.0/104', '::ffff:a00:0/104', '/ip6/::ffff:10.0.0.0/ipcidr/104']
    expect(new Set(spellings.map(text => parseAddressEntry(text).text))).toEqual(new Set(['10.0.0.0/8']))
  })

  it.each([
    ['', 'the entry is empty'],
    [' ', 'the entry has white space around it'],
    [' 10.0.0.1', 'the entry has white space around it'],
    ['10.0.0.1\n', 'the entry has white space around it'],
    ['1.2.3.4/33', 'the prefix length must be an integer from 0 to 32, got "33"'],
    ['2001:db8::/129', 'the prefix length must be an integer from 0 to 128, got "129"'],
    ['10.0.0.0/08', 'the prefix length must be an integer from 0 to 32, got "08"'],
    ['10.0.0.0/', 'the prefix length must be an integer from 0 to 32, got ""'],
    ['10.0.0.0/-1', 'the prefix length must be an integer from 0 to 32, got "-1"'],
    ['10.0.0.0/8/8', 'an entry has at most one "/"'],
    ['256.1.1.1', 'each part of an IPv4 address must be an integer from 0 to 255'],
    ['010.0.0.1', 'leading zeros are ambiguous (octal or decimal) and are not accepted'],
    ['1.2.3', 'an IPv4 address has four decimal parts, got 3'],
    ['1.2.3/24', 'an IPv4 address has four decimal parts, got 3'],
    ['1:2:3', 'not a valid IPv6 address'],
    ['example.com', 'hostnames are not resolved; give an IP address, a CIDR range, a multiaddr or a peer ID'],
    ['localhost/8', 'not an IP address, CIDR range, multiaddr or valid peer ID'],
    ['garbage!', 'not an IP address, CIDR range, multiaddr or valid peer ID'],
    ['::ffff:10.0.0.0/80', 'an IPv4-mapped range must have a prefix length of 96 or more to name IPv4 addresses, got 80'],
    ['/dns4/example.com/tcp/443', '/dns4 names are not resolved; give an /ip4 or /ip6 address'],
    ['/dnsaddr/bootstrap.libp2p.io', '/dnsaddr names are not resolved; give an /ip4 or /ip6 address'],
    ['/ip4/1.2.3.4/ipcidr/33', 'the /ipcidr prefix length must be an integer from 0 to 32, got "33"'],
    ['/ip4/1.2.3.4/tcp/1/ipcidr/8', 'a multiaddr entry names one address: /ipcidr may only follow it directly, and no second address may follow'],
    [`/ip4/1.2.3.4/tcp/1/p2p/${PEER}/p2p-circuit`, 'relay (/p2p-circuit) addresses have no remote IP of their own; list the relay\'s address or the peer ID instead'],
    ['/tcp/4001', 'a multiaddr entry must start with /ip4, /ip6 or /p2p (optionally /ip6zone before /ip6)'],
    ['/ip4/1.2.3.4/p2p/notapeer', '"notapeer" is not a valid peer ID'],
    ['/ip4/1.2.3.4/nonsense', 'not a valid multiaddr'],
    [`/ip4/1.2.3.4/p2p/${PEER}/tcp/1`, '/p2p may only appear once, at the end']
  ])('refuses %j: %s', (input, reason) => {
    const result = tryParseAddressEntry(input)
    expect(result.ok).toBe(false)
    expect(result.ok ? '' : result.reason).toContain(reason)
    expect(() => parseAddressEntry(input)).toThrow(InvalidAddressError)
  })

  it('refuses non-strings', () => {
    expect(tryParseAddressEntry(42)).toEqual({ ok: false, reason: 'expected a string, got number' })
  })

  it('throws an InvalidAddressError that quotes the entry and the reason', () => {
    let caught: unknown
    try {
      parseAddressEntry('1.2.3.4/33')
    } catch (error) {
      caught = error
    }
    expect(InvalidAddressError.isInstance(caught)).toBe(true)
    expect(CmError.isInstance(caught)).toBe(true)
    const error = caught as InvalidAddressError
    expect(error.name).toBe('InvalidAddressError')
    expect(error.input).toBe('1.2.3.4/33')
    expect(error.reason).toBe('the prefix length must be an integer from 0 to 32, got "33"')
    expect(error.message).toBe('Invalid address entry "1.2.3.4/33": the prefix length must be an integer from 0 to 32, got "33"')
  })
})

describe('ipFromMultiaddr()', () => {
  it.each([
    ['/ip4/10.0.0.1/tcp/4001', '10.0.0.1'],
    ['/ip6/::1/tcp/4001', '::1'],
    ['/ip6zone/eth0/ip6/fe80::1/tcp/1', 'fe80::1'],
    [`/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`, '10.0.0.1']
  ])('returns the IP of %s', (address, ip) => {
    expect(ipFromMultiaddr(address)).toBe(ip)
    expect(ipFromMultiaddr(multiaddr(address))).toBe(ip)
  })

  it.each([
    '/dns4/example.com/tcp/443',
    '/unix/tmp%2Fsocket',
    `/p2p/${PEER}`,
    `/ip4/10.0.0.1/tcp/4001/p2p/${RSA_PEER}/p2p-circuit/p2p/${PEER}`,
    'not a multiaddr',
    '/ip6zone/eth0/ip4/1.2.3.4'
  ])('returns undefined for %s', address => {
    expect(ipFromMultiaddr(address)).toBeUndefined()
  })
})

describe('readMultiaddr()', () => {
  it.each([
    ['/ip4/10.0.0.1/tcp/4001', { ip: '10.0.0.1', peerId: undefined, relayed: false }],
    [`/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`, { ip: '10.0.0.1', peerId: PEER, relayed: false }],
    [`/ip6zone/eth0/ip6/fe80::1/tcp/1/p2p/${RSA_PEER}`, { ip: 'fe80::1', peerId: RSA_PEER, relayed: false }],
    [`/p2p/${PEER}`, { ip: undefined, peerId: PEER, relayed: false }],
    [`/dns4/example.com/tcp/443/p2p/${PEER}`, { ip: undefined, peerId: PEER, relayed: false }],
    ['/unix/tmp%2Fsocket', { ip: undefined, peerId: undefined, relayed: false }],
    ['/ip6zone/eth0/ip4/1.2.3.4', { ip: undefined, peerId: undefined, relayed: false }]
  ])('reads the IP and peer ID of %s', (address, target) => {
    expect(readMultiaddr(address)).toEqual(target)
    expect(readMultiaddr(multiaddr(address))).toEqual(target)
  })

  it('gives the peer behind a relay, never the relay\'s IP or peer ID', () => {
    expect(readMultiaddr(`/ip4/10.0.0.1/tcp/4001/p2p/${RSA_PEER}/p2p-circuit/p2p/${PEER}`)).toEqual({ ip: undefined, peerId: PEER, relayed: true })
    expect(readMultiaddr(`/ip4/10.0.0.1/tcp/4001/p2p/${RSA_PEER}/p2p-circuit`)).toEqual({ ip: undefined, peerId: undefined, relayed: true })
  })

  it('gives the peer ID in canonical form when the multiaddr spells it as a CID', () => {
    const cid = 'bafzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l'
    expect(readMultiaddr(`/ip4/10.0.0.1/tcp/1/p2p/${cid}`)?.peerId).toBe(PEER)
  })

  it('returns undefined for a malformed multiaddr', () => {
    expect(readMultiaddr('not a multiaddr')).toBeUndefined()
    expect(readMultiaddr('/ip4/1.2.3')).toBeUndefined()
  })
})
