import { describe, expect, it } from 'vitest'
import { MAX_MULTIADDR_LENGTH, parseAddressEntry, readMultiaddr, tryParseAddressEntry } from '../../src/address/index.ts'

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const SECOND_ADDRESS = 'a multiaddr entry names one address: /ipcidr may only follow it directly, and no second address may follow'
const FIRST_COMPONENT = 'a multiaddr entry must start with /ip4, /ip6 or /p2p (optionally /ip6zone before /ip6)'

function reason (input: string): string | undefined {
  const result = tryParseAddressEntry(input)
  return result.ok ? undefined : result.reason
}

// Entries at the edges the mutation run found untested (TESTING.md).
describe('address entries at their edges', () => {
  it('takes an IPv4-mapped range from a prefix length of 96, in text and in multiaddr form', () => {
    for (const input of ['::ffff:1.2.3.4/96', '/ip6/::ffff:1.2.3.4/ipcidr/96']) {
      expect(parseAddressEntry(input).text, input).toBe('0.0.0.0/0')
    }
    expect(parseAddressEntry('/ip6/::ffff:1.2.3.4/ipcidr/120').text).toBe('1.2.3.0/24')
    for (const input of ['::ffff:1.2.3.4/95', '/ip6/::ffff:1.2.3.4/ipcidr/95']) {
      expect(reason(input), input).toBe('an IPv4-mapped range must have a prefix length of 96 or more to name IPv4 addresses, got 95')
    }
  })

  it('takes an /ipcidr prefix only as plain decimal digits', () => {
    expect(parseAddressEntry('/ip4/1.2.3.0/ipcidr/24').text).toBe('1.2.3.0/24')
    for (const value of ['024', '24x', '+24', '33']) {
      expect(reason(`/ip4/1.2.3.0/ipcidr/${value}`), value).toBe(`the /ipcidr prefix length must be an integer from 0 to 32, got "${value}"`)
    }
  })

  it('refuses a multiaddr that does not start with an address, or a zone before anything but /ip6', () => {
    for (const input of ['/ip6zone/eth0/ip4/1.2.3.4', '/ip6zone/eth0', '/tcp/1', '/ip6zone/eth0/tcp/1']) {
      expect(reason(input), input).toBe(FIRST_COMPONENT)
    }
    expect(reason('/')).toBe('the multiaddr is empty')
  })

  it('refuses a second address or a late /ipcidr, whatever its kind', () => {
    for (const tail of ['/ip4/1.2.3.4', '/ip6/::1', '/ipcidr/8', '/ip6zone/x/ip6/::1', '/ip6zone/x', '/dns4/a.b']) {
      expect(reason(`/ip4/1.2.3.4/tcp/1${tail}`), tail).toBe(SECOND_ADDRESS)
    }
  })

  it('explains why text is not an address', () => {
    expect(reason('10.0.0.256')).toBe('each part of an IPv4 address must be an integer from 0 to 255')
    expect(reason('10.0.0.01')).toBe('leading zeros are ambiguous (octal or decimal) and are not accepted')
    const hostname = 'hostnames are not resolved; give an IP address, a CIDR range, a multiaddr or a peer ID'
    const other = 'not an IP address, CIDR range, multiaddr or valid peer ID'
    expect(reason('a.b.c')).toBe(hostname)
    expect(reason('node-1.example.com')).toBe(hostname)
    for (const input of ['a b.com', 'a.b c', 'host']) {
      expect(reason(input), input).toBe(other)
    }
  })

  it('names a value that is not a string by its type, not as quoted text', () => {
    expect(() => parseAddressEntry(42 as unknown as string)).toThrow('Invalid address entry 42 (number): expected a string, got number')
  })
})

describe('readMultiaddr at its edges', () => {
  it('reads the empty multiaddr and a lone zone as having no IP, without throwing', () => {
    const none = { ip: undefined, peerId: undefined, relayed: false }
    expect(readMultiaddr('/')).toEqual(none)
    expect(readMultiaddr('/ip6zone/eth0')).toEqual(none)
    expect(readMultiaddr('/ip6zone/eth0/ip6/fe80::1/tcp/1')).toEqual({ ip: 'fe80::1', peerId: undefined, relayed: false })
  })

  it('reads a multiaddr up to the length cap, and none over it', () => {
    const head = `/ip4/10.0.0.1/tcp/1/p2p/${PEER}/dns4/`
    const at = `${head}${'a'.repeat(MAX_MULTIADDR_LENGTH - head.length)}`
    expect(at.length).toBe(MAX_MULTIADDR_LENGTH)
    expect(readMultiaddr(at)?.ip).toBe('10.0.0.1')
    expect(readMultiaddr(`${at}a`)).toBeUndefined()
  })

  it('gives the peer ID of the last component only', () => {
    expect(readMultiaddr(`/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`)).toEqual({ ip: '10.0.0.1', peerId: PEER, relayed: false })
    expect(readMultiaddr('/ip4/10.0.0.1/tcp/4001')).toEqual({ ip: '10.0.0.1', peerId: undefined, relayed: false })
  })
})
