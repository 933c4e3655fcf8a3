import { isIP } from 'node:net'
import fc from 'fast-check'
import ipaddr from 'ipaddr.js'
import { describe, expect, it } from 'vitest'
import { formatIp, maskIp, parseIp, parseIpInto } from '../../src/address/index.ts'

const NUM_RUNS = 3000

/**
 * The words of an address, as independent references see it: ipaddr.js for IPv4 and the
 * WHATWG URL parser for IPv6 (ipaddr.js reads `::1.2.3.4` as IPv4-mapped, which it is not),
 * with IPv4-mapped addresses unwrapped.
 */
function referenceWords (text: string): { family: 4 | 6, words: number[] } {
  if (!text.includes(':')) {
    const bytes = ipaddr.IPv4.parse(text).toByteArray()
    return { family: 4, words: [(((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)) >>> 0] }
  }
  const canonical = new URL(`http://[${text.split('%')[0] ?? ''}]/`).hostname.slice(1, -1)
  const [head = '', tail] = canonical.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    .map(group => Number.parseInt(group, 16))
  const words = [0, 2, 4, 6].map(index => (((groups[index] ?? 0) << 16) | (groups[index + 1] ?? 0)) >>> 0)
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    return { family: 4, words: [words[3] ?? 0] }
  }
  return { family: 6, words }
}

/** Arbitrary textual forms of IPv6 addresses: compressed or not, mixed case, embedded IPv4. */
const ipv6Text = fc.tuple(
  fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
  fc.boolean(),
  fc.boolean(),
  fc.boolean(),
  fc.nat(7),
  fc.nat(8)
).map(([groups, upper, embedIpv4, padded, gapStart, gapLengthRaw]) => {
  const hex = groups.map(group => {
    const text = group.toString(16)
    return padded ? text.padStart(4, '0') : text
  })
  let parts = hex
  if (embedIpv4) {
    const high = groups[6] ?? 0
    const low = groups[7] ?? 0
    parts = [...hex.slice(0, 6), `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`]
  }
  const gapLength = Math.min(gapLengthRaw, parts.length - gapStart)
  // Compressing groups that are not zero changes the address, not the validity of the text:
  // the reference parses the same text, so any run may be replaced by '::'.
  const text = gapLength >= 1 && gapStart < parts.length
    ? `${parts.slice(0, gapStart).join(':')}::${parts.slice(gapStart + gapLength).join(':')}`
    : parts.join(':')
  return upper ? text.toUpperCase() : text
})

describe('parseIpInto()', () => {
  const out = new Uint32Array(4)

  it.each([
    ['0.0.0.0', 4, [0]],
    ['255.255.255.255', 4, [0xffffffff]],
    ['10.0.0.1', 4, [0x0a000001]],
    ['127.1.2.3', 4, [0x7f010203]]
  ])('parses the IPv4 address %s', (text, family, words) => {
    expect(parseIpInto(text, out)).toBe(family)
    expect(Array.from(out.slice(0, words.length))).toEqual(words)
  })

  it.each([
    ['::', [0, 0, 0, 0]],
    ['::1', [0, 0, 0, 1]],
    ['1::', [0x00010000, 0, 0, 0]],
    ['2001:db8::1', [0x20010db8, 0, 0, 1]],
    ['2001:DB8:0:0:0:0:0:1', [0x20010db8, 0, 0, 1]],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', [0x20010db8, 0, 0, 1]],
    ['1:2:3:4:5:6:7::', [0x00010002, 0x00030004, 0x00050006, 0x00070000]],
    ['::2:3:4:5:6:7:8', [0x00000002, 0x00030004, 0x00050006, 0x00070008]],
    ['64:ff9b::192.0.2.33', [0x0064ff9b, 0, 0, 0xc0000221]],
    ['fe80::1%eth0', [0xfe800000, 0, 0, 1]],
    ['fe80::1%25', [0xfe800000, 0, 0, 1]],
    // These only end like an IPv4-mapped address: they stay IPv6.
    ['::1:0:ffff:102:304', [0, 1, 0xffff, 0x01020304]],
    ['1::ffff:102:304', [0x00010000, 0, 0xffff, 0x01020304]],
    ['::1:ffff:102:304', [0, 0, 0x1ffff, 0x01020304]],
    ['::fffe:102:304', [0, 0, 0xfffe, 0x01020304]]
  ])('parses the IPv6 address %s', (text, words) => {
    expect(parseIpInto(text, out)).toBe(6)
    expect(Array.from(out)).toEqual(words)
  })

  it.each([
    '::ffff:10.0.0.1',
    '::ffff:a00:1',
    '::FFFF:0A00:0001',
    '0:0:0:0:0:ffff:10.0.0.1',
    '0000:0000:0000:0000:0000:ffff:0a00:0001'
  ])('treats the IPv4-mapped address %s as the IPv4 address 10.0.0.1', text => {
    expect(parseIpInto(text, out)).toBe(4)
    expect(out[0]).toBe(0x0a000001)
  })

  it.each([
    '', ' ', '1.2.3', '1.2.3.4.5', '010.0.0.1', '1.2.3.04', '256.1.1.1', '1.2.3.4 ', ' 1.2.3.4',
    '0x1.2.3.4', '1.2.3.-4', '1..2.3', '1.2.3.', '.1.2.3', '1.2.3.4%eth0', 'localhost', 'example.com',
    '1.2.3.4/32', '[::1]', ':', ':::', '::1::', '1:::2', ':1::', '1::2:', '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8', '12345::', 'g::', '::ffff:1.2.3',
    '::ffff:1.2.3.256', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4:5', 'fe80::1%', 'fe80::1%eth 0', 'fe80::1%a%b',
    '1.2.3.4\n', '::1/128'
  ])('refuses %j', text => {
    expect(parseIpInto(text, out)).toBe(0)
  })

  it('agrees with net.isIP and ipaddr.js on valid IPv4 text', () => {
    fc.assert(fc.property(fc.ipV4(), text => {
      expect(parseIpInto(text, out)).toBe(4)
      expect(out[0]).toBe(referenceWords(text).words[0])
    }), { numRuns: NUM_RUNS })
  })

  it('agrees with the URL parser on every textual form of IPv6 addresses', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV6(), ipv6Text), text => {
      fc.pre(isIP(text) === 6)
      const reference = referenceWords(text)
      expect(parseIpInto(text, out)).toBe(reference.family)
      expect(Array.from(out.slice(0, reference.words.length))).toEqual(reference.words)
    }), { numRuns: NUM_RUNS })
  })

  it('accepts exactly what net.isIP accepts, for near-miss text', () => {
    const alphabet = fc.constantFrom('0', '1', '9', 'a', 'f', 'F', 'g', ':', ':', '.', '.', '%', 'e', ' ', '/')
    const nearMiss = fc.oneof(
      fc.string({ unit: alphabet, maxLength: 24 }),
      fc.tuple(fc.oneof(fc.ipV4(), fc.ipV6(), ipv6Text), fc.nat(40), fc.string({ unit: alphabet, maxLength: 2 }))
        .map(([text, at, insert]) => text.slice(0, at % (text.length + 1)) + insert + text.slice(at % (text.length + 1)))
    )
    fc.assert(fc.property(nearMiss, text => {
      // net.isIP accepts any zone text; our zones are limited to interface names and indexes.
      fc.pre(!text.includes('%'))
      const family = parseIpInto(text, out)
      expect(family === 0 ? 0 : 'ip').toBe(isIP(text) === 0 ? 0 : 'ip')
    }), { numRuns: NUM_RUNS * 3 })
  })
})

