import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RateLimiter } from '../src/rate-limiter.ts'
import type { RateLimiterInit } from '../src/rate-limiter.ts'

// Property tests of the limiter against simple reference models, on a fake clock with
// whole milliseconds (and small key tables: the limiter allocates them up front). Five
// hosts: three IPv4 addresses in two /24s, and two IPv6 /64s in one /48.
const HOSTS = ['192.0.2.1', '192.0.2.2', '198.51.100.1', '2001:db8:0:1::1', '2001:db8:0:2::2'] as const
const SUBNET: Record<string, string> = {
  '192.0.2.1': '192.0.2',
  '192.0.2.2': '192.0.2',
  '198.51.100.1': '198.51.100',
  '2001:db8:0:1::1': '2001:db8:0',
  '2001:db8:0:2::2': '2001:db8:0'
}

interface Attempt { readonly at: number, readonly host: string }

/** Attempts at non-decreasing whole-millisecond times: bursts (gap 0) and pauses. */
const attempts = fc.array(
  fc.record({ gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 1_500 })), host: fc.constantFrom(...HOSTS) }),
  { maxLength: 150 }
).map(list => {
  let at = 0
  return list.map(({ gap, host }): Attempt => ({ at: (at += gap), host }))
})

const threshold = fc.integer({ min: 1, max: 8 })

/** Runs the attempts through a limiter on a fake clock; returns each decision. */
function run (init: RateLimiterInit, list: readonly Attempt[]): Array<{ allowed: boolean, retryAfterMs: number }> {
  let now = 0
  const limiter = new RateLimiter({ maxKeys: 64, ...init, clock: { now: () => now } })
  return list.map(attempt => {
    now = attempt.at
    const result = limiter.tryAcquire(attempt.host)
    return { allowed: result.allowed, retryAfterMs: result.retryAfterMs }
  })
}

/**
 * The reference model of a rate: a token bucket of `limit` tokens refilling `limit` per
 * `windowMs`, in integer units of 1/windowMs of a token, so that it is exact.
 */
class TokenBucket {
  readonly #buckets = new Map<string, { tokens: number, at: number }>()
  readonly limit: number
  readonly windowMs: number

  constructor (limit: number, windowMs: number) {
    this.limit = limit
    this.windowMs = windowMs
  }

  /** Milliseconds until `key` has a token at `at` (0: it has one now). */
  wait (key: string, at: number): number {
    const bucket = this.#refill(key, at)
    return bucket.tokens >= this.windowMs ? 0 : Math.ceil((this.windowMs - bucket.tokens) / this.limit)
  }

  take (key: string, at: number): void {
    this.#refill(key, at).tokens -= this.windowMs
  }

  #refill (key: string, at: number): { tokens: number, at: number } {
    const full = this.limit * this.windowMs
    const bucket = this.#buckets.get(key) ?? { tokens: full, at }
    bucket.tokens = Math.min(full, bucket.tokens + (at - bucket.at) * this.limit)
    bucket.at = at
    this.#buckets.set(key, bucket)
    return bucket
  }
}

