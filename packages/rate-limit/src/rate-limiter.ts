import { attemptLimitRule, DEFAULT_CONFIG, RATE_LIMIT_OPTIONS_SCHEMA, systemClock } from '@cm/config'
import { parseIpInto } from '@cm/config/address'
import { clockRule, ProblemCollector, resolveOptions } from '@cm/config/validation'
import { Tier } from './tier.ts'
import type { Clock, RateLimitOptions, RateLimitOptionsInit } from '@cm/config'
import type { IpFamily } from '@cm/config/address'
import type { OptionsSchema } from '@cm/config/validation'

/**
 * The options of a {@link RateLimiter}: the per-host `threshold`, the `rateLimit` options of
 * `ConnectionConfig` (see {@link @cm/config!RateLimitOptions}), and a clock. Every option is
 * optional and validated as `@cm/config` validates the same options.
 *
 * @example
 * ```ts
 * import { createRateLimiter } from '@cm/rate-limit'
 * import type { RateLimiterInit } from '@cm/rate-limit'
 *
 * const init: RateLimiterInit = {
 *   threshold: 5, // attempts per second per host
 *   tiers: [{ name: 'subnet', limit: 50, ipv4PrefixLength: 24, ipv6PrefixLength: 48 }],
 *   global: { limit: 500 }
 * }
 * const limiter = createRateLimiter(init)
 * ```
 */
export interface RateLimiterInit extends RateLimitOptionsInit {
  /**
   * Attempts admitted per second from one host, with a burst of at most this many at once:
   * `ConnectionConfig.inboundConnectionThreshold`. 0 admits none.
   *
   * An integer from 0 to 1000000.
   *
   * @default 5
   */
  threshold?: number | undefined

  /**
   * Where time comes from (milliseconds; only differences are used). Inject a fake clock in
   * tests.
   *
   * @default systemClock (`performance.now()`)
   */
  clock?: Clock | undefined
}

/**
 * The attempt is admitted; one attempt of its budget in every tier is used.
 *
 * @example
 * ```ts
 * import { createRateLimiter } from '@cm/rate-limit'
 *
 * const result = createRateLimiter().tryAcquire('10.0.0.1')
 * if (result.allowed) {
 *   result.retryAfterMs // 0
 * }
 * ```
 */
export interface RateLimitAdmitted {
  /** Admitted. */
  readonly allowed: true
  /** Always 0. */
  readonly retryAfterMs: 0
}

/**
 * The attempt is refused because a tier has no budget left for its key. No budget was used
 * in any tier.
 *
 * @example
 * ```ts
 * import { createRateLimiter } from '@cm/rate-limit'
 *
 * const limiter = createRateLimiter({ threshold: 1 })
 * limiter.tryAcquire('10.0.0.1') // admitted
 * const result = limiter.tryAcquire('10.0.0.1')
 * if (!result.allowed && result.reason === 'rate-limit') {
 *   result.tier // 'host'
 *   result.retryAfterMs // 1000: the next attempt is admitted a second later
 * }
 * ```
 */
export interface RateLimitRefused {
  /** Refused. */
  readonly allowed: false
  /** Over a rate. */
  readonly reason: 'rate-limit'
  /**
   * Milliseconds, rounded up, until the same attempt would be admitted: the longest wait
   * among the tiers that refused. Exact for the host's own budget; for shared tiers (wider
   * prefixes, global) a lower bound, as others may use them meanwhile. `Infinity` when a
   * refusing tier's limit is 0.
   */
  readonly retryAfterMs: number
  /**
   * The tier that refused (the most specific, if several did): `host`, a tier's name, or
   * `global`.
   */
  readonly tier: string
}

/**
 * The attempt is refused because the address is not an IP address (`parseIpInto` from
 * `@cm/config` gave 0): it cannot be keyed, so it cannot be limited, and a limiter must not
 * fail open. Sockets always give IP addresses; this result points at a caller's bug.
 *
 * @example
 * ```ts
 * import { createRateLimiter } from '@cm/rate-limit'
 *
 * const result = createRateLimiter().tryAcquire('example.com')
 * if (!result.allowed && result.reason === 'invalid-address') {
 *   result.retryAfterMs // Infinity
 * }
 * ```
 */
export interface RateLimitInvalidAddress {
  /** Refused. */
  readonly allowed: false
  /** The address is not an IP address. */
  readonly reason: 'invalid-address'
  /** Always `Infinity`: retrying cannot help. */
  readonly retryAfterMs: number
}

