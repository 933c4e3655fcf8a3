import { formatIp, maskIp } from '@cm/config'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Tier } from '../src/tier.ts'

/** Whether a second attempt from `b` is refused right after one from `a`, at limit 1. */
function shareKey (family: 4 | 6, a: Uint32Array, b: Uint32Array, ipv4PrefixLength: number, ipv6PrefixLength: number): boolean {
  const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength, ipv6PrefixLength, maxKeys: 4 })
  expect(tier.check(family, a, 0)).toBe(0)
  tier.commit()
  return tier.check(family, b, 0) > 0
}

/** The reference: the masked prefixes, as canonical text, are equal. */
function samePrefix (family: 4 | 6, a: Uint32Array, b: Uint32Array, prefixLength: number): boolean {
  const words = family === 4 ? 1 : 4
  return formatIp(family, maskIp(Array.from(a.subarray(0, words)), prefixLength)) === formatIp(family, maskIp(Array.from(b.subarray(0, words)), prefixLength))
}

const word = fc.integer({ min: 0, max: 0xffffffff })
/** An address, and a second one that is often a near neighbour (one bit flipped). */
const addressPair = fc.tuple(fc.array(word, { minLength: 4, maxLength: 4 }), fc.oneof(
  fc.integer({ min: 0, max: 127 }).map(bit => ({ flip: bit })),
  fc.array(word, { minLength: 4, maxLength: 4 }).map(other => ({ other }))
)).map(([first, change]) => {
  const a = Uint32Array.from(first)
  const b = 'other' in change ? Uint32Array.from(change.other) : Uint32Array.from(first)
  if ('flip' in change) {
    const index = change.flip >>> 5
    b[index] = ((b[index] ?? 0) ^ (0x80000000 >>> (change.flip & 31))) >>> 0
  }
  return { a, b }
})

