import { InvalidConfigError, resolveConfig } from '@cm/config'
import { describe, expect, it } from 'vitest'
import { createRateLimiter, RateLimiter } from '../src/rate-limiter.ts'
import type { RateLimiterInit, RateLimitResult } from '../src/rate-limiter.ts'

/** A limiter on a fake clock that starts at 0 ms, with small key tables unless told. */
function fakeLimiter (init: RateLimiterInit = {}): { limiter: RateLimiter, clock: { now: () => number, set: (ms: number) => void } } {
  let now = 0
  const clock = { now: () => now, set: (ms: number) => { now = ms } }
  return { limiter: new RateLimiter({ maxKeys: 256, ...init, clock }), clock }
}

function allowed (limiter: RateLimiter, ip: string): boolean {
  return limiter.tryAcquire(ip).allowed
}

/** Admitted (true) or refused (false) for each of `count` attempts at the same moment. */
function burst (limiter: RateLimiter, ip: string, count: number): boolean[] {
  return Array.from({ length: count }, () => allowed(limiter, ip))
}

describe('py-libp2p reference cases (tests/core/network, TestRateLimiter)', () => {
  it('.tryAcquire() - threshold 2: allow, allow, refuse for one IP', () => {
    const { limiter } = fakeLimiter({ threshold: 2 })
    expect(burst(limiter, '192.168.1.1', 3)).toEqual([true, true, false])
  })

  it('.reset() - threshold 1: allow, refuse, reset, allow', () => {
    const { limiter } = fakeLimiter({ threshold: 1 })
    expect(allowed(limiter, '192.168.1.1')).toBe(true)
    expect(allowed(limiter, '192.168.1.1')).toBe(false)
    expect(limiter.reset('192.168.1.1')).toBe(true)
    expect(allowed(limiter, '192.168.1.1')).toBe(true)
  })

  it('.tryAcquire() - threshold 1: two IPs have independent budgets', () => {
    const { limiter } = fakeLimiter({ threshold: 1 })
    expect([
      allowed(limiter, '192.168.1.1'),
      allowed(limiter, '192.168.1.2'),
      allowed(limiter, '192.168.1.1'),
      allowed(limiter, '192.168.1.2')
    ]).toEqual([true, true, false, false])
  })
})

