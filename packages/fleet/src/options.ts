import { MAX_ATTEMPTS_PER_WINDOW, RATE_LIMIT_OPTIONS_SCHEMA, systemClock } from '@cm/config'
import { clockRule, durationRule, finiteNumberRule, functionRule, integerRule, ProblemCollector, resolveOptions } from '@cm/config/validation'
import type { Clock, RateLimitTier, RateLimitTierInit } from '@cm/config'
import type { ListenerErrorHandler } from '@cm/config/events'
import type { OptionRule, OptionsSchema } from '@cm/config/validation'
import type { GateList } from '@cm/gate'
import type { ConnectionOptions } from 'node:tls'

/**
 * How to reach Redis. Everything is passed to the Redis client (`@redis/client`) as it is:
 * the URL, the ACL user and password, the database, TLS.
 *
 * @example
 * ```ts
 * import type { FleetRedisOptions } from '@cm/fleet'
 *
 * const redis: FleetRedisOptions = {
 *   url: 'rediss://redis.internal:6380',
 *   username: 'fleet',
 *   password: process.env['FLEET_REDIS_PASSWORD'] ?? '',
 *   tls: { ca: '-----BEGIN CERTIFICATE-----\n…' }
 * }
 * ```
 */
export interface FleetRedisOptions {
  /**
   * `redis[s]://[[username][:password]@][host][:port][/db-number]`; `rediss://` turns TLS on.
   *
   * @default 'redis://127.0.0.1:6379'
   */
  readonly url?: string | undefined
  /** The ACL user (Redis 6 and later), sent with `AUTH`. Overrides the URL's. */
  readonly username?: string | undefined
  /** The ACL user's password, or the `requirepass` password. Overrides the URL's. */
  readonly password?: string | undefined
  /** The database number (`SELECT`). Overrides the URL's. */
  readonly database?: number | undefined
  /**
   * TLS: `true` for the defaults of `tls.connect`, or its options (`ca`, `cert`, `key`,
   * `servername`, `rejectUnauthorized`...), passed through as they are.
   *
   * @default false (unless the URL starts with `rediss://`)
   */
  readonly tls?: boolean | ConnectionOptions | undefined
  /**
   * Milliseconds to wait for a connection (TCP, TLS and `AUTH`) before giving up and trying
   * again later.
   *
   * @default 5000
   */
  readonly connectTimeoutMs?: number | undefined
}

/**
 * The fleet-wide rate budget: how many inbound attempts one host (and each wider tier) may
 * make across all the nodes together. Counted locally, with no I/O on the accept path, and
 * added up in Redis every `syncIntervalMs`; a host that has used the budget is blocked on
 * every node until the window ends.
 *
 * @example
 * ```ts
 * import type { FleetBudgetInit } from '@cm/fleet'
 *
 * const budget: FleetBudgetInit = {
 *   limit: 20, // attempts per second per host, across the fleet
 *   tiers: [{ name: 'subnet', limit: 200, ipv4PrefixLength: 24, ipv6PrefixLength: 48 }]
 * }
 * ```
 */
export interface FleetBudgetInit {
  /** Attempts admitted per window per host, fleet-wide. An integer from 1 to 1000000. Required. */
  readonly limit: number
  /**
   * The window, in milliseconds. An integer from 100 to 3600000.
   *
   * @default 1000
   */
  readonly windowMs?: number | undefined
  /**
   * IPv4 addresses sharing their first this many bits are one host. An integer 0 to 32.
   *
   * @default 32
   */
  readonly ipv4PrefixLength?: number | undefined
  /**
   * IPv6 addresses sharing their first this many bits are one host. An integer 0 to 128.
   *
   * @default 64
   */
  readonly ipv6PrefixLength?: number | undefined
  /**
   * Wider tiers, each with its own budget, written as `@cm/rate-limit`'s tiers (`limit`
   * attempts per `windowMs` per prefix, default /24 and /48), except that `limit` must be at
   * least 1 and `windowMs` an integer from 100 to 3600000.
   *
   * @default []
   */
  readonly tiers?: readonly RateLimitTierInit[] | undefined
  /**
   * The most keys (hosts and tier prefixes) a node counts per window; attempts from further
   * keys are admitted uncounted (and counted in `metrics().budget.untracked`).
   * An integer from 1 to 16777216.
   *
   * @default 65536
   */
  readonly maxKeys?: number | undefined
}

