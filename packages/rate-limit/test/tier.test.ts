import { formatIp, maskIp } from '@cm/config/address'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Tier } from '../src/tier.ts'

/** The time every check here happens at (0 ms). */
const time = new Float64Array(1)

/** 0 if the tier admits the attempt, else its wait in milliseconds. */
function attempt (tier: Tier, family: 4 | 6, words: Uint32Array): number {
  return tier.check(family, words) ? 0 : tier.wait
}

/** Whether a second attempt from `b` is refused right after one from `a`, at limit 1. */
function shareKey (family: 4 | 6, a: Uint32Array, b: Uint32Array, ipv4PrefixLength: number, ipv6PrefixLength: number): boolean {
  const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength, ipv6PrefixLength, maxKeys: 4 }, time)
  expect(attempt(tier, family, a)).toBe(0)
  tier.commit()
  return attempt(tier, family, b) > 0
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

/** A tier whose hash sends every prefix to key 7, holding four /64s that took keys 7 to 10. */
function collidingPrefixes (): { tier: Tier, prefixes: Uint32Array[] } {
  const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 16, hash: () => 7 }, time)
  const prefixes = [1, 2, 3, 4].map(value => Uint32Array.of(0x20010db8, value, 0, 0))
  for (const words of prefixes) {
    expect(attempt(tier, 6, words)).toBe(0)
    tier.commit()
  }
  return { tier, prefixes }
}

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
      const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength, ipv6PrefixLength, maxKeys: 4 }, time)
      attempt(tier, 4, a)
      tier.commit()
      expect(attempt(tier, 6, b)).toBe(0)
    }), { numRuns: 2_000 })
  }, 60_000)

  it('.check() - changes nothing until commit()', () => {
    const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 4 }, time)
    const address = Uint32Array.of(0x0a000001, 0, 0, 0)
    expect(attempt(tier, 4, address)).toBe(0)
    expect(attempt(tier, 4, address)).toBe(0)
    expect(tier.trackedKeys).toBe(0)
    tier.commit()
    expect(attempt(tier, 4, address)).toBe(1_000)
    expect(tier.trackedKeys).toBe(1)
  })

  it('.commit() - reuses the slots of evicted and forgotten keys, never more than maxKeys + 1', () => {
    const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 2 }, time)
    const address = (value: number): Uint32Array => Uint32Array.of(value, 0, 0, 0)
    for (let value = 0; value < 100; value++) {
      expect(attempt(tier, 4, address(value))).toBe(0)
      tier.commit()
      if (value % 3 === 1) {
        expect(tier.forget(4, address(value))).toBe(true)
      }
    }
    expect(tier.trackedKeys).toBeLessThanOrEqual(2)
    // The two most recent keys are held, with their own state.
    expect(attempt(tier, 4, address(99))).toBe(1_000)
    expect(attempt(tier, 4, address(98))).toBe(1_000)
    expect(attempt(tier, 4, address(97))).toBe(0)
  })

  it('.check() - tells colliding IPv6 prefixes apart, probing past them', () => {
    // Every prefix hashes to 7: keys 7, 8, 9 and 10 are tried in turn.
    const { tier, prefixes } = collidingPrefixes()
    // Each has its own state: every one is throttled now.
    expect(prefixes.map(words => attempt(tier, 6, words))).toEqual([1_000, 1_000, 1_000, 1_000])
    expect(tier.trackedKeys).toBe(4)
    // A fifth finds all four keys taken, and takes over the last one tried (the fourth's).
    const fifth = Uint32Array.of(0x20010db8, 5, 0, 0)
    expect(attempt(tier, 6, fifth)).toBe(0)
    tier.commit()
    expect(attempt(tier, 6, fifth)).toBe(1_000)
    expect(attempt(tier, 6, prefixes[3]!)).toBe(0) // lost its state: its budget is back
    expect(attempt(tier, 6, prefixes[2]!)).toBe(1_000)
    expect(tier).toMatchObject({ trackedKeys: 4, evictions: 1, throttledEvictions: 1 })
  })

  it('.forget() - a gap in a probe sequence makes the prefixes after it look new: it errs towards admitting', () => {
    const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 16, hash: () => 7 }, time)
    const [first, second] = [1, 2].map(value => Uint32Array.of(0x20010db8, value, 0, 0)) as [Uint32Array, Uint32Array]
    for (const words of [first, second]) {
      attempt(tier, 6, words)
      tier.commit()
    }
    expect(tier.forget(6, first)).toBe(true)
    expect(tier.forget(6, first)).toBe(false)
    expect(attempt(tier, 6, second)).toBe(0) // its key is past the gap: it looks new
  })

  it('.check() - keeps each address family in its own table: an IPv6 flood evicts no IPv4 state', () => {
    const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 2 }, time)
    const ipv4 = Uint32Array.of(0x0a000001, 0, 0, 0)
    attempt(tier, 4, ipv4)
    tier.commit()
    for (let value = 0; value < 100; value++) {
      expect(attempt(tier, 6, Uint32Array.of(0x20010db8, value, 0, 0))).toBe(0)
      tier.commit()
    }
    expect(attempt(tier, 4, ipv4)).toBe(1_000)
    expect(tier).toMatchObject({ trackedKeys: 3, evictions: 98 })
  })

  it('.check() - the global tier keeps one key for every address', () => {
    const tier = new Tier('global', 2, 1_000, undefined, time)
    expect(attempt(tier, 4, Uint32Array.of(1, 0, 0, 0))).toBe(0)
    tier.commit()
    expect(attempt(tier, 6, Uint32Array.of(2, 3, 4, 5))).toBe(0)
    tier.commit()
    expect(attempt(tier, 4, Uint32Array.of(9, 0, 0, 0))).toBe(500)
    expect(tier.trackedKeys).toBe(1)
    expect(tier.forget(4, Uint32Array.of(1, 0, 0, 0))).toBe(false)
    tier.clear()
    expect(tier.trackedKeys).toBe(0)
  })
})

