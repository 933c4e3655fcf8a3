import { booleanRule, durationRule, integerRule } from './validation/rules.ts'
import { ProblemCollector } from './validation/problems.ts'
import { resolveOptions } from './validation/resolve-options.ts'
import type { OptionRule } from './validation/rules.ts'
import type { OptionsSchema } from './validation/resolve-options.ts'

/**
 * The largest number of attempts a rate may admit per window (for `inboundConnectionThreshold`
 * and every tier's `limit`). Far beyond any sensible per-host rate; it keeps the rate
 * limiter's fixed-point arithmetic exact. To turn limiting off, use `rateLimit.enabled`.
 */
export const MAX_ATTEMPTS_PER_WINDOW = 1_000_000

/** The largest `rateLimit.maxKeys`: the limiter allocates its key tables up front. */
export const MAX_RATE_LIMIT_KEYS = 16_777_216

/**
 * The rule for a number of attempts admitted per window: an integer from 0 to
 * {@link MAX_ATTEMPTS_PER_WINDOW}. 0 admits no attempt at all. It is the rule of
 * `inboundConnectionThreshold` and of every rate-limit tier's `limit`.
 *
 * @example
 * ```ts
 * import { attemptLimitRule } from '@cm/config'
 *
 * attemptLimitRule.expected // 'an integer >= 0 and <= 1000000'
 * ```
 */
export const attemptLimitRule: OptionRule<number> = integerRule({ min: 0, max: MAX_ATTEMPTS_PER_WINDOW })

/**
 * A rate: at most `limit` attempts per `windowMs` milliseconds, with a burst of at most
 * `limit` at once (a token bucket of `limit` tokens that refills one token every
 * `windowMs / limit` milliseconds).
 *
 * @example
 * ```ts
 * import type { RateLimitRate } from '@cm/config'
 *
 * const rate: RateLimitRate = { limit: 1_000, windowMs: 1_000 } // 1000 per second
 * ```
 */
export interface RateLimitRate {
  /**
   * Attempts admitted per window, and the largest burst. 0 admits none.
   *
   * An integer from 0 to 1000000. Required.
   */
  readonly limit: number

  /**
   * The window in milliseconds: `limit` attempts refill over this time.
   *
   * A finite number > 0 and <= 2147483647.
   *
   * @default 1000
   */
  readonly windowMs: number
}

/**
 * A rate as given: `limit` is required, `windowMs` defaults to one second.
 *
 * @example
 * ```ts
 * import type { RateLimitRateInit } from '@cm/config'
 *
 * const global: RateLimitRateInit = { limit: 500 } // 500 attempts per second in all
 * ```
 */
export interface RateLimitRateInit {
  /** See {@link RateLimitRate.limit}. Required. */
  limit: number
  /** See {@link RateLimitRate.windowMs}. */
  windowMs?: number | undefined
}

/**
 * A wider tier of the rate limiter: one rate per network prefix, such as 50 attempts per
 * second per IPv4 /24 and per IPv6 /48. An attempt is admitted only if every tier admits it.
 *
 * @example
 * ```ts
 * import type { RateLimitTier } from '@cm/config'
 *
 * const subnet: RateLimitTier = { name: 'subnet', limit: 50, windowMs: 1_000, ipv4PrefixLength: 24, ipv6PrefixLength: 48 }
 * ```
 */
export interface RateLimitTier extends RateLimitRate {
  /**
   * The tier's name, used in refusals and counters. Unique among the tiers; `host` and
   * `global` are taken.
   *
   * A non-empty string.
   *
   * @default `ipv4/<ipv4PrefixLength>+ipv6/<ipv6PrefixLength>`, such as `ipv4/24+ipv6/48`
   */
  readonly name: string

  /**
   * IPv4 addresses sharing their first this many bits share one budget in this tier.
   *
   * An integer from 0 to 32.
   *
   * @default 24
   */
  readonly ipv4PrefixLength: number

  /**
   * IPv6 addresses sharing their first this many bits share one budget in this tier.
   *
   * An integer from 0 to 128.
   *
   * @default 48
   */
  readonly ipv6PrefixLength: number
}

