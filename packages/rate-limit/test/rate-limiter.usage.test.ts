import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RateLimiter } from '../src/rate-limiter.ts'
import type { RateLimiterInit } from '../src/rate-limiter.ts'

function fakeLimiter (init: RateLimiterInit = {}): { limiter: RateLimiter, clock: { set: (ms: number) => void } } {
  let now = 0
  return { limiter: new RateLimiter({ maxKeys: 256, ...init, clock: { now: () => now } }), clock: { set: (ms: number) => { now = ms } } }
}

describe('.usage()', () => {
  it('is 0 for a host never seen, rises by 1/threshold per admitted attempt, and falls back as the budget refills', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 4 })
    expect(limiter.usage('10.0.0.1')).toBe(0)
    limiter.tryAcquire('10.0.0.1')
    expect(limiter.usage('10.0.0.1')).toBe(0.25)
    limiter.tryAcquire('10.0.0.1')
    limiter.tryAcquire('10.0.0.1')
    expect(limiter.usage('10.0.0.1')).toBe(0.75)
    limiter.tryAcquire('10.0.0.1')
    expect(limiter.usage('10.0.0.1')).toBe(1)
    expect(limiter.tryAcquire('10.0.0.1').allowed).toBe(false)
    expect(limiter.usage('10.0.0.1')).toBe(1) // a refused attempt uses nothing, and usage stays at most 1
    clock.set(500)
    expect(limiter.usage('10.0.0.1')).toBe(0.5)
    clock.set(1_000)
    expect(limiter.usage('10.0.0.1')).toBe(0)
    clock.set(5_000)
    expect(limiter.usage('10.0.0.1')).toBe(0)
    expect(limiter.usage('10.0.0.2')).toBe(0)
  })

  it('uses no budget: any number of reads leave every attempt of the burst', () => {
    const { limiter } = fakeLimiter({ threshold: 3 })
    for (let index = 0; index < 100; index++) limiter.usage('10.0.0.1')
    expect([1, 2, 3, 4].map(() => limiter.tryAcquire('10.0.0.1').allowed)).toEqual([true, true, true, false])
  })

  it('is a read only: a key read again and again is still the least recently seen, and is dropped first', () => {
    const { limiter } = fakeLimiter({ threshold: 1, maxKeys: 2 })
    limiter.tryAcquire('10.0.0.1')
    limiter.tryAcquire('10.0.0.2')
    expect(limiter.usage('10.0.0.1')).toBe(1)
    limiter.tryAcquire('10.0.0.3') // evicts 10.0.0.1, the least recently seen
    expect(limiter.usage('10.0.0.1')).toBe(0)
    expect(limiter.usage('10.0.0.2')).toBe(1)
  })

  it('is the highest over the host tier and the wider tiers, keyed as tryAcquire keys, and leaves the global tier out', () => {
    const { limiter } = fakeLimiter({ threshold: 10, tiers: [{ name: 'subnet', limit: 4, ipv4PrefixLength: 24, ipv6PrefixLength: 48 }], global: { limit: 2 } })
    limiter.tryAcquire('10.0.0.1')
    expect(limiter.usage('10.0.0.1')).toBe(0.25) // the subnet tier: 1 of 4
    expect(limiter.usage('10.0.0.9')).toBe(0.25) // the same /24
    expect(limiter.usage('::ffff:10.0.0.9')).toBe(0.25) // the same host, IPv4-mapped
    expect(limiter.usage('10.0.1.1')).toBe(0) // the global tier (1 of 2) is left out
    limiter.tryAcquire('2001:db8:1:2::1')
    expect(limiter.usage('2001:db8:1:ffff::7')).toBe(0.25) // the same /48
    expect(limiter.usage('2001:db8:2::1')).toBe(0)
  })

  it('is 0 for everyone when the limiter is disabled, 1 where a tier admits nothing, 1 for text that is not an IP address', () => {
    expect(fakeLimiter({ enabled: false, threshold: 1 }).limiter.usage('10.0.0.1')).toBe(0)
    expect(fakeLimiter({ threshold: 0 }).limiter.usage('10.0.0.1')).toBe(1)
    const { limiter } = fakeLimiter()
    expect(limiter.usage('example.com')).toBe(1)
    expect(limiter.usage(5 as never)).toBe(1)
  })
})