describe('rate semantics', () => {
  it('.tryAcquire() - admits a burst of threshold, then one attempt per 1000 / threshold ms', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 5 })
    expect(burst(limiter, '10.0.0.1', 6)).toEqual([true, true, true, true, true, false])
    clock.set(199)
    expect(allowed(limiter, '10.0.0.1')).toBe(false)
    clock.set(200)
    expect(burst(limiter, '10.0.0.1', 2)).toEqual([true, false])
    clock.set(400)
    expect(allowed(limiter, '10.0.0.1')).toBe(true)
  })

  it('.tryAcquire() - refills the whole burst after a second of silence, and no more', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 5 })
    burst(limiter, '10.0.0.1', 5)
    clock.set(60_000) // a minute later: still only a burst of 5
    expect(burst(limiter, '10.0.0.1', 6)).toEqual([true, true, true, true, true, false])
  })

  it('.tryAcquire() - says how long to wait, rounded up to the millisecond, and means it', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 3 })
    burst(limiter, '10.0.0.1', 3)
    const refused = limiter.tryAcquire('10.0.0.1')
    expect(refused).toEqual({ allowed: false, reason: 'rate-limit', retryAfterMs: 334, tier: 'host' })
    clock.set(333)
    expect(limiter.tryAcquire('10.0.0.1')).toEqual({ allowed: false, reason: 'rate-limit', retryAfterMs: 1, tier: 'host' })
    clock.set(334)
    expect(limiter.tryAcquire('10.0.0.1')).toEqual({ allowed: true, retryAfterMs: 0 })
  })

  it('.tryAcquire() - has no fixed-window edge: a burst at 999 ms leaves nothing for 1000 ms', () => {
    // js-libp2p's fixed window admits 5 at 999 ms and 5 more at 1000 ms (10 within 1 ms).
    const { limiter, clock } = fakeLimiter({ threshold: 5 })
    clock.set(999)
    expect(burst(limiter, '10.0.0.1', 5).every(Boolean)).toBe(true)
    clock.set(1_000)
    expect(burst(limiter, '10.0.0.1', 5).filter(Boolean)).toHaveLength(0)
  })

  it('.tryAcquire() - admits at most 2 × threshold - 1 in any one-second window', () => {
    // The most a token bucket can give: the full burst, then one per interval as it refills.
    const { limiter, clock } = fakeLimiter({ threshold: 5 })
    let admitted = 0
    for (let ms = 0; ms < 1_000; ms++) {
      clock.set(ms)
      while (allowed(limiter, '10.0.0.1')) admitted++
    }
    expect(admitted).toBe(9)
  })

  it('.tryAcquire() - refused attempts use no budget: a host retrying too fast still gets the rate', () => {
    // py-libp2p counts refused attempts, so a host retrying every 100 ms at threshold 5 is
    // locked out for good; here every second attempt (one per 200 ms) is admitted.
    const { limiter, clock } = fakeLimiter({ threshold: 5 })
    burst(limiter, '10.0.0.1', 5)
    const decisions: boolean[] = []
    for (let ms = 100; ms <= 2_000; ms += 100) {
      clock.set(ms)
      decisions.push(allowed(limiter, '10.0.0.1'))
    }
    expect(decisions.filter(Boolean)).toHaveLength(10)
    expect(decisions.slice(0, 4)).toEqual([false, true, false, true])
  })

  it('.tryAcquire() - a host that slows to the rate after hammering is admitted every time', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 5 })
    for (let index = 0; index < 1_000; index++) {
      limiter.tryAcquire('10.0.0.1') // hammering at one instant
    }
    const decisions: boolean[] = []
    for (let ms = 200; ms <= 5_000; ms += 200) {
      clock.set(ms)
      decisions.push(allowed(limiter, '10.0.0.1'))
    }
    expect(decisions.every(Boolean)).toBe(true)
  })

  it('.tryAcquire() - threshold 0 refuses every attempt for good and keeps no state', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 0 })
    expect(limiter.tryAcquire('10.0.0.1')).toEqual({ allowed: false, reason: 'rate-limit', retryAfterMs: Number.POSITIVE_INFINITY, tier: 'host' })
    clock.set(1e9)
    expect(allowed(limiter, '2001:db8::1')).toBe(false)
    expect(limiter.stats().tiers[0]?.trackedKeys).toBe(0)
  })

  it('.tryAcquire() - enabled false admits everything, even an invalid address, keeping no state', () => {
    const { limiter } = fakeLimiter({ threshold: 0, enabled: false })
    expect(limiter.enabled).toBe(false)
    expect(burst(limiter, '10.0.0.1', 100).every(Boolean)).toBe(true)
    expect(limiter.tryAcquire('not an address')).toEqual({ allowed: true, retryAfterMs: 0 })
    expect(limiter.stats()).toMatchObject({ enabled: false, admitted: 101, refused: 0 })
    expect(limiter.stats().tiers[0]?.trackedKeys).toBe(0)
  })

  it('.tryAcquire() - refuses an address that is not an IP address, for good, as a value', () => {
    const { limiter } = fakeLimiter()
    for (const ip of ['', 'example.com', '010.0.0.1', '1.2.3.4:80', '[::1]', '/ip4/1.2.3.4', ' 10.0.0.1']) {
      expect(limiter.tryAcquire(ip)).toEqual({ allowed: false, reason: 'invalid-address', retryAfterMs: Number.POSITIVE_INFINITY })
    }
    expect(limiter.stats()).toMatchObject({ admitted: 0, refused: 7, invalidAddresses: 7 })
  })

  it('.tryAcquire() - survives a clock going backwards, erring towards refusing', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 1 })
    clock.set(10_000)
    expect(allowed(limiter, '10.0.0.1')).toBe(true)
    clock.set(5_000)
    expect(limiter.tryAcquire('10.0.0.1')).toMatchObject({ allowed: false, retryAfterMs: 6_000 })
    clock.set(11_000)
    expect(allowed(limiter, '10.0.0.1')).toBe(true)
  })

  it('.tryAcquire() - a fractional clock (performance.now()) never refuses a full budget\'s last token by rounding', () => {
    // With time in fractions of a millisecond, (now + window) - now can exceed the window by
    // one ulp: the last token of a burst was refused, "retry in 1 ms" (every fresh host at threshold 1).
    for (const threshold of [1, 3, 5, 7]) {
      const { limiter, clock } = fakeLimiter({ threshold })
      for (let step = 0; step < 200; step++) {
        clock.set(63.123456789012 + step * 1_000.0123456789)
        expect(burst(limiter, `10.0.${threshold}.${step}`, threshold + 1)).toEqual([...Array.from({ length: threshold }, () => true), false])
      }
    }
  })

  it('.tryAcquire() - uses the clock given and an origin taken at construction', () => {
    let now = 1_700_000_000_000 // a wall clock works too: only differences are used
    const limiter = createRateLimiter({ threshold: 2, clock: { now: () => now } })
    expect(burst(limiter, '10.0.0.1', 3)).toEqual([true, true, false])
    now += 500
    expect(burst(limiter, '10.0.0.1', 2)).toEqual([true, false])
  })
})