/**
 * A tier as given: `limit` is required, everything else has a default.
 *
 * @example
 * ```ts
 * import type { RateLimitTierInit } from '@cm/config'
 *
 * const subnet: RateLimitTierInit = { limit: 50 } // per IPv4 /24 and IPv6 /48, per second
 * ```
 */
export interface RateLimitTierInit extends RateLimitRateInit {
  /** See {@link RateLimitTier.name}. */
  name?: string | undefined
  /** See {@link RateLimitTier.ipv4PrefixLength}. */
  ipv4PrefixLength?: number | undefined
  /** See {@link RateLimitTier.ipv6PrefixLength}. */
  ipv6PrefixLength?: number | undefined
}

/**
 * The rate limiter's options (the `rateLimit` section of `ConnectionConfig`), resolved. The
 * per-host rate itself is `inboundConnectionThreshold`, attempts per second.
 *
 * @example
 * ```ts
 * import { resolveConfig } from '@cm/config'
 *
 * const config = resolveConfig({
 *   inboundConnectionThreshold: 5, // per host, per second
 *   rateLimit: { tiers: [{ name: 'subnet', limit: 50 }], global: { limit: 500 } }
 * })
 * config.rateLimit.ipv6PrefixLength // 64: an IPv6 host is its /64
 * config.rateLimit.tiers[0]?.ipv4PrefixLength // 24, the default
 * ```
 */
export interface RateLimitOptions {
  /**
   * Whether inbound attempts are rate limited at all. When `false`, every attempt is
   * admitted and no state is kept.
   *
   * @default true
   */
  readonly enabled: boolean

  /**
   * IPv4 addresses sharing their first this many bits count as one host.
   * (IPv4-mapped IPv6 addresses are IPv4 addresses.)
   *
   * An integer from 0 to 32.
   *
   * @default 32
   */
  readonly ipv4PrefixLength: number

  /**
   * IPv6 addresses sharing their first this many bits count as one host. A /64 is what one
   * site or one subscriber usually gets, so per-address keys would hand one host 2^64 budgets.
   *
   * An integer from 0 to 128.
   *
   * @default 64
   */
  readonly ipv6PrefixLength: number

  /**
   * The most keys (hosts, or subnets of a tier) whose state is kept, per tier and per address
   * family. Beyond it the least recently seen key of that family is dropped; one not seen for
   * a whole window has its full budget back, so dropping it loses nothing.
   *
   * An integer from 1 to 16777216.
   *
   * @default 65536
   */
  readonly maxKeys: number

  /**
   * Wider tiers, each with its own rate per network prefix, such as IPv4 /24 and IPv6 /48.
   * An attempt is admitted only if the host's rate, every tier and the global rate admit it;
   * a refused attempt uses no budget in any of them.
   *
   * Each tier needs a `limit`; names must be unique.
   *
   * @default []
   */
  readonly tiers: readonly RateLimitTier[]

  /**
   * One rate for all inbound attempts together, or `null` for none.
   *
   * @default null
   */
  readonly global: RateLimitRate | null
}

/**
 * The `rateLimit` options as given: any subset; omitted options keep their defaults (or, on
 * update, their current values).
 *
 * @example
 * ```ts
 * import type { RateLimitOptionsInit } from '@cm/config'
 *
 * const rateLimit: RateLimitOptionsInit = { ipv6PrefixLength: 56, maxKeys: 100_000 }
 * ```
 */
export interface RateLimitOptionsInit {
  /** See {@link RateLimitOptions.enabled}. */
  enabled?: boolean | undefined
  /** See {@link RateLimitOptions.ipv4PrefixLength}. */
  ipv4PrefixLength?: number | undefined
  /** See {@link RateLimitOptions.ipv6PrefixLength}. */
  ipv6PrefixLength?: number | undefined
  /** See {@link RateLimitOptions.maxKeys}. */
  maxKeys?: number | undefined
  /** See {@link RateLimitOptions.tiers}. */
  tiers?: readonly RateLimitTierInit[] | undefined
  /** See {@link RateLimitOptions.global}. */
  global?: RateLimitRateInit | null | undefined
}