describe('.charge()', () => {
  it('uses one attempt of the host\'s budget without asking, never below empty, and is counted', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 2 })
    expect(limiter.charge('10.0.0.1')).toBe(true)
    expect(limiter.usage('10.0.0.1')).toBe(0.5)
    expect(limiter.tryAcquire('10.0.0.1').allowed).toBe(true)
    expect(limiter.charge('10.0.0.1')).toBe(true) // already empty: stays empty
    expect(limiter.usage('10.0.0.1')).toBe(1)
    expect(limiter.tryAcquire('10.0.0.1')).toMatchObject({ allowed: false, retryAfterMs: 500 })
    clock.set(500)
    expect(limiter.tryAcquire('10.0.0.1').allowed).toBe(true) // a penalty delays by at most one window
    expect(limiter.stats()).toMatchObject({ admitted: 2, refused: 1, charged: 2 })
  })

  it('charges the wider tiers too, not the global tier', () => {
    const { limiter } = fakeLimiter({ threshold: 10, tiers: [{ name: 'subnet', limit: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 48 }], global: { limit: 1 } })
    limiter.charge('10.0.0.1')
    expect(limiter.usage('10.0.0.77')).toBe(0.5)
    expect(limiter.tryAcquire('10.1.0.1').allowed).toBe(true) // the global budget is untouched
  })

  it('charges nothing when disabled, for a tier of limit 0, or for text that is not an IP address', () => {
    const disabled = fakeLimiter({ enabled: false }).limiter
    expect(disabled.charge('10.0.0.1')).toBe(false)
    expect(disabled.stats().charged).toBe(0)
    const { limiter } = fakeLimiter({ threshold: 0 })
    expect(limiter.charge('10.0.0.1')).toBe(true)
    expect(limiter.stats().tiers[0]?.trackedKeys).toBe(0)
    expect(limiter.charge('example.com')).toBe(false)
  })

  it('makes room for a new key at maxKeys, dropping the least recently seen', () => {
    const { limiter } = fakeLimiter({ threshold: 1, maxKeys: 1 })
    limiter.tryAcquire('10.0.0.1')
    limiter.charge('2001:db8::1') // another family: its own table
    limiter.charge('10.0.0.2')
    expect(limiter.usage('10.0.0.1')).toBe(0)
    expect(limiter.usage('10.0.0.2')).toBe(1)
    expect(limiter.usage('2001:db8::1')).toBe(1)
    expect(limiter.stats().tiers[0]).toMatchObject({ trackedKeys: 2, evictions: 1, throttledEvictions: 1 })
  })
})

describe('fuzz', () => {
  it('.tryAcquire(), .usage(), .charge() and .reset() answer a value for anything, never throw', () => {
    const { limiter } = fakeLimiter({ threshold: 2, tiers: [{ name: 'subnet', limit: 3, ipv4PrefixLength: 24, ipv6PrefixLength: 48 }] })
    const input = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.ipV4(), fc.ipV6(), fc.ipV4Extended(),
      fc.nat(6).map(exponent => `1.2.3.4${' '.repeat(10 ** exponent)}`),
      fc.anything()
    )
    fc.assert(fc.property(input, ip => {
      const result = limiter.tryAcquire(ip as string)
      expect(typeof result.allowed).toBe('boolean')
      const used = limiter.usage(ip as string)
      expect(used).toBeGreaterThanOrEqual(0)
      expect(used).toBeLessThanOrEqual(1)
      expect(typeof limiter.charge(ip as string)).toBe('boolean')
      expect(typeof limiter.reset(ip as string)).toBe('boolean')
    }), { numRuns: 3_000 })
    // Megabyte inputs: close to vitest's 5 s default timeout on a loaded machine.
  }, 30_000)
})