describe('keys', () => {
  it('.tryAcquire() - keys IPv6 by its /64 by default', () => {
    const { limiter } = fakeLimiter({ threshold: 1 })
    expect(allowed(limiter, '2001:db8:1:2::1')).toBe(true)
    expect(allowed(limiter, '2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(false) // same /64
    expect(allowed(limiter, '2001:DB8:1:2:0:0:0:42')).toBe(false) // same /64, other spelling
    expect(allowed(limiter, '2001:db8:1:3::1')).toBe(true) // the next /64
    expect(allowed(limiter, '2001:db9:1:2::1')).toBe(true)
  })

  it('.tryAcquire() - keys IPv4 by the whole address by default', () => {
    const { limiter } = fakeLimiter({ threshold: 1 })
    expect(burst(limiter, '10.0.0.1', 2)).toEqual([true, false])
    expect(allowed(limiter, '10.0.0.2')).toBe(true)
    expect(allowed(limiter, '255.255.255.255')).toBe(true)
    expect(allowed(limiter, '0.0.0.0')).toBe(true)
    expect(allowed(limiter, '128.0.0.0')).toBe(true) // the sign bit of the int32 key
    expect(allowed(limiter, '127.255.255.255')).toBe(true)
  })

  it('.tryAcquire() - counts an IPv4-mapped IPv6 address as the IPv4 address', () => {
    const { limiter } = fakeLimiter({ threshold: 2 })
    expect(allowed(limiter, '10.0.0.1')).toBe(true)
    expect(allowed(limiter, '::ffff:10.0.0.1')).toBe(true)
    expect(allowed(limiter, '::ffff:a00:1')).toBe(false)
    expect(limiter.stats().tiers[0]?.trackedKeys).toBe(1)
  })

  it('.tryAcquire() - ignores an IPv6 zone', () => {
    const { limiter } = fakeLimiter({ threshold: 1 })
    expect(allowed(limiter, 'fe80::1%eth0')).toBe(true)
    expect(allowed(limiter, 'fe80::1%eth1')).toBe(false)
  })

  it('.tryAcquire() - never lets an IPv4 key meet an IPv6 key', () => {
    // 0.0.0.0 and :: (and the /0 of each family) are different hosts, at every prefix length.
    const pairs = [['0.0.0.0', '::'], ['128.0.0.0', '8000::'], ['255.255.255.255', 'ffff:ffff::'], ['0.0.0.1', '0:1::']]
    for (const [ipv4PrefixLength, ipv6PrefixLength] of [[32, 64], [32, 128], [0, 0], [32, 32], [24, 48], [1, 1], [32, 52], [32, 53]] as const) {
      for (const [ipv4, ipv6] of pairs) {
        const { limiter } = fakeLimiter({ threshold: 1, ipv4PrefixLength, ipv6PrefixLength })
        expect(allowed(limiter, ipv4!)).toBe(true)
        expect(allowed(limiter, ipv6!)).toBe(true)
        expect(allowed(limiter, ipv4!)).toBe(false)
        expect(allowed(limiter, ipv6!)).toBe(false)
      }
    }
  })

  it('.tryAcquire() - groups by the prefix lengths given', () => {
    const { limiter } = fakeLimiter({ threshold: 1, ipv4PrefixLength: 24, ipv6PrefixLength: 48 })
    expect(allowed(limiter, '192.0.2.1')).toBe(true)
    expect(allowed(limiter, '192.0.2.200')).toBe(false)
    expect(allowed(limiter, '192.0.3.1')).toBe(true)
    expect(allowed(limiter, '2001:db8:1:aaaa::1')).toBe(true)
    expect(allowed(limiter, '2001:db8:1:bbbb::1')).toBe(false)
    expect(allowed(limiter, '2001:db8:2::1')).toBe(true)
  })
})

describe('tiers', () => {
  it('.tryAcquire() - a wider tier limits a subnet across its hosts', () => {
    const { limiter } = fakeLimiter({ threshold: 5, tiers: [{ name: 'subnet', limit: 3, ipv4PrefixLength: 24, ipv6PrefixLength: 48 }] })
    expect(['192.0.2.1', '192.0.2.2', '192.0.2.3'].map(ip => allowed(limiter, ip))).toEqual([true, true, true])
    expect(limiter.tryAcquire('192.0.2.4')).toEqual({ allowed: false, reason: 'rate-limit', retryAfterMs: 334, tier: 'subnet' })
    expect(allowed(limiter, '192.0.3.1')).toBe(true)
    expect(['2001:db8:0:1::1', '2001:db8:0:2::1', '2001:db8:0:3::1', '2001:db8:0:4::1'].map(ip => allowed(limiter, ip))).toEqual([true, true, true, false])
  })

  it('.tryAcquire() - an attempt a wider tier refuses uses no budget in the host tier', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 1, tiers: [{ name: 'subnet', limit: 1 }] })
    expect(allowed(limiter, '192.0.2.1')).toBe(true)
    expect(limiter.tryAcquire('192.0.2.2')).toMatchObject({ allowed: false, tier: 'subnet' })
    clock.set(1_000) // the subnet refilled; 192.0.2.2's own budget was never touched
    expect(allowed(limiter, '192.0.2.2')).toBe(true)
    expect(limiter.stats().tiers[0]?.trackedKeys).toBe(2)
  })

  it('.tryAcquire() - the global tier limits everyone together', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 5, global: { limit: 2, windowMs: 10_000 } })
    expect(allowed(limiter, '10.0.0.1')).toBe(true)
    expect(allowed(limiter, '2001:db8::1')).toBe(true)
    expect(limiter.tryAcquire('10.9.9.9')).toEqual({ allowed: false, reason: 'rate-limit', retryAfterMs: 5_000, tier: 'global' })
    clock.set(5_000)
    expect(allowed(limiter, '10.9.9.9')).toBe(true)
  })

  it('.tryAcquire() - reports the most specific refusing tier and the longest wait', () => {
    const { limiter } = fakeLimiter({
      threshold: 1,
      tiers: [
        { name: 'wide', limit: 1, windowMs: 60_000, ipv4PrefixLength: 8, ipv6PrefixLength: 32 },
        { name: 'narrow', limit: 1, windowMs: 10_000, ipv4PrefixLength: 24, ipv6PrefixLength: 56 }
      ]
    })
    expect(allowed(limiter, '10.0.0.1')).toBe(true)
    // host (1 s), narrow (10 s) and wide (60 s) all refuse; the host is the most specific.
    expect(limiter.tryAcquire('10.0.0.1')).toEqual({ allowed: false, reason: 'rate-limit', retryAfterMs: 60_000, tier: 'host' })
    // Another host of the same /24: narrow is checked before wide although listed after it.
    expect(limiter.tryAcquire('10.0.0.2')).toMatchObject({ tier: 'narrow', retryAfterMs: 60_000 })
    expect(limiter.tryAcquire('10.1.0.1')).toMatchObject({ tier: 'wide' })
    expect(limiter.stats().tiers.map(tier => [tier.name, tier.refused])).toEqual([['host', 1], ['wide', 3], ['narrow', 2]])
  })

  it('.tryAcquire() - orders tiers per family: an IPv6 /40 tier comes before an IPv6 /32 one', () => {
    const { limiter } = fakeLimiter({
      threshold: 5,
      tiers: [
        { name: 'a', limit: 1, ipv4PrefixLength: 24, ipv6PrefixLength: 32 },
        { name: 'b', limit: 1, ipv4PrefixLength: 16, ipv6PrefixLength: 40 }
      ]
    })
    allowed(limiter, '10.0.0.1')
    allowed(limiter, '2001:db8::1')
    expect(limiter.tryAcquire('10.0.0.2')).toMatchObject({ tier: 'a' })
    expect(limiter.tryAcquire('2001:db8::2')).toMatchObject({ tier: 'b' })
  })

  it('.tryAcquire() - a tier with limit 0 refuses everything under its name', () => {
    const { limiter } = fakeLimiter({ tiers: [{ name: 'closed', limit: 0 }] })
    expect(limiter.tryAcquire('10.0.0.1')).toEqual({ allowed: false, reason: 'rate-limit', retryAfterMs: Number.POSITIVE_INFINITY, tier: 'closed' })
    expect(limiter.tryAcquire('2001:db8::1')).toMatchObject({ allowed: false, tier: 'closed' })
    expect(limiter.stats().tiers.map(tier => [tier.name, tier.refused, tier.trackedKeys])).toEqual([['host', 0, 0], ['closed', 2, 0]])
  })

  it('constructor - takes the options of a resolved ConnectionConfig', () => {
    const config = resolveConfig({ inboundConnectionThreshold: 2, rateLimit: { tiers: [{ limit: 3 }], global: { limit: 100 } } })
    const limiter = createRateLimiter({ threshold: config.inboundConnectionThreshold, ...config.rateLimit })
    expect(limiter.stats().tiers.map(tier => [tier.name, tier.limit])).toEqual([['host', 2], ['ipv4/24+ipv6/48', 3], ['global', 100]])
  })
})