/**
 * The network prefixes wider than which allow and trusted rules read from Redis are
 * refused as hostile: such a rule would open the node to, or exempt from its limits, a
 * large part of the Internet.
 *
 * @example
 * ```ts
 * import type { FleetWidestAllow } from '@cm/fleet'
 *
 * const widest: FleetWidestAllow = { ipv4PrefixLength: 16, ipv6PrefixLength: 32 }
 * ```
 */
export interface FleetWidestAllow {
  /** The shortest IPv4 prefix accepted on the allow and trusted lists. An integer 0 to 32. */
  readonly ipv4PrefixLength: number
  /** The shortest IPv6 prefix accepted on the allow and trusted lists. An integer 0 to 128. */
  readonly ipv6PrefixLength: number
}

/**
 * How a node waits between two attempts to reach Redis: the n-th wait is
 * `min(maxDelayMs, initialDelayMs × factor^(n-1))`, less up to half of it at random.
 *
 * @example
 * ```ts
 * import type { FleetReconnectOptions } from '@cm/fleet'
 *
 * const reconnect: FleetReconnectOptions = { initialDelayMs: 50, maxDelayMs: 2_000 }
 * ```
 */
export interface FleetReconnectOptions {
  /** The first wait, in milliseconds. A duration from 1 to 60000. @default 100 */
  readonly initialDelayMs?: number | undefined
  /** The longest wait, in milliseconds. A duration from 1 to 600000. @default 5000 */
  readonly maxDelayMs?: number | undefined
  /** The growth of the wait from one attempt to the next. A number from 1 to 10. @default 2 */
  readonly factor?: number | undefined
}

/**
 * Options of {@link createFleet}.
 *
 * @example
 * ```ts
 * import { createFleet } from '@cm/fleet'
 * import type { FleetInit } from '@cm/fleet'
 *
 * const init: FleetInit = {
 *   redis: { url: 'redis://127.0.0.1:6379', username: 'fleet', password: 'secret' },
 *   prefix: 'cm:fleet:relays:',
 *   node: 'relay-eu-1',
 *   budget: { limit: 20 },
 *   syncIntervalMs: 100
 * }
 * const fleet = createFleet(init)
 * ```
 */
export interface FleetInit {
  /** How to reach Redis. @default `{ url: 'redis://127.0.0.1:6379' }` */
  readonly redis?: FleetRedisOptions | undefined
  /**
   * The prefix of every Redis key of this fleet, so that several fleets share one Redis
   * without seeing each other's rules. 1 to 128 characters, no white space.
   *
   * @default 'cm:fleet:'
   */
  readonly prefix?: string | undefined
  /**
   * This node's name, recorded with the rules it writes and in the set of live nodes.
   * 1 to 64 printable ASCII characters, no white space.
   *
   * @default `node-` and 12 random hex digits
   */
  readonly node?: string | undefined
  /** The fleet-wide rate budget, or `null` for none (rules only). @default null */
  readonly budget?: FleetBudgetInit | null | undefined
  /**
   * Milliseconds between two reports of the node's attempt counts to Redis (the `T` of the
   * budget's accuracy bound); also the pace of the heartbeat and of the clock sync.
   * An integer from 10 to 10000.
   *
   * @default 100
   */
  readonly syncIntervalMs?: number | undefined
  /**
   * The lists this node takes from the fleet. A node that must never let the fleet widen
   * its access takes `['deny']`; rules of other lists are then refused and reported.
   *
   * @default ['deny', 'allow', 'trusted']
   */
  readonly accept?: readonly GateList[] | undefined
  /** Allow and trusted rules read from Redis wider than these are refused. @default IPv4 /8, IPv6 /16 */
  readonly widestAllow?: FleetWidestAllow | undefined
  /**
   * The most rules a node holds from the fleet; beyond, new rules are refused and
   * reported. An integer from 1 to 10000000.
   *
   * @default 1000000
   */
  readonly maxRules?: number | undefined
  /**
   * About how many changes the rule log keeps (`XADD … MAXLEN ~`); a node further behind
   * reloads the snapshot. An integer from 100 to 100000000.
   *
   * @default 100000
   */
  readonly logLength?: number | undefined
  /**
   * The most rule writes that wait for Redis while it is away. An integer from 1 to 1000000.
   *
   * @default 10000
   */
  readonly maxQueuedWrites?: number | undefined
  /** How long to wait between attempts to reach Redis. */
  readonly reconnect?: FleetReconnectOptions | undefined
  /**
   * The clock that TTLs, budget windows and timers are measured against (milliseconds).
   * The fleet's absolute times are Redis's clock; the node learns its offset at every sync.
   *
   * @default systemClock (`performance.now()`)
   */
  readonly clock?: Clock | undefined
  /** Random numbers in [0, 1), for node names and reconnect jitter. @default Math.random */
  readonly random?: (() => number) | undefined
  /** Receives every error a listener of `fleet.events` throws. @default prints with `console.error` */
  readonly onListenerError?: ListenerErrorHandler | undefined
}