describe('Tier', () => {
  it('.check() - two IPv6 addresses share a key exactly when their prefixes match, at every prefix length', () => {
    // Covers every key encoding: numbers up to /52, 4-unit strings to /64, 8-unit beyond.
    fc.assert(fc.property(addressPair, fc.integer({ min: 0, max: 128 }), ({ a, b }, prefixLength) => {
      expect(shareKey(6, a, b, 32, prefixLength)).toBe(samePrefix(6, a, b, prefixLength))
    }), { numRuns: 3_000 })
  }, 60_000)

  it('.check() - two IPv4 addresses share a key exactly when their prefixes match, at every prefix length', () => {
    fc.assert(fc.property(addressPair, fc.integer({ min: 0, max: 32 }), ({ a, b }, prefixLength) => {
      expect(shareKey(4, a, b, prefixLength, 64)).toBe(samePrefix(4, a, b, prefixLength))
    }), { numRuns: 2_000 })
  }, 60_000)

  it('.check() - an IPv4 address never shares a key with an IPv6 one', () => {
    fc.assert(fc.property(addressPair, fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 128 }), ({ a, b }, ipv4PrefixLength, ipv6PrefixLength) => {
      const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength, ipv6PrefixLength, maxKeys: 4 })
      tier.check(4, a, 0)
      tier.commit()
      expect(tier.check(6, b, 0)).toBe(0)
    }), { numRuns: 2_000 })
  }, 60_000)

  it('.check() - changes nothing until commit()', () => {
    const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 4 })
    const address = Uint32Array.of(0x0a000001, 0, 0, 0)
    expect(tier.check(4, address, 0)).toBe(0)
    expect(tier.check(4, address, 0)).toBe(0)
    expect(tier.trackedKeys).toBe(0)
    tier.commit()
    expect(tier.check(4, address, 0)).toBe(1_000)
    expect(tier.trackedKeys).toBe(1)
  })

  it('.commit() - reuses the slots of evicted and forgotten keys, never more than maxKeys + 1', () => {
    const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 2 })
    const address = (value: number): Uint32Array => Uint32Array.of(value, 0, 0, 0)
    for (let value = 0; value < 100; value++) {
      expect(tier.check(4, address(value), 0)).toBe(0)
      tier.commit()
      if (value % 3 === 1) {
        expect(tier.forget(4, address(value))).toBe(true)
      }
    }
    expect(tier.trackedKeys).toBeLessThanOrEqual(2)
    // The two most recent keys are held, with their own state.
    expect(tier.check(4, address(99), 0)).toBe(1_000)
    expect(tier.check(4, address(98), 0)).toBe(1_000)
    expect(tier.check(4, address(97), 0)).toBe(0)
  })

  it('.check() - tells colliding IPv6 prefixes apart, probing past them', () => {
    // Every prefix hashes to 7: keys 7, 8, 9 and 10 are tried in turn.
    const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 16, hash: () => 7 })
    const prefixes = [1, 2, 3, 4].map(value => Uint32Array.of(0x20010db8, value, 0, 0))
    for (const words of prefixes) {
      expect(tier.check(6, words, 0)).toBe(0)
      tier.commit()
    }
    // Each has its own state: every one is throttled now.
    expect(prefixes.map(words => tier.check(6, words, 0))).toEqual([1_000, 1_000, 1_000, 1_000])
    expect(tier.trackedKeys).toBe(4)
    // A fifth finds all four keys taken, and takes over the last one tried (the fourth's).
    const fifth = Uint32Array.of(0x20010db8, 5, 0, 0)
    expect(tier.check(6, fifth, 0)).toBe(0)
    tier.commit()
    expect(tier.check(6, fifth, 0)).toBe(1_000)
    expect(tier.check(6, prefixes[3]!, 0)).toBe(0) // lost its state: its budget is back
    expect(tier.check(6, prefixes[2]!, 0)).toBe(1_000)
    expect(tier).toMatchObject({ trackedKeys: 4, evictions: 1, throttledEvictions: 1 })
  })

  it('.forget() - a gap in a probe sequence makes the prefixes after it look new: it errs towards admitting', () => {
    const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 16, hash: () => 7 })
    const [first, second] = [1, 2].map(value => Uint32Array.of(0x20010db8, value, 0, 0)) as [Uint32Array, Uint32Array]
    for (const words of [first, second]) {
      tier.check(6, words, 0)
      tier.commit()
    }
    expect(tier.forget(6, first)).toBe(true)
    expect(tier.forget(6, first)).toBe(false)
    expect(tier.check(6, second, 0)).toBe(0) // its key is past the gap: it looks new
  })

  it('.check() - keeps each address family in its own table: an IPv6 flood evicts no IPv4 state', () => {
    const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 2 })
    const ipv4 = Uint32Array.of(0x0a000001, 0, 0, 0)
    tier.check(4, ipv4, 0)
    tier.commit()
    for (let value = 0; value < 100; value++) {
      expect(tier.check(6, Uint32Array.of(0x20010db8, value, 0, 0), 0)).toBe(0)
      tier.commit()
    }
    expect(tier.check(4, ipv4, 0)).toBe(1_000)
    expect(tier).toMatchObject({ trackedKeys: 3, evictions: 98 })
  })

  it('.check() - the global tier keeps one key for every address', () => {
    const tier = new Tier('global', 2, 1_000, undefined)
    expect(tier.check(4, Uint32Array.of(1, 0, 0, 0), 0)).toBe(0)
    tier.commit()
    expect(tier.check(6, Uint32Array.of(2, 3, 4, 5), 0)).toBe(0)
    tier.commit()
    expect(tier.check(4, Uint32Array.of(9, 0, 0, 0), 0)).toBe(500)
    expect(tier.trackedKeys).toBe(1)
    expect(tier.forget(4, Uint32Array.of(1, 0, 0, 0))).toBe(false)
    tier.clear()
    expect(tier.trackedKeys).toBe(0)
  })
})