describe('memory', () => {
  it('.tryAcquire() - at maxKeys, drops the least recently seen key first', () => {
    const { limiter } = fakeLimiter({ threshold: 1, maxKeys: 3 })
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      allowed(limiter, ip)
    }
    expect(allowed(limiter, '10.0.0.1')).toBe(false) // seen again: now the most recent
    expect(allowed(limiter, '10.0.0.4')).toBe(true) // makes room: 10.0.0.2 goes
    expect(allowed(limiter, '10.0.0.3')).toBe(false) // still held (and now the most recent)
    expect(allowed(limiter, '10.0.0.1')).toBe(false) // still held
    expect(allowed(limiter, '10.0.0.2')).toBe(true) // forgotten: its budget back early
    expect(limiter.stats().tiers[0]).toMatchObject({ trackedKeys: 3, evictions: 2, throttledEvictions: 2 })
  })

  it('.tryAcquire() - a key dropped the very millisecond it refills is not counted as throttled', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 1, maxKeys: 1 })
    allowed(limiter, '10.0.0.1')
    clock.set(1_000) // 10.0.0.1 has its budget back exactly now
    allowed(limiter, '10.0.0.2')
    expect(limiter.stats().tiers[0]).toMatchObject({ evictions: 1, throttledEvictions: 0 })
    clock.set(1_999)
    allowed(limiter, '10.0.0.3') // 10.0.0.2 refills at 2,000: still throttled
    expect(limiter.stats().tiers[0]).toMatchObject({ evictions: 2, throttledEvictions: 1 })
  })

  it('.tryAcquire() - drops keys not seen for a window first, and loses nothing by it', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 1, maxKeys: 2 })
    allowed(limiter, '10.0.0.1')
    clock.set(500)
    allowed(limiter, '10.0.0.2')
    clock.set(1_200) // 10.0.0.1 has refilled; 10.0.0.2 has not
    expect(allowed(limiter, '10.0.0.3')).toBe(true)
    expect(limiter.stats().tiers[0]).toMatchObject({ evictions: 1, throttledEvictions: 0 })
    expect(allowed(limiter, '10.0.0.2')).toBe(false) // kept: still throttled
  })

  it('.tryAcquire() - a flood of 1,000,000 distinct addresses stays at maxKeys per family, and a host within its rate is always admitted', () => {
    const { limiter, clock } = fakeLimiter({ threshold: 5, maxKeys: 1_000 })
    let legitimate = 0
    let legitimateRefused = 0
    let largest = 0
    // One second of simulated time: an attempt from a new address every microsecond, and one
    // from the legitimate host every 250 ms (4 per second, within its 5).
    for (let index = 0; index < 1_000_000; index++) {
      clock.set(index / 1_000)
      const ip = index % 2 === 0
        ? `11.${index >>> 16}.${(index >>> 8) & 0xff}.${index & 0xff}` // never 10.0.0.1
        : `2001:db8:${(index >>> 16).toString(16)}:${(index & 0xffff).toString(16)}::1` // one /64 each
      if (!allowed(limiter, ip)) {
        throw new Error(`a fresh address was refused: ${ip}`)
      }
      if (index % 250_000 === 0) {
        legitimate++
        if (!allowed(limiter, '10.0.0.1')) legitimateRefused++
      }
      if (index % 100_000 === 0) {
        largest = Math.max(largest, limiter.stats().tiers[0]?.trackedKeys ?? 0)
      }
    }
    const stats = limiter.stats().tiers[0]
    expect(legitimate).toBe(4)
    expect(legitimateRefused).toBe(0)
    // maxKeys per address family: 1,000 IPv4 keys and 1,000 IPv6 keys.
    expect(largest).toBe(2_000)
    expect(stats).toMatchObject({ trackedKeys: 2_000, maxKeys: 1_000 })
    expect(stats?.evictions).toBe(1_000_004 - 2_000)
  }, 60_000)
})