/** A budget tier, resolved. */
export interface ResolvedTier {
  readonly name: string
  readonly limit: number
  readonly windowMs: number
  readonly ipv4PrefixLength: number
  readonly ipv6PrefixLength: number
}

/** The budget, resolved: the host tier first, then the wider ones. */
export interface ResolvedBudget {
  readonly tiers: readonly ResolvedTier[]
  readonly maxKeys: number
}

/** The connection options, resolved. */
export interface ResolvedRedisOptions {
  readonly url: string
  readonly username: string | undefined
  readonly password: string | undefined
  readonly database: number | undefined
  readonly tls: boolean | ConnectionOptions | undefined
  readonly connectTimeoutMs: number
}

/** Every option, resolved. */
export interface ResolvedFleetOptions {
  readonly redis: ResolvedRedisOptions
  readonly prefix: string
  readonly node: string
  readonly budget: ResolvedBudget | null
  readonly syncIntervalMs: number
  readonly accept: readonly GateList[]
  readonly widestAllow: FleetWidestAllow
  readonly maxRules: number
  readonly logLength: number
  readonly maxQueuedWrites: number
  readonly reconnect: { readonly initialDelayMs: number, readonly maxDelayMs: number, readonly factor: number }
  readonly clock: Clock
  readonly random: () => number
  readonly onListenerError: ListenerErrorHandler | undefined
}

/** Printable ASCII without white space: node names, prefixes. */
const TOKEN = /^[\x21-\x7e]+$/

function tokenRule (maxLength: number): OptionRule<string> {
  const expected = `a string of 1 to ${maxLength} printable ASCII characters, no white space`
  return {
    expected,
    check (value, path, problems): value is string {
      const ok = typeof value === 'string' && value.length >= 1 && value.length <= maxLength && TOKEN.test(value)
      if (!ok) problems.add(path, expected, value)
      return ok
    }
  }
}

function sectionRule<T extends object> (expected: string, schema: OptionsSchema<T>): OptionRule<T> {
  return {
    expected,
    check (value, path, problems): value is T {
      const before = problems.problems.length
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.add(path, expected, value)
        return false
      }
      resolveOptions(schema, value, problems, { path })
      return problems.problems.length === before
    },
    resolve: value => resolveOptions(schema, value, new ProblemCollector())
  }
}

const stringRule = (expected: string): OptionRule<string | undefined> => ({
  expected,
  check (value, path, problems): value is string {
    const ok = typeof value === 'string'
    if (!ok) problems.add(path, expected, value)
    return ok
  }
})

const tlsRule: OptionRule<boolean | ConnectionOptions | undefined> = {
  expected: 'a boolean or an object of tls.connect options',
  check (value, path, problems): value is boolean | ConnectionOptions {
    const ok = typeof value === 'boolean' || (typeof value === 'object' && value !== null && !Array.isArray(value))
    if (!ok) problems.add(path, 'a boolean or an object of tls.connect options', value)
    return ok
  }
}