describe('.usage() and .charge() with .tryAcquire(), on one clock', () => {
  it('read and charge at the time of the clock since the limiter\'s origin, as tryAcquire does', () => {
    let now = 10_000 // the origin: the clock's value at construction
    const limiter = new RateLimiter({ threshold: 4, clock: { now: () => now } })
    limiter.tryAcquire('10.0.0.1')
    limiter.tryAcquire('2001:db8::1')
    expect(limiter.usage('10.0.0.1')).toBe(0.25)
    expect(limiter.usage('2001:db8::1')).toBe(0.25)
    now = 10_500
    limiter.charge('10.0.0.2')
    expect(limiter.usage('10.0.0.2')).toBe(0.25)
    expect(limiter.usage('10.0.0.1')).toBe(0) // 500 ms gave back its one attempt
    now = 10_750
    expect(limiter.usage('10.0.0.2')).toBe(0)
  })

  it('a clock that goes back before the origin: a host never seen still has its whole budget', () => {
    let now = 5_000
    const limiter = new RateLimiter({ threshold: 4, clock: { now: () => now } })
    now = 4_000
    expect(limiter.usage('10.0.0.1')).toBe(0)
    expect(limiter.usage('2001:db8::1')).toBe(0)
    expect([1, 2, 3, 4, 5].map(() => limiter.tryAcquire('10.0.0.1').allowed)).toEqual([true, true, true, true, false])
    limiter.charge('10.0.0.2')
    expect(limiter.usage('10.0.0.2')).toBe(0.25)
  })

  it('.charge() - a held host is charged in place: no key is dropped for it', () => {
    const { limiter } = fakeLimiter({ threshold: 4, maxKeys: 4 })
    limiter.tryAcquire('10.0.0.1')
    limiter.tryAcquire('2001:db8::1')
    limiter.charge('10.0.0.1')
    limiter.charge('2001:db8::1')
    expect(limiter.usage('10.0.0.1')).toBe(0.5)
    expect(limiter.usage('2001:db8::1')).toBe(0.5)
    expect(limiter.stats().tiers[0]).toMatchObject({ trackedKeys: 2, evictions: 0, throttledEvictions: 0 })
  })

  it('an IPv6 key is marked as seen by tryAcquire and charge, not by usage', () => {
    const { limiter } = fakeLimiter({ threshold: 1, maxKeys: 2 })
    limiter.tryAcquire('2001:db8:0:1::1')
    limiter.tryAcquire('2001:db8:0:2::1')
    limiter.usage('2001:db8:0:1::1') // a read: 1 stays the least recently seen
    limiter.tryAcquire('2001:db8:0:3::1') // drops 1
    expect(limiter.usage('2001:db8:0:1::1')).toBe(0)
    limiter.tryAcquire('2001:db8:0:2::1') // seen again: 3 is now the least recently seen
    limiter.tryAcquire('2001:db8:0:4::1') // drops 3
    expect(limiter.usage('2001:db8:0:3::1')).toBe(0)
    expect(limiter.usage('2001:db8:0:2::1')).toBe(1)
    limiter.charge('2001:db8:0:2::1') // seen again: 4 is now the least recently seen
    limiter.tryAcquire('2001:db8:0:5::1') // drops 4
    expect(limiter.usage('2001:db8:0:4::1')).toBe(0)
    expect(limiter.usage('2001:db8:0:2::1')).toBe(1)
  })

  it('a disabled limiter reads 0 even where a tier admits nothing or the text is no address', () => {
    const { limiter } = fakeLimiter({ enabled: false, threshold: 0 })
    expect(limiter.usage('10.0.0.1')).toBe(0)
    expect(limiter.usage('example.com')).toBe(0)
  })
})
