/**
 * Per-host throttling of inbound connection attempts that holds under a flood.
 *
 * A {@link RateLimiter} answers "may this host open another connection now?" in O(1) time,
 * as a value: admitted, or refused with how long until it would be admitted. Each host (an
 * IPv4 address, an IPv6 /64) gets `threshold` attempts per second with a burst of at most
 * `threshold` (GCRA, a token bucket kept as one number per key), optional wider tiers (an
 * IPv4 /24, an IPv6 /48) and one global rate each have their own, and an attempt is
 * admitted only if all of them admit it. Refused attempts use no budget. Memory is bounded:
 * at most `maxKeys` keys per tier in a `mnemonist` LRU map, and no timer per key.
 *
 * It does not know about gates, trusted addresses or connections: the caller (the
 * `@cm/manager`) skips it for trusted addresses, asks it once per inbound attempt, and
 * closes the socket when it refuses.
 *
 * @example Throttle inbound attempts
 * ```ts
 * import { createRateLimiter } from '@cm/rate-limit'
 *
 * const limiter = createRateLimiter({
 *   threshold: 5, // attempts per second per host (IPv4 address, IPv6 /64)
 *   tiers: [{ name: 'subnet', limit: 50, ipv4PrefixLength: 24, ipv6PrefixLength: 48 }],
 *   global: { limit: 500 } // per second, all hosts together
 * })
 *
 * const result = limiter.tryAcquire('203.0.113.9')
 * if (!result.allowed) {
 *   // result.reason is 'rate-limit' (with result.tier) or 'invalid-address'
 *   console.log(`refused: retry in ${result.retryAfterMs} ms`)
 * }
 *
 * limiter.stats().tiers.map(tier => `${tier.name}: ${tier.refused} refused`)
 * ```
 *
 * @packageDocumentation
 */

export { createRateLimiter, RateLimiter } from './rate-limiter.ts'
export type {
  RateLimitAdmitted,
  RateLimiterInit,
  RateLimiterStats,
  RateLimitInvalidAddress,
  RateLimitRefused,
  RateLimitResult,
  RateLimitTierStats
} from './rate-limiter.ts'