describe('RateLimiter against reference models', () => {
  it('.tryAcquire() - never admits more than limit + ceil(d × limit / 1000) - 1 in any d ms, so at most 2 × threshold - 1 in any second', () => {
    // Reference: the list of admitted timestamps per host.
    fc.assert(fc.property(threshold, attempts, (limit, list) => {
      const decisions = run({ threshold: limit }, list)
      const admitted = new Map<string, number[]>()
      list.forEach((attempt, index) => {
        if (decisions[index]?.allowed === true) {
          admitted.set(attempt.host, [...admitted.get(attempt.host) ?? [], attempt.at])
        }
      })
      for (const times of admitted.values()) {
        for (const start of times) {
          for (const span of [1, 100, 999, 1_000, 2_500]) {
            const inWindow = times.filter(at => at >= start && at < start + span).length
            expect(inWindow).toBeLessThanOrEqual(limit + Math.ceil(span * limit / 1_000) - 1)
          }
        }
      }
    }), { numRuns: 2_000 })
  }, 60_000)

  it('.tryAcquire() - never refuses a host that keeps to the rate, whatever the others do', () => {
    // Reference: the polite host's own timestamps; it makes an attempt only when fewer than
    // `threshold` of its attempts fall in the last second (so never more than `threshold`
    // in any one-second window). The other hosts hammer as they like.
    fc.assert(fc.property(threshold, attempts, (limit, list) => {
      const polite: number[] = []
      const filtered = list.filter(attempt => {
        if (attempt.host !== HOSTS[0]) return true
        if (polite.filter(at => at > attempt.at - 1_000).length >= limit) return false
        polite.push(attempt.at)
        return true
      })
      const decisions = run({ threshold: limit }, filtered)
      filtered.forEach((attempt, index) => {
        if (attempt.host === HOSTS[0]) {
          expect(decisions[index]?.allowed).toBe(true)
        }
      })
    }), { numRuns: 2_000 })
  }, 60_000)

  it('.tryAcquire() - refused attempts change nothing: repeating each refused attempt changes no other decision', () => {
    fc.assert(fc.property(threshold, attempts, fc.integer({ min: 1, max: 3 }), (limit, list, repeats) => {
      const init = { threshold: limit, tiers: [{ limit: limit + 1 }], global: { limit: 3 * limit } }
      const decisions = run(init, list)
      // The same attempts, each refused one followed by `repeats` copies (same host, same time).
      const repeated = list.flatMap((attempt, index) => decisions[index]?.allowed === true ? [attempt] : Array.from({ length: repeats + 1 }, () => attempt))
      const original = list.flatMap((_, index) => decisions[index]?.allowed === true ? [true] : [true, ...Array.from({ length: repeats }, () => false)])
      const again = run(init, repeated)
      expect(again.filter((_, index) => original[index])).toEqual(decisions)
      expect(again.filter((_, index) => original[index] === false).every(decision => !decision.allowed)).toBe(true)
    }), { numRuns: 1_000 })
  }, 60_000)

  it('.tryAcquire() - decides exactly as per-tier token buckets, where a refused attempt takes no token anywhere', () => {
    // Reference: an integer token bucket per key per tier (host, /24 and /48, global).
    const config = fc.record({
      host: threshold,
      subnet: fc.option(fc.record({ limit: fc.integer({ min: 1, max: 12 }), windowMs: fc.constantFrom(1_000, 3_000, 700) }), { nil: undefined }),
      global: fc.option(fc.record({ limit: fc.integer({ min: 1, max: 20 }), windowMs: fc.constantFrom(1_000, 2_000, 333) }), { nil: undefined })
    })
    fc.assert(fc.property(config, attempts, (tiers, list) => {
      const init: RateLimiterInit = { threshold: tiers.host }
      const models: Array<{ bucket: TokenBucket, key: (host: string) => string }> = [{ bucket: new TokenBucket(tiers.host, 1_000), key: host => host }]
      if (tiers.subnet !== undefined) {
        init.tiers = [{ name: 'subnet', ...tiers.subnet, ipv4PrefixLength: 24, ipv6PrefixLength: 48 }]
        models.push({ bucket: new TokenBucket(tiers.subnet.limit, tiers.subnet.windowMs), key: host => SUBNET[host] ?? host })
      }
      if (tiers.global !== undefined) {
        init.global = tiers.global
        models.push({ bucket: new TokenBucket(tiers.global.limit, tiers.global.windowMs), key: () => 'all' })
      }
      const decisions = run(init, list)
      list.forEach((attempt, index) => {
        const wait = Math.max(...models.map(model => model.bucket.wait(model.key(attempt.host), attempt.at)))
        if (wait === 0) {
          for (const model of models) model.bucket.take(model.key(attempt.host), attempt.at)
        }
        expect(decisions[index]).toEqual({ allowed: wait === 0, retryAfterMs: wait })
      })
    }), { numRuns: 2_000 })
  }, 60_000)

  it('.tryAcquire() - retrying after retryAfterMs is admitted, and a millisecond earlier is not', () => {
    fc.assert(fc.property(threshold, attempts, fc.integer({ min: 0, max: 150 }), (limit, list, pick) => {
      let now = 0
      const limiter = new RateLimiter({ threshold: limit, maxKeys: 64, clock: { now: () => now } })
      for (const attempt of list) {
        now = attempt.at
        limiter.tryAcquire(attempt.host)
      }
      const host = HOSTS[pick % HOSTS.length] as string
      let result = limiter.tryAcquire(host)
      while (result.allowed) result = limiter.tryAcquire(host)
      const start = now
      if (result.retryAfterMs > 1) {
        now = start + result.retryAfterMs - 1
        expect(limiter.tryAcquire(host).allowed).toBe(false)
      }
      now = start + result.retryAfterMs
      expect(limiter.tryAcquire(host).allowed).toBe(true)
    }), { numRuns: 1_000 })
  }, 60_000)
})