/**
 * What {@link RateLimiter.tryAcquire} answers: admitted, refused over a rate, or refused
 * because the address is not an IP address. A value, never a throw.
 *
 * @example
 * ```ts
 * import { createRateLimiter } from '@cm/rate-limit'
 * import type { RateLimitResult } from '@cm/rate-limit'
 *
 * const result: RateLimitResult = createRateLimiter().tryAcquire('2001:db8::1')
 * const verdict = result.allowed ? 'admitted' : `${result.reason}, retry in ${result.retryAfterMs} ms`
 * ```
 */
export type RateLimitResult = RateLimitAdmitted | RateLimitRefused | RateLimitInvalidAddress

/**
 * Counters and size of one tier, for monitoring.
 *
 * @example
 * ```ts
 * import { createRateLimiter } from '@cm/rate-limit'
 *
 * const [host] = createRateLimiter().stats().tiers
 * host?.name // 'host'
 * ```
 */
export interface RateLimitTierStats {
  /** `host`, a tier's name, or `global`. */
  readonly name: string
  /** Attempts admitted per window. */
  readonly limit: number
  /** The window in milliseconds. */
  readonly windowMs: number
  /**
   * Keys held now, both families together: at most `2 × maxKeys`. Some may have refilled
   * already (they go first).
   */
  readonly trackedKeys: number
  /** The most keys held per address family (1 for the global tier). */
  readonly maxKeys: number
  /** Attempts this tier refused. An attempt refused by several tiers counts in each. */
  readonly refused: number
  /** Keys dropped to make room for new ones. */
  readonly evictions: number
  /**
   * Of those, keys that were still throttled: their hosts got their budget back early. Above
   * 0 only when more than `maxKeys` keys of one family were seen within one window: a flood.
   */
  readonly throttledEvictions: number
}

/**
 * Counters of a {@link RateLimiter}, for monitoring. Counters only grow; `clear()` does not
 * reset them.
 *
 * @example
 * ```ts
 * import { createRateLimiter } from '@cm/rate-limit'
 *
 * const limiter = createRateLimiter({ threshold: 1 })
 * limiter.tryAcquire('10.0.0.1')
 * limiter.tryAcquire('10.0.0.1')
 * const stats = limiter.stats()
 * stats.admitted // 1
 * stats.refused // 1
 * stats.tiers[0]?.trackedKeys // 1
 * ```
 */
export interface RateLimiterStats {
  /** Whether the limiter limits at all (`enabled`). */
  readonly enabled: boolean
  /** Attempts admitted. */
  readonly admitted: number
  /** Attempts refused, over a rate or for an invalid address. */
  readonly refused: number
  /** Of those, attempts refused because the address was not an IP address. */
  readonly invalidAddresses: number
  /** Penalties charged with {@link RateLimiter.charge}. */
  readonly charged: number
  /** Each tier: `host` first, then the wider tiers in the order given, then `global`. */
  readonly tiers: readonly RateLimitTierStats[]
}

const ADMITTED: RateLimitAdmitted = Object.freeze({ allowed: true, retryAfterMs: 0 })
const INVALID_ADDRESS: RateLimitInvalidAddress = Object.freeze({ allowed: false, reason: 'invalid-address', retryAfterMs: Number.POSITIVE_INFINITY })

type ResolvedInit = RateLimitOptions & { readonly threshold: number, readonly clock: Clock }

const SCHEMA: OptionsSchema<ResolvedInit> = {
  threshold: { default: DEFAULT_CONFIG.inboundConnectionThreshold, rule: attemptLimitRule },
  ...RATE_LIMIT_OPTIONS_SCHEMA,
  clock: { default: systemClock, rule: clockRule }
}