describe('.reset() and .clear()', () => {
  it('.reset() - text that is no address forgets nothing, whatever was checked before it', () => {
    const { limiter } = fakeLimiter({ threshold: 1 })
    for (const ip of ['2001:db8::1', '10.0.0.1']) {
      expect(allowed(limiter, ip)).toBe(true)
      expect(limiter.reset(`${ip}x`)).toBe(false)
      expect(limiter.reset('nonsense')).toBe(false)
      expect(allowed(limiter, ip)).toBe(false)
    }
  })

  it('.reset() - forgets the host and its subnets in wider tiers, not the global tier', () => {
    const { limiter } = fakeLimiter({ threshold: 1, tiers: [{ name: 'subnet', limit: 1 }], global: { limit: 2 } })
    expect(allowed(limiter, '192.0.2.1')).toBe(true)
    expect(limiter.reset('::ffff:192.0.2.1')).toBe(true) // any spelling of the address
    expect(allowed(limiter, '192.0.2.1')).toBe(true)
    expect(limiter.tryAcquire('192.0.2.1')).toMatchObject({ allowed: false, tier: 'host' })
    limiter.reset('192.0.2.1')
    expect(limiter.tryAcquire('192.0.2.1')).toMatchObject({ allowed: false, tier: 'global' })
  })

  it('.reset() - says whether anything was held', () => {
    const { limiter } = fakeLimiter()
    expect(limiter.reset('10.0.0.1')).toBe(false)
    allowed(limiter, '10.0.0.1')
    expect(limiter.reset('10.0.0.1')).toBe(true)
    expect(limiter.reset('10.0.0.1')).toBe(false)
    expect(limiter.reset('nonsense')).toBe(false)
    expect(limiter.stats().tiers[0]?.trackedKeys).toBe(0)
  })

  it('.reset() - frees the key\'s room for others', () => {
    const { limiter } = fakeLimiter({ threshold: 1, maxKeys: 2 })
    allowed(limiter, '10.0.0.1')
    allowed(limiter, '10.0.0.2')
    limiter.reset('10.0.0.1')
    allowed(limiter, '10.0.0.3')
    expect(limiter.stats().tiers[0]).toMatchObject({ trackedKeys: 2, evictions: 0 })
    expect(allowed(limiter, '10.0.0.2')).toBe(false)
  })

  it('.clear() - gives every key its full budget back and keeps the counters', () => {
    const { limiter } = fakeLimiter({ threshold: 1, tiers: [{ name: 'subnet', limit: 1 }], global: { limit: 1 } })
    allowed(limiter, '10.0.0.1')
    allowed(limiter, '10.0.0.1')
    limiter.clear()
    expect(limiter.stats().tiers.map(tier => tier.trackedKeys)).toEqual([0, 0, 0])
    expect(allowed(limiter, '10.0.0.1')).toBe(true)
    expect(limiter.stats()).toMatchObject({ admitted: 2, refused: 1 })
  })
})