const REDIS_SCHEMA: OptionsSchema<ResolvedRedisOptions> = {
  url: {
    default: 'redis://127.0.0.1:6379',
    rule: {
      expected: 'a redis:// or rediss:// URL',
      check (value, path, problems): value is string {
        const ok = typeof value === 'string' && /^rediss?:\/\//.test(value) && URL.canParse(value)
        if (!ok) problems.add(path, 'a redis:// or rediss:// URL', value)
        return ok
      }
    }
  },
  username: { default: undefined, rule: stringRule('a string') },
  password: { default: undefined, rule: stringRule('a string') },
  database: { default: undefined, rule: integerRule({ min: 0, max: 1_000_000 }) },
  tls: { default: undefined, rule: tlsRule },
  connectTimeoutMs: { default: 5_000, rule: durationRule({ min: 1, max: 600_000 }) }
}

const windowRule = integerRule({ min: 100, max: 3_600_000 })
const budgetLimitRule = integerRule({ min: 1, max: MAX_ATTEMPTS_PER_WINDOW })

interface BudgetOptions {
  readonly limit: number
  readonly windowMs: number
  readonly ipv4PrefixLength: number
  readonly ipv6PrefixLength: number
  readonly tiers: readonly RateLimitTier[]
  readonly maxKeys: number
}

/** `@cm/config`'s rule for rate-limit tiers, and the fleet's own bounds on top. */
const tiersRule: OptionRule<readonly RateLimitTier[]> = {
  expected: RATE_LIMIT_OPTIONS_SCHEMA.tiers.rule.expected,
  check (value, path, problems): value is readonly RateLimitTier[] {
    const before = problems.problems.length
    RATE_LIMIT_OPTIONS_SCHEMA.tiers.rule.check(value, path, problems)
    if (Array.isArray(value)) {
      value.forEach((tier: unknown, index) => {
        if (typeof tier !== 'object' || tier === null) return
        const { limit, windowMs } = tier as { limit?: unknown, windowMs?: unknown }
        if (typeof limit === 'number' && limit < 1) budgetLimitRule.check(limit, `${path}[${index}].limit`, problems)
        if (windowMs !== undefined && typeof windowMs === 'number' && windowMs > 0) windowRule.check(windowMs, `${path}[${index}].windowMs`, problems)
      })
    }
    return problems.problems.length === before
  },
  resolve: (value, current) => RATE_LIMIT_OPTIONS_SCHEMA.tiers.rule.resolve?.(value, current) ?? current
}

const BUDGET_SCHEMA: OptionsSchema<BudgetOptions> = {
  limit: { default: 0, rule: budgetLimitRule },
  windowMs: { default: 1_000, rule: windowRule },
  ipv4PrefixLength: RATE_LIMIT_OPTIONS_SCHEMA.ipv4PrefixLength,
  ipv6PrefixLength: RATE_LIMIT_OPTIONS_SCHEMA.ipv6PrefixLength,
  tiers: { default: [], rule: tiersRule },
  maxKeys: RATE_LIMIT_OPTIONS_SCHEMA.maxKeys
}

const budgetRule: OptionRule<BudgetOptions | null> = {
  expected: 'a budget object or null',
  check (value, path, problems): value is BudgetOptions | null {
    if (value === null) return true
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.add(path, 'a budget object or null', value)
      return false
    }
    const before = problems.problems.length
    resolveOptions(BUDGET_SCHEMA, value, problems, { path })
    if ((value as { limit?: unknown }).limit === undefined) {
      problems.add(`${path}.limit`, 'an integer >= 1 and <= 1000000', undefined, 'a limit is required')
    }
    return problems.problems.length === before
  },
  resolve: value => value === null ? null : resolveOptions(BUDGET_SCHEMA, value, new ProblemCollector())
}

const LISTS: readonly GateList[] = ['deny', 'allow', 'trusted']

const acceptRule: OptionRule<readonly GateList[]> = {
  expected: 'an array of "deny", "allow", "trusted"',
  check (value, path, problems): value is readonly GateList[] {
    const ok = Array.isArray(value) && value.every(list => LISTS.includes(list as GateList))
    if (!ok) problems.add(path, 'an array of "deny", "allow", "trusted"', value)
    return ok
  }
}

const WIDEST_SCHEMA: OptionsSchema<FleetWidestAllow> = {
  ipv4PrefixLength: { default: 8, rule: integerRule({ min: 0, max: 32 }) },
  ipv6PrefixLength: { default: 16, rule: integerRule({ min: 0, max: 128 }) }
}