/**
 * Throttles inbound connection attempts per host, per wider subnet and in all, in O(1)
 * time and bounded memory.
 *
 * **Rate.** Each tier admits at most `limit` attempts per window per key, as a token bucket
 * of `limit` tokens that refills one token every `window / limit` (GCRA: one number per
 * key). The host tier's limit is `threshold` per second. So, per key:
 * - a burst of at most `limit` attempts at once;
 * - in any span of `d` milliseconds, at most `limit + ceil(d × limit / window) - 1`
 *   admitted: at most `2 × limit - 1` in any one window (a sliding window would allow
 *   `limit`; a fixed window, as js-libp2p's, allows `2 × limit` within a millisecond across
 *   its edge);
 * - a host that never makes more than `limit` attempts in any window is never refused by
 *   its own tier, and neither is one that spaces its attempts `window / limit` apart;
 * - refused attempts use no budget, so a host that slows to the rate is admitted again.
 *
 * **Keys.** An IPv4 address is its own key (`ipv4PrefixLength` 32); an IPv6 address is
 * keyed by its /64 (`ipv6PrefixLength`), so one host cannot take 2^64 budgets; an
 * IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is the IPv4 address. Wider `tiers` key by
 * shorter prefixes, and `global` has one key for every address. Tiers are checked most
 * specific first; an attempt is admitted only if every tier admits it.
 *
 * **Memory.** Each tier keeps at most `maxKeys` keys per address family (default 65,536
 * IPv4 and 65,536 IPv6 keys) in `mnemonist` LRU maps, with no timer per key; a table is
 * allocated when its first key arrives: at the default cap, 5.4 MiB for IPv4 keys and
 * 6.4 MiB for IPv6 keys (measured). Keys are int32 numbers, so an admitted check allocates
 * nothing (beyond what the clock does): an IPv4 prefix is its own key, an IPv6
 * prefix a seeded hash checked against the stored prefix (two prefixes never share a
 * budget). When a new key arrives at the cap, the least recently seen key of its family is
 * dropped (an IPv6 flood never evicts IPv4 state). A key not seen for a whole window has
 * its full budget back and carries no state that matters, and such keys are always the
 * least recently seen, so they go first. A key that may still be throttled is dropped only
 * when more than `maxKeys` keys of its family were seen within one window (a flood); its
 * host then gets its budget back early, which gives it at most `limit` more attempts, no
 * more than a fresh address would get. Dropping state only ever errs towards admitting, so
 * a host within its rate is never refused because of a flood (unless a wider tier or the
 * global rate refuses it, which is what those are for). `throttledEvictions` counts such
 * drops.
 *
 * **Special values.** `threshold` 0 (or a tier's `limit` 0) refuses every attempt, with
 * `retryAfterMs` `Infinity`. `enabled: false` admits every attempt, keeps no state and
 * parses nothing. An address that is not an IP address is refused with `reason`
 * `'invalid-address'` (when enabled).
 *
 * @example
 * ```ts
 * import { RateLimiter } from '@cm/rate-limit'
 *
 * let now = 0
 * const limiter = new RateLimiter({ threshold: 2, clock: { now: () => now } })
 *
 * limiter.tryAcquire('10.0.0.1').allowed // true
 * limiter.tryAcquire('10.0.0.1').allowed // true
 * limiter.tryAcquire('10.0.0.1') // { allowed: false, reason: 'rate-limit', retryAfterMs: 500, tier: 'host' }
 * limiter.tryAcquire('10.0.0.2').allowed // true: another host
 *
 * now += 500 // one attempt's worth of budget back
 * limiter.tryAcquire('10.0.0.1').allowed // true
 * ```
 */
export class RateLimiter {
  readonly #enabled: boolean
  readonly #clock: Clock
  readonly #origin: number
  /** Every tier in report order: host, the wider tiers as given, global. */
  readonly #tiers: readonly Tier[]
  /** The host tier and the wider tiers: those that key by address. */
  readonly #keyed: readonly Tier[]
  /** The tiers in check order for each family: most specific first, global last. */
  readonly #ipv4Order: readonly Tier[]
  readonly #ipv6Order: readonly Tier[]
  readonly #words = new Uint32Array(4)
  /** `[0]`: the time of the attempt being checked, ms since #origin, read by the tiers. */
  readonly #time = new Float64Array(1)
  #admitted = 0
  #refused = 0
  #invalidAddresses = 0
  #charged = 0

  /**
   * @param init - the options; omitted ones take their defaults
   * @throws {@link @cm/config!InvalidConfigError} listing every invalid option
   */
  constructor (init: RateLimiterInit = {}) {
    const problems = new ProblemCollector()
    const options = resolveOptions(SCHEMA, init, problems)
    problems.throwIfAny()
    this.#enabled = options.enabled
    this.#clock = options.clock
    this.#origin = options.clock.now()
    const { maxKeys } = options
    const time = this.#time
    const host = new Tier('host', options.threshold, 1_000, { ipv4PrefixLength: options.ipv4PrefixLength, ipv6PrefixLength: options.ipv6PrefixLength, maxKeys }, time)
    const wider = options.tiers.map(tier => new Tier(tier.name, tier.limit, tier.windowMs, { ipv4PrefixLength: tier.ipv4PrefixLength, ipv6PrefixLength: tier.ipv6PrefixLength, maxKeys }, time))
    const keyed = [host, ...wider]
    this.#keyed = keyed
    const global = options.global === null ? [] : [new Tier('global', options.global.limit, options.global.windowMs, undefined, time)]
    this.#tiers = [...keyed, ...global]
    // Most specific first (a stable sort: ties keep the host first, then the given order).
    this.#ipv4Order = [...keyed.toSorted((a, b) => b.ipv4PrefixLength - a.ipv4PrefixLength), ...global]
    this.#ipv6Order = [...keyed.toSorted((a, b) => b.ipv6PrefixLength - a.ipv6PrefixLength), ...global]
  }