describe('.stats()', () => {
  it('.stats() - counts admitted and refused attempts, per tier, in report order', () => {
    const { limiter } = fakeLimiter({ threshold: 1, tiers: [{ name: 'subnet', limit: 2 }], global: { limit: 10 } })
    const results: RateLimitResult[] = ['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.3', 'bad'].map(ip => limiter.tryAcquire(ip))
    expect(results.map(result => result.allowed)).toEqual([true, false, true, false, false])
    expect(limiter.stats()).toEqual({
      enabled: true,
      admitted: 2,
      refused: 3,
      invalidAddresses: 1,
      charged: 0,
      tiers: [
        { name: 'host', limit: 1, windowMs: 1_000, trackedKeys: 2, maxKeys: 256, refused: 1, evictions: 0, throttledEvictions: 0 },
        { name: 'subnet', limit: 2, windowMs: 1_000, trackedKeys: 1, maxKeys: 256, refused: 1, evictions: 0, throttledEvictions: 0 },
        { name: 'global', limit: 10, windowMs: 1_000, trackedKeys: 1, maxKeys: 1, refused: 0, evictions: 0, throttledEvictions: 0 }
      ]
    })
  })
})

describe('constructor', () => {
  it('constructor - uses the defaults: 5 per second per host, IPv4 /32, IPv6 /64, 65,536 keys', () => {
    const limiter = new RateLimiter()
    expect(limiter.enabled).toBe(true)
    expect(limiter.stats().tiers).toEqual([{ name: 'host', limit: 5, windowMs: 1_000, trackedKeys: 0, maxKeys: 65_536, refused: 0, evictions: 0, throttledEvictions: 0 }])
    expect(burst(limiter, '10.0.0.1', 6)).toEqual([true, true, true, true, true, false])
  })

  it('constructor - refuses invalid options, listing every problem as @cm/config does', () => {
    let caught: unknown
    try {
      createRateLimiter({ threshold: -1, maxKeys: 0, tiers: [{ limit: 1.5 }, {} as never], clock: {} as never, inboundConnectionThreshold: 3 } as RateLimiterInit)
    } catch (error) {
      caught = error
    }
    expect(InvalidConfigError.isInstance(caught)).toBe(true)
    expect((caught as InvalidConfigError).problems.map(problem => problem.message)).toEqual([
      'Unknown option `inboundConnectionThreshold`; known options are `threshold`, `enabled`, `ipv4PrefixLength`, `ipv6PrefixLength`, `maxKeys`, `tiers`, `global`, `clock`',
      'Expected `threshold` to be an integer >= 0 and <= 1000000, got -1 (number)',
      'Expected `maxKeys` to be an integer >= 1 and <= 16777216, got 0 (number)',
      'Expected `tiers[0].limit` to be an integer >= 0 and <= 1000000, got 1.5 (number)',
      'Expected `tiers[1].limit` to be an integer >= 0 and <= 1000000, got undefined: a limit is required',
      'Expected `clock` to be a clock (an object with a now() method), got an object (Object)'
    ])
  })
})