describe('parseIp()', () => {
  it('returns canonical text, the words and the zone', () => {
    expect(parseIp('2001:DB8:0:0::1')).toEqual({ family: 6, words: [0x20010db8, 0, 0, 1], text: '2001:db8::1' })
    expect(parseIp('fe80::1%eth0')).toEqual({ family: 6, words: [0xfe800000, 0, 0, 1], text: 'fe80::1', zone: 'eth0' })
    expect(parseIp('::ffff:10.0.0.1')).toEqual({ family: 4, words: [0x0a000001], text: '10.0.0.1' })
  })

  it('returns undefined for text that is not an address', () => {
    expect(parseIp('1.2.3')).toBeUndefined()
  })

  it('gives the same text for every textual form of one IPv6 address', () => {
    fc.assert(fc.property(ipv6Text, text => {
      fc.pre(isIP(text) === 6)
      const parsed = parseIp(text)
      const reference = referenceWords(text)
      // ipaddr.js formats per RFC 5952 as well, from the reference's words.
      const bytes = reference.words.flatMap(word => [word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff])
      const expected = ipaddr.fromByteArray(bytes).toString()
      expect(parsed?.text).toBe(expected)
    }), { numRuns: NUM_RUNS })
  })
})

describe('formatIp()', () => {
  it.each([
    [[0x20010db8, 0, 0, 1], '2001:db8::1'],
    [[0, 0, 0, 0], '::'],
    [[0, 0, 0, 1], '::1'],
    [[0x00010000, 0, 0, 0], '1::'],
    [[0x00010000, 0x00000002, 0, 0x00000003], '1:0:0:2::3'],
    [[0x00010000, 0x00020000, 0x00030000, 0x00040000], '1:0:2:0:3:0:4:0'],
    [[0x00010002, 0x00030004, 0x00050006, 0x00070008], '1:2:3:4:5:6:7:8']
  ])('formats %j as %s (RFC 5952)', (words, text) => {
    expect(formatIp(6, words)).toBe(text)
  })

  it('formats IPv4 as a dotted quad', () => {
    expect(formatIp(4, [0xc0a80101])).toBe('192.168.1.1')
  })
})

describe('maskIp()', () => {
  it('clears the host bits of IPv4 and IPv6 words', () => {
    expect(maskIp([0x0a010203], 8)).toEqual([0x0a000000])
    expect(maskIp([0x0a010203], 0)).toEqual([0])
    expect(maskIp([0x0a010203], 32)).toEqual([0x0a010203])
    expect(maskIp([0x20010db8, 0x12345678, 0xffffffff, 1], 48)).toEqual([0x20010db8, 0x12340000, 0, 0])
    expect(maskIp([0x20010db8, 0x12345678, 0xffffffff, 1], 64)).toEqual([0x20010db8, 0x12345678, 0, 0])
    expect(maskIp([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], 127)).toEqual([0xffffffff, 0xffffffff, 0xffffffff, 0xfffffffe])
  })
})