  /** Whether the limiter limits at all; when `false`, every attempt is admitted. */
  get enabled (): boolean {
    return this.#enabled
  }

  /**
   * Asks whether a host may open another connection now and, if so, uses one attempt of
   * its budget in every tier. O(1) time per tier; nothing is allocated when it is admitted
   * (a refusal is a small new object).
   *
   * @param ip - the remote IP address as text (IPv4, IPv6, IPv4-mapped IPv6; a `%zone` is
   *   ignored)
   * @returns admitted; refused over a rate, with the wait and the tier; or refused because
   *   `ip` is not an IP address
   *
   * @example
   * ```ts
   * import { createRateLimiter } from '@cm/rate-limit'
   *
   * const limiter = createRateLimiter({ threshold: 5 })
   * const result = limiter.tryAcquire('::ffff:192.0.2.7') // the same host as '192.0.2.7'
   * if (!result.allowed) {
   *   console.log(`refused (${result.reason}), retry in ${result.retryAfterMs} ms`)
   * }
   * ```
   */
  tryAcquire (ip: string): RateLimitResult {
    if (!this.#enabled) {
      this.#admitted++
      return ADMITTED
    }
    const family = parseIpInto(ip, this.#words)
    if (family === 0) {
      this.#refused++
      this.#invalidAddresses++
      return INVALID_ADDRESS
    }
    return this.#acquire(family, this.#words)
  }

  /**
   * How much of its budget a host has used now: from 0 (all of it left) to 1 (none left),
   * the highest over the host tier and the wider tiers. The global tier, shared by every
   * address, says nothing of one host and is left out. A read only: no budget is used and no
   * key is marked as seen. A host that keeps opening connections stays near 1; one that
   * opened a connection a while ago is back at 0. The manager reads it to choose which
   * pending connection gives way when its pending slots run out.
   *
   * @param ip - an IP address as text
   * @returns the share used; 0 for every address when the limiter is disabled, 1 when `ip`
   *   is not an IP address (it cannot be keyed, so it is given no benefit of the doubt)
   *
   * @example
   * ```ts
   * import { createRateLimiter } from '@cm/rate-limit'
   *
   * let now = 0
   * const limiter = createRateLimiter({ threshold: 4, clock: { now: () => now } })
   * limiter.usage('10.0.0.1') // 0: never seen
   * limiter.tryAcquire('10.0.0.1')
   * limiter.usage('10.0.0.1') // 0.25: one attempt of four
   * now += 250
   * limiter.usage('10.0.0.1') // 0: a quarter of a second gives one attempt back
   * ```
   */
  usage (ip: string): number {
    if (!this.#enabled) {
      return 0
    }
    const family = parseIpInto(ip, this.#words)
    if (family === 0) {
      return 1
    }
    this.#time[0] = Math.floor(this.#clock.now() - this.#origin)
    let used = 0
    for (const tier of this.#keyed) {
      used = Math.max(used, tier.usage(family, this.#words))
    }
    return used
  }

  /**
   * Uses one attempt of a host's budget without asking, as a penalty: in the host tier and
   * the wider tiers (not the global tier), never below empty, so that a penalty delays a host
   * by at most one window. The manager charges a host whose attempt it refused because its
   * pending slots were full: a host that keeps knocking while they are full uses up its
   * budget, and so has the higher {@link RateLimiter.usage} when slots are given out.
   *
   * @param ip - an IP address as text
   * @returns whether the address was charged (`false` when the limiter is disabled or `ip`
   *   is not an IP address)
   *
   * @example
   * ```ts
   * import { createRateLimiter } from '@cm/rate-limit'
   *
   * const limiter = createRateLimiter({ threshold: 4 })
   * limiter.charge('10.0.0.1')
   * limiter.usage('10.0.0.1') // 0.25
   * ```
   */
  charge (ip: string): boolean {
    if (!this.#enabled) {
      return false
    }
    const family = parseIpInto(ip, this.#words)
    if (family === 0) {
      return false
    }
    this.#time[0] = Math.floor(this.#clock.now() - this.#origin)
    for (const tier of this.#keyed) {
      tier.charge(family, this.#words)
    }
    this.#charged++
    return true
  }

  /**
   * Forgets what is known of an address: its host key and its keys in the wider tiers (so
   * its subnet's budget there is full again too). The global rate is left alone; see
   * {@link RateLimiter.clear}.
   *
   * @param ip - an IP address as text
   * @returns whether any state was held for it (`false` too when `ip` is not an IP address)
   *
   * @example
   * ```ts
   * import { createRateLimiter } from '@cm/rate-limit'
   *
   * const limiter = createRateLimiter({ threshold: 1 })
   * limiter.tryAcquire('10.0.0.1').allowed // true
   * limiter.tryAcquire('10.0.0.1').allowed // false
   * limiter.reset('10.0.0.1') // true
   * limiter.tryAcquire('10.0.0.1').allowed // true
   * ```
   */
  reset (ip: string): boolean {
    const family = parseIpInto(ip, this.#words)
    if (family === 0) {
      return false
    }
    let held = false
    for (const tier of this.#tiers) {
      held = tier.forget(family, this.#words) || held
    }
    return held
  }

  /**
   * Forgets all state, in every tier (global included): every key has its full budget again.
   * Counters are kept.
   *
   * @example
   * ```ts
   * import { createRateLimiter } from '@cm/rate-limit'
   *
   * const limiter = createRateLimiter()
   * limiter.tryAcquire('10.0.0.1')
   * limiter.clear()
   * limiter.stats().tiers[0]?.trackedKeys // 0
   * ```
   */
  clear (): void {
    for (const tier of this.#tiers) {
      tier.clear()
    }
  }

  /**
   * A snapshot of the counters and of how many keys each tier holds.
   *
   * @example
   * ```ts
   * import { createRateLimiter } from '@cm/rate-limit'
   *
   * const stats = createRateLimiter({ global: { limit: 100 } }).stats()
   * stats.tiers.map(tier => tier.name) // ['host', 'global']
   * ```
   */
  stats (): RateLimiterStats {
    return {
      enabled: this.#enabled,
      admitted: this.#admitted,
      refused: this.#refused,
      invalidAddresses: this.#invalidAddresses,
      charged: this.#charged,
      tiers: this.#tiers.map(tier => ({
        name: tier.name,
        limit: tier.limit,
        windowMs: tier.windowMs,
        trackedKeys: tier.trackedKeys,
        maxKeys: tier.maxKeys,
        refused: tier.refused,
        evictions: tier.evictions,
        throttledEvictions: tier.throttledEvictions
      }))
    }
  }

  #acquire (family: IpFamily, words: Uint32Array): RateLimitResult {
    // Whole milliseconds: the arithmetic below is then exact (with performance.now()'s fractions,
    // (now + window) - now could exceed the window by a rounding error and refuse a last token).
    this.#time[0] = Math.floor(this.#clock.now() - this.#origin)
    const order = family === 4 ? this.#ipv4Order : this.#ipv6Order
    let refusedBy: Tier | undefined
    // Every tier is asked (for the wait and the counters) before any budget is used, so that
    // a refused attempt uses none anywhere.
    for (let index = 0; index < order.length; index++) {
      const tier = order[index] as Tier
      if (!tier.check(family, words)) {
        refusedBy ??= tier
      }
    }
    if (refusedBy !== undefined) {
      this.#refused++
      return { allowed: false, reason: 'rate-limit', retryAfterMs: this.#longestWait(order), tier: refusedBy.name }
    }
    for (let index = 0; index < order.length; index++) {
      (order[index] as Tier).commit()
    }
    this.#admitted++
    return ADMITTED
  }

  /** The longest wait, in whole milliseconds rounded up, among the tiers that just refused. */
  #longestWait (order: readonly Tier[]): number {
    let wait = 0
    for (const tier of order) {
      // Stryker disable next-line EqualityOperator: at equality either is the longest
      if (tier.wait > wait) {
        wait = tier.wait
      }
    }
    for (const tier of order) {
      tier.wait = 0
    }
    return Math.ceil(wait)
  }
}

/**
 * Creates a {@link RateLimiter}.
 *
 * @param init - the options; omitted ones take their defaults
 * @throws {@link @cm/config!InvalidConfigError} listing every invalid option
 *
 * @example
 * ```ts
 * import { resolveConfig } from '@cm/config'
 * import { createRateLimiter } from '@cm/rate-limit'
 *
 * // From a resolved ConnectionConfig, as the manager builds it:
 * const config = resolveConfig({ inboundConnectionThreshold: 10, rateLimit: { global: { limit: 1_000 } } })
 * const limiter = createRateLimiter({ threshold: config.inboundConnectionThreshold, ...config.rateLimit })
 *
 * limiter.tryAcquire('198.51.100.4').allowed // true
 * ```
 */
export function createRateLimiter (init?: RateLimiterInit): RateLimiter {
  return new RateLimiter(init)
}