const RECONNECT_SCHEMA: OptionsSchema<ResolvedFleetOptions['reconnect']> = {
  initialDelayMs: { default: 100, rule: durationRule({ min: 1, max: 60_000 }) },
  maxDelayMs: { default: 5_000, rule: durationRule({ min: 1, max: 600_000 }) },
  factor: { default: 2, rule: finiteNumberRule({ min: 1, max: 10 }) }
}

interface TopOptions extends Omit<ResolvedFleetOptions, 'budget' | 'node' | 'redis'> {
  readonly redis: ResolvedRedisOptions
  readonly node: string | undefined
  readonly budget: BudgetOptions | null
}

const FLEET_SCHEMA: OptionsSchema<TopOptions> = {
  redis: { default: resolveOptions(REDIS_SCHEMA, {}, new ProblemCollector()), rule: sectionRule('an object of Redis connection options', REDIS_SCHEMA) },
  prefix: { default: 'cm:fleet:', rule: tokenRule(128) },
  node: { default: undefined, rule: tokenRule(64) },
  budget: { default: null, rule: budgetRule },
  syncIntervalMs: { default: 100, rule: integerRule({ min: 10, max: 10_000 }) },
  accept: { default: LISTS, rule: acceptRule },
  widestAllow: { default: resolveOptions(WIDEST_SCHEMA, {}, new ProblemCollector()), rule: sectionRule('an object with ipv4PrefixLength and ipv6PrefixLength', WIDEST_SCHEMA) },
  maxRules: { default: 1_000_000, rule: integerRule({ min: 1, max: 10_000_000 }) },
  logLength: { default: 100_000, rule: integerRule({ min: 100, max: 100_000_000 }) },
  maxQueuedWrites: { default: 10_000, rule: integerRule({ min: 1, max: 1_000_000 }) },
  reconnect: { default: resolveOptions(RECONNECT_SCHEMA, {}, new ProblemCollector()), rule: sectionRule('an object of reconnect options', RECONNECT_SCHEMA) },
  clock: { default: systemClock, rule: clockRule },
  random: { default: Math.random, rule: functionRule<() => number>('a function returning a number in [0, 1)') },
  onListenerError: { default: undefined, rule: functionRule<ListenerErrorHandler | undefined>('a function') }
}

/**
 * Validates and resolves the fleet's options.
 *
 * @throws `InvalidConfigError` (from `@cm/config`) listing every problem
 */
export function resolveFleetOptions (init: FleetInit | undefined): ResolvedFleetOptions {
  const problems = new ProblemCollector()
  const options = resolveOptions(FLEET_SCHEMA, init, problems)
  problems.throwIfAny()
  const budget = options.budget === null
    ? null
    : {
        maxKeys: options.budget.maxKeys,
        tiers: [
          { name: 'host', limit: options.budget.limit, windowMs: options.budget.windowMs, ipv4PrefixLength: options.budget.ipv4PrefixLength, ipv6PrefixLength: options.budget.ipv6PrefixLength },
          ...options.budget.tiers
        ]
      }
  const random = options.random
  const node = options.node ?? `node-${Array.from({ length: 12 }, () => Math.floor(random() * 16).toString(16)).join('')}`
  return Object.freeze({ ...options, node, budget })
}

/** The options of a fleet admin, resolved. */
export interface ResolvedAdminOptions {
  readonly redis: ResolvedRedisOptions
  readonly prefix: string
  readonly name: string
  readonly logLength: number
}

const ADMIN_SCHEMA: OptionsSchema<ResolvedAdminOptions> = {
  redis: FLEET_SCHEMA.redis,
  prefix: FLEET_SCHEMA.prefix,
  name: { default: 'admin', rule: tokenRule(64) },
  logLength: FLEET_SCHEMA.logLength
}

/**
 * Validates and resolves a fleet admin's options.
 *
 * @throws `InvalidConfigError` (from `@cm/config`) listing every problem
 */
export function resolveAdminOptions (init: unknown): ResolvedAdminOptions {
  const problems = new ProblemCollector()
  const options = resolveOptions(ADMIN_SCHEMA, init, problems)
  problems.throwIfAny()
  return Object.freeze(options)
}