/**
 * The default `rateLimit` options.
 *
 * @example
 * ```ts
 * import { DEFAULT_RATE_LIMIT_OPTIONS } from '@cm/config'
 *
 * DEFAULT_RATE_LIMIT_OPTIONS.maxKeys // 65536
 * ```
 */
export const DEFAULT_RATE_LIMIT_OPTIONS: RateLimitOptions = Object.freeze({
  enabled: true,
  ipv4PrefixLength: 32,
  ipv6PrefixLength: 64,
  maxKeys: 65_536,
  tiers: Object.freeze([]),
  global: null
})

const ipv4PrefixRule = integerRule({ min: 0, max: 32 })
const ipv6PrefixRule = integerRule({ min: 0, max: 128 })
// Stryker disable next-line StringLiteral: a module-level initializer runs once, at load, before any mutant is active (a test checks it)
const RESERVED_NAMES: readonly string[] = ['host', 'global']

const nameRule: OptionRule<string> = {
  // Stryker disable next-line StringLiteral: read by no one; an inner rule's check writes its own problem
  expected: 'a non-empty string',
  check (value, path, problems): value is string {
    const ok = typeof value === 'string' && value.length > 0
    if (!ok) {
      problems.add(path, 'a non-empty string', value)
    }
    return ok
  }
}

const RATE_SCHEMA: OptionsSchema<RateLimitRate> = {
  limit: { default: 0, rule: attemptLimitRule },
  windowMs: { default: 1_000, rule: durationRule() }
}