describe('Tier, at the edges', () => {
  it('.check() - tells colliding IPv6 prefixes apart by every one of their words', () => {
    // /128 and one hash for all: only the stored words can tell these addresses apart.
    const base = Uint32Array.of(0x20010db8, 1, 2, 3)
    for (let word = 0; word < 4; word++) {
      const other = Uint32Array.from(base)
      other[word] = (other[word] ?? 0) ^ 0x10
      const fresh = new Tier('t', 1, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 128, maxKeys: 16, hash: () => 7 }, time)
      expect(attempt(fresh, 6, base)).toBe(0)
      fresh.commit()
      expect(attempt(fresh, 6, other)).toBe(0) // differs in this word only: a budget of its own
    }
  })

  it('.commit() - a reused slot holds its new key\'s state alone: each key keeps the time of its own attempt', () => {
    const clock = new Float64Array(1)
    const tier = new Tier('t', 1, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 2 }, clock)
    const address = (value: number): Uint32Array => Uint32Array.of(value, 0, 0, 0)
    // Five hosts, 100 ms apart: the third on evicts the oldest, whose slot the next one reuses.
    for (let value = 1; value <= 5; value++) {
      clock[0] = value * 100
      expect(tier.check(4, address(value))).toBe(true)
      tier.commit()
    }
    // At 500 ms: host 4 (at 400 ms) waits 900 ms, host 5 (at 500 ms) the whole second.
    expect(attempt(tier, 4, address(4))).toBe(900)
    expect(attempt(tier, 4, address(5))).toBe(1_000)
    clock[0] = 1_400
    expect(attempt(tier, 4, address(4))).toBe(0)
    expect(attempt(tier, 4, address(5))).toBe(100)
  })

  it('.forget() - a prefix not held forgets nothing, even when every key it would take is held by others', () => {
    const { tier, prefixes } = collidingPrefixes()
    expect(tier.forget(6, Uint32Array.of(0x20010db8, 5, 0, 0))).toBe(false)
    expect(prefixes.map(words => attempt(tier, 6, words))).toEqual([1_000, 1_000, 1_000, 1_000])
    expect(tier.trackedKeys).toBe(4)
  })

  it('.usage() - is 0, never below, once a key has refilled, however long ago', () => {
    const clock = new Float64Array(1)
    const tier = new Tier('t', 4, 1_000, { ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 4 }, clock)
    const address = Uint32Array.of(0x0a000001, 0, 0, 0)
    tier.check(4, address)
    tier.commit()
    expect(tier.usage(4, address)).toBe(0.25)
    clock[0] = 10_000
    expect(tier.usage(4, address)).toBe(0)
  })
})