const TIER_SCHEMA: OptionsSchema<RateLimitTier> = {
  name: { default: '', rule: nameRule },
  ...RATE_SCHEMA,
  ipv4PrefixLength: { default: 24, rule: ipv4PrefixRule },
  ipv6PrefixLength: { default: 48, rule: ipv6PrefixRule }
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Resolves a rate or a tier, recording problems; `limit` is required. */
function resolveRate<T extends RateLimitRate> (schema: OptionsSchema<T>, value: unknown, path: string, problems: ProblemCollector): T | undefined {
  if (!isObject(value)) {
    problems.add(path, 'an object with a `limit`', value)
    return undefined
  }
  const before = problems.problems.length
  const rate = resolveOptions(schema, value, problems, { path })
  if (value['limit'] === undefined) {
    problems.add(`${path}.limit`, attemptLimitRule.expected, undefined, 'a limit is required')
  }
  return problems.problems.length === before ? rate : undefined
}

function resolveTier (value: unknown, path: string, problems: ProblemCollector): RateLimitTier | undefined {
  const tier = resolveRate(TIER_SCHEMA, value, path, problems)
  if (tier === undefined) {
    return undefined
  }
  const name = tier.name === '' ? `ipv4/${tier.ipv4PrefixLength}+ipv6/${tier.ipv6PrefixLength}` : tier.name
  return Object.freeze({ ...tier, name })
}

const tiersRule: OptionRule<readonly RateLimitTier[]> = {
  // Stryker disable next-line StringLiteral: read by no one; an inner rule's check writes its own problem
  expected: 'an array of tiers',
  check (value, path, problems): value is readonly RateLimitTier[] {
    if (!Array.isArray(value)) {
      problems.add(path, 'an array of tiers', value)
      return false
    }
    const before = problems.problems.length
    const names = new Set(RESERVED_NAMES)
    value.forEach((item: unknown, index) => {
      const tier = resolveTier(item, `${path}[${index}]`, problems)
      if (tier === undefined) {
        return
      }
      if (names.has(tier.name)) {
        const detail = RESERVED_NAMES.includes(tier.name) ? `"${tier.name}" is taken` : 'give each tier its own `name`'
        problems.add(`${path}[${index}].name`, 'a name no other tier has', tier.name, detail)
      }
      names.add(tier.name)
    })
    // Stryker disable next-line ConditionalExpression: the problems are recorded either way, and they fail the whole resolution
    return problems.problems.length === before
  },
  resolve (value): readonly RateLimitTier[] {
    const problems = new ProblemCollector()
    return Object.freeze((value as readonly unknown[]).map((item, index) => resolveTier(item, `[${index}]`, problems) as RateLimitTier))
  }
}

const globalRule: OptionRule<RateLimitRate | null> = {
  // Stryker disable next-line StringLiteral: read by no one; an inner rule's check writes its own problem
  expected: 'a rate ({ limit, windowMs }) or null',
  check (value, path, problems): value is RateLimitRate | null {
    return value === null || resolveRate(RATE_SCHEMA, value, path, problems) !== undefined
  },
  resolve (value): RateLimitRate | null {
    return value === null ? null : Object.freeze(resolveRate(RATE_SCHEMA, value, '', new ProblemCollector()) as RateLimitRate)
  }
}

/**
 * The schema of the `rateLimit` options: each option's default and rule. The rate limiter
 * validates its standalone options with it, so that they read exactly as in
 * `ConnectionConfig`.
 *
 * @example
 * ```ts
 * import { RATE_LIMIT_OPTIONS_SCHEMA } from '@cm/config'
 * import { ProblemCollector, resolveOptions } from '@cm/config/validation'
 *
 * const problems = new ProblemCollector()
 * const options = resolveOptions(RATE_LIMIT_OPTIONS_SCHEMA, { maxKeys: 1_000 }, problems)
 * problems.throwIfAny()
 * options.ipv6PrefixLength // 64
 * ```
 */
export const RATE_LIMIT_OPTIONS_SCHEMA: OptionsSchema<RateLimitOptions> = Object.freeze({
  enabled: { default: DEFAULT_RATE_LIMIT_OPTIONS.enabled, rule: booleanRule },
  ipv4PrefixLength: { default: DEFAULT_RATE_LIMIT_OPTIONS.ipv4PrefixLength, rule: ipv4PrefixRule },
  ipv6PrefixLength: { default: DEFAULT_RATE_LIMIT_OPTIONS.ipv6PrefixLength, rule: ipv6PrefixRule },
  maxKeys: { default: DEFAULT_RATE_LIMIT_OPTIONS.maxKeys, rule: integerRule({ min: 1, max: MAX_RATE_LIMIT_KEYS }) },
  tiers: { default: DEFAULT_RATE_LIMIT_OPTIONS.tiers, rule: tiersRule },
  global: { default: DEFAULT_RATE_LIMIT_OPTIONS.global, rule: globalRule }
})

/**
 * The rule of the `rateLimit` section of `ConnectionConfig`: an object of
 * {@link RateLimitOptions}, any subset, each option checked by its own rule (problems are
 * reported as `rateLimit.maxKeys`, `rateLimit.tiers[0].limit`, ...). Omitted options keep
 * their defaults, or their current values on update.
 *
 * @example
 * ```ts
 * import { rateLimitOptionsRule } from '@cm/config'
 * import { ProblemCollector } from '@cm/config/validation'
 *
 * const problems = new ProblemCollector()
 * rateLimitOptionsRule.check({ maxKeys: 0 }, 'rateLimit', problems) // false
 * problems.problems[0]?.message // 'Expected `rateLimit.maxKeys` to be an integer >= 1 and <= 16777216, got 0 (number)'
 * ```
 */
export const rateLimitOptionsRule: OptionRule<RateLimitOptions> = {
  // Stryker disable next-line StringLiteral: a module-level initializer runs once, at load, before any mutant is active (a test checks it)
  expected: 'an object of rate-limit options',
  check (value, path, problems): value is RateLimitOptions {
    if (!isObject(value)) {
      problems.add(path, 'an object of rate-limit options', value)
      return false
    }
    const before = problems.problems.length
    resolveOptions(RATE_LIMIT_OPTIONS_SCHEMA, value, problems, { path })
    return problems.problems.length === before
  },
  resolve (value, current): RateLimitOptions {
    return Object.freeze(resolveOptions(RATE_LIMIT_OPTIONS_SCHEMA, value, new ProblemCollector(), { base: current }))
  }
}
