import { checkPruneWatermarks, PRUNE_STRATEGIES } from './pruning-options.ts'
import type { PruneStrategyName } from './pruning-options.ts'
import { attemptLimitRule, DEFAULT_RATE_LIMIT_OPTIONS, rateLimitOptionsRule } from './rate-limit-options.ts'
import type { RateLimitOptions, RateLimitOptionsInit } from './rate-limit-options.ts'
import { addressListRule } from './validation/address-rules.ts'
import { durationRule, finiteNumberRule, integerRule, oneOfRule } from './validation/rules.ts'
import { ProblemCollector } from './validation/problems.ts'
import { resolveOptions } from './validation/resolve-options.ts'
import type { OptionRule } from './validation/rules.ts'
import type { OptionsSchema } from './validation/resolve-options.ts'

/**
 * Which connections an allow or deny list applies to: `'both'` (inbound connections and
 * outbound dials), `'inbound'` or `'outbound'`.
 *
 * @example
 * ```ts
 * import type { ListDirection } from '@cm/config'
 *
 * const direction: ListDirection = 'inbound'
 * ```
 */
export type ListDirection = 'both' | 'inbound' | 'outbound'

/**
 * Every connection-management option, resolved: each one present, validated and frozen.
 *
 * The options and defaults are those of py-libp2p's `ConnectionConfig` (and js-libp2p's
 * `ConnectionManagerInit`). **Durations are milliseconds**, as is usual in JavaScript and in
 * js-libp2p, where py-libp2p uses seconds: py-libp2p's `dial_timeout = 10.0` is our
 * `dialTimeout: 10_000`.
 *
 * @example
 * ```ts
 * import { resolveConfig } from '@cm/config'
 * import type { ConnectionConfig } from '@cm/config'
 *
 * const config: ConnectionConfig = resolveConfig({ maxConnections: 50 })
 * config.maxConnectionsPerPeer // 3, the default
 * ```
 */
export interface ConnectionConfig {
  /**
   * The most connections held at once, inbound and outbound together, in any state:
   * pending, open and closing (a closing socket with unsent data holds as much memory as an
   * open one). Inbound connections are refused at this count; outbound dials are not, and
   * the pruner closes the open connections above it.
   *
   * An integer >= 1, and at least `maxConnectionsPerPeer`.
   *
   * @default 300
   */
  readonly maxConnections: number

  /**
   * The most connections open at once to one peer (once the peer is identified).
   *
   * An integer >= 1 and <= `maxConnections`.
   *
   * @default 3
   */
  readonly maxConnectionsPerPeer: number

  /**
   * The most outbound dials running at once.
   *
   * An integer >= 1.
   *
   * @default 100
   */
  readonly maxParallelDials: number

  /**
   * The most outbound dials waiting for a free slot; beyond this a dial is refused at once.
   * 0 means no dial waits: one is refused when `maxParallelDials` are already running.
   *
   * An integer >= 0.
   *
   * @default 500
   */
  readonly maxDialQueueLength: number

  /**
   * The most inbound connections accepted but not yet open (for libp2p: still upgrading).
   *
   * An integer >= 1.
   *
   * @default 10
   */
  readonly maxIncomingPendingConnections: number

  /**
   * Inbound connection attempts admitted per second from one host (an IPv4 address or an
   * IPv6 /64, see `rateLimit`), with a burst of at most this many at once. Refused attempts
   * use no budget. 0 admits none (except from trusted addresses); to turn rate limiting off,
   * set `rateLimit.enabled` to `false`.
   *
   * An integer from 0 to 1000000.
   *
   * @default 5
   */
  readonly inboundConnectionThreshold: number

  /**
   * How inbound attempts are rate limited beyond the per-host rate: what counts as one host
   * (prefix lengths per family), wider tiers with their own rates, a global rate, the most
   * keys kept, and an on/off switch. Any subset may be given; the rest keep their defaults.
   *
   * @default DEFAULT_RATE_LIMIT_OPTIONS
   */
  readonly rateLimit: RateLimitOptions

  /**
   * Entries (IP addresses, CIDR ranges, multiaddrs, peer IDs) that may connect. When the list
   * is not empty, it is exclusive: everyone not on it is refused. The deny list still wins.
   *
   * Each entry must be accepted by `parseAddressEntry`.
   *
   * @default []
   */
  readonly allowList: readonly string[]

  /**
   * Entries (IP addresses, CIDR ranges, multiaddrs, peer IDs) that may never connect, in
   * either direction. A deny match refuses whatever else matches.
   *
   * Each entry must be accepted by `parseAddressEntry`.
   *
   * @default []
   */
  readonly denyList: readonly string[]

  /**
   * Entries (IP addresses, CIDR ranges, multiaddrs, peer IDs) that are trusted: they are
   * exempt from the rate limit, the pending-connection limit and pruning. Trust restricts
   * no one and admits no one: the deny list and a non-empty allow list still decide. This
   * is what js-libp2p calls its `allow` list.
   *
   * Each entry must be accepted by `parseAddressEntry`.
   *
   * @default []
   */
  readonly trustedList: readonly string[]

  /**
   * The connections the allow list applies to: `'both'`, `'inbound'` (outbound dials are
   * not restricted by it) or `'outbound'`.
   *
   * One of `'both'`, `'inbound'`, `'outbound'`.
   *
   * @default 'both'
   */
  readonly allowListDirection: ListDirection

  /**
   * The connections the deny list applies to: `'both'`, `'inbound'` (outbound dials are
   * not refused by it, as in js-libp2p) or `'outbound'`.
   *
   * One of `'both'`, `'inbound'`, `'outbound'`.
   *
   * @default 'both'
   */
  readonly denyListDirection: ListDirection

  /**
   * Milliseconds an outbound dial may take, from its start to an open connection.
   *
   * A finite number > 0 and <= 2147483647.
   *
   * @default 10000
   */
  readonly dialTimeout: number

  /**
   * Milliseconds a connection may take to close gracefully before it is destroyed.
   *
   * A finite number > 0 and <= 2147483647.
   *
   * @default 1000
   */
  readonly connectionCloseTimeout: number

  /**
   * How many times a keep-alive connection is redialled after it closes unexpectedly.
   * 0 disables reconnection.
   *
   * An integer >= 0.
   *
   * @default 5
   */
  readonly reconnectRetries: number

  /**
   * Milliseconds before the first reconnect attempt; attempt n waits
   * `reconnectRetryInterval × reconnectBackoffFactor^(n-1)`.
   *
   * A finite number > 0 and <= 2147483647.
   *
   * @default 1000
   */
  readonly reconnectRetryInterval: number

  /**
   * The factor by which each reconnect delay grows over the one before.
   *
   * A finite number >= 1.
   *
   * @default 2
   */
  readonly reconnectBackoffFactor: number

  /**
   * The longest wait between reconnect attempts, milliseconds: the growing delay stops
   * growing here.
   *
   * A finite number > 0 and <= 2147483647.
   *
   * @default 60000
   */
  readonly reconnectMaxDelay: number

  /**
   * Random spread of reconnect delays, from 0 to 1: each delay d becomes a value between
   * `d × (1 - reconnectJitter)` and d, so that many peers dropped together do not all
   * redial at the same moment. 0 keeps the delays exact.
   *
   * A finite number >= 0 and <= 1.
   *
   * @default 0
   */
  readonly reconnectJitter: number

  /**
   * Milliseconds an accepted inbound connection may stay pending (its upgrade or handshake
   * running) before it is closed with reason `timeout`, so that clients that connect and
   * stall cannot hold pending slots (`maxIncomingPendingConnections`) for ever.
   *
   * A finite number > 0 and <= 2147483647.
   *
   * @default 10000
   */
  readonly inboundUpgradeTimeout: number

  /**
   * The order in which connections are picked for closing when there are too many (see
   * `@cm/pruner` for each order in full): `'least-valuable'` (lowest tag value, then fewest
   * streams, then inbound, then newest first), `'oldest'` or `'newest'`. A custom order is
   * a function, given to the pruner itself, not to the config.
   *
   * One of `'least-valuable'`, `'oldest'`, `'newest'`.
   *
   * @default 'least-valuable'
   */
  readonly pruneStrategy: PruneStrategyName

  /**
   * Milliseconds during which a newly opened connection is never picked for closing, so it
   * has time to be tagged and used. 0 disables the grace period (as in js-libp2p; go-libp2p
   * uses one minute). Connections in their grace period still count towards the limits.
   *
   * A duration in milliseconds >= 0 and <= 2147483647.
   *
   * @default 0
   */
  readonly pruneGracePeriod: number

  /**
   * With {@link ConnectionConfig.pruneHighWatermark}: once more than `pruneHighWatermark`
   * connections are open, prune down to this many (go-libp2p's low water). Both 0: no
   * watermarks; the pruner acts only above `maxConnections`, down to `maxConnections`.
   *
   * An integer >= 0; 0 or 1 to `pruneHighWatermark` when that is set.
   *
   * @default 0
   */
  readonly pruneLowWatermark: number

  /**
   * With {@link ConnectionConfig.pruneLowWatermark}: the count above which the pruner
   * starts (go-libp2p's high water). It must be below `maxConnections`, since admission
   * holds the count at `maxConnections` and a higher mark would never be passed
   * (go-libp2p #1640). Both 0: no watermarks.
   *
   * An integer >= 0; when set, >= `pruneLowWatermark` and < `maxConnections`.
   *
   * @default 0
   */
  readonly pruneHighWatermark: number

  /**
   * How many recently closed connections the connection tracker keeps, with their timelines
   * and close reasons, for inspection and monitoring. The oldest is dropped when a new one
   * arrives. 0 keeps none.
   *
   * An integer >= 0 and <= 1000000 ({@link MAX_CONNECTION_HISTORY_SIZE}).
   *
   * @default 100
   */
  readonly connectionHistorySize: number
}

/**
 * The options a user may give: any subset of {@link ConnectionConfig}. An option left out
 * (or `undefined`) takes its default. A nested section (`rateLimit`) may itself be given in
 * part.
 *
 * @example
 * ```ts
 * import type { ConnectionConfigInit } from '@cm/config'
 *
 * const init: ConnectionConfigInit = {
 *   maxConnections: 100,
 *   denyList: ['10.0.0.0/8', '/ip6/2001:db8::/ipcidr/32']
 * }
 * ```
 */
export type ConnectionConfigInit = {
  -readonly [K in keyof ConnectionConfig]?: (K extends 'rateLimit' ? RateLimitOptionsInit : ConnectionConfig[K]) | undefined
}

/**
 * The default value of every option.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from '@cm/config'
 *
 * DEFAULT_CONFIG.dialTimeout // 10000 (milliseconds)
 * ```
 */
export const DEFAULT_CONFIG: ConnectionConfig = Object.freeze({
  maxConnections: 300,
  maxConnectionsPerPeer: 3,
  maxParallelDials: 100,
  maxDialQueueLength: 500,
  maxIncomingPendingConnections: 10,
  inboundConnectionThreshold: 5,
  rateLimit: DEFAULT_RATE_LIMIT_OPTIONS,
  allowList: Object.freeze([]),
  denyList: Object.freeze([]),
  trustedList: Object.freeze([]),
  allowListDirection: 'both',
  denyListDirection: 'both',
  dialTimeout: 10_000,
  connectionCloseTimeout: 1_000,
  reconnectRetries: 5,
  reconnectRetryInterval: 1_000,
  reconnectBackoffFactor: 2,
  reconnectMaxDelay: 60_000,
  reconnectJitter: 0,
  inboundUpgradeTimeout: 10_000,
  pruneStrategy: 'least-valuable',
  pruneGracePeriod: 0,
  pruneLowWatermark: 0,
  pruneHighWatermark: 0,
  connectionHistorySize: 100
})

const LIST_DIRECTIONS: readonly ListDirection[] = ['both', 'inbound', 'outbound']

/**
 * The largest `connectionHistorySize` accepted: the history is preallocated, so its size is
 * bounded.
 *
 * @example
 * ```ts
 * import { MAX_CONNECTION_HISTORY_SIZE } from '@cm/config'
 *
 * MAX_CONNECTION_HISTORY_SIZE // 1000000
 * ```
 */
export const MAX_CONNECTION_HISTORY_SIZE = 1_000_000

const SCHEMA: OptionsSchema<ConnectionConfig> = {
  maxConnections: { default: DEFAULT_CONFIG.maxConnections, rule: integerRule({ min: 1 }) },
  maxConnectionsPerPeer: { default: DEFAULT_CONFIG.maxConnectionsPerPeer, rule: integerRule({ min: 1 }) },
  maxParallelDials: { default: DEFAULT_CONFIG.maxParallelDials, rule: integerRule({ min: 1 }) },
  maxDialQueueLength: { default: DEFAULT_CONFIG.maxDialQueueLength, rule: integerRule({ min: 0 }) },
  maxIncomingPendingConnections: { default: DEFAULT_CONFIG.maxIncomingPendingConnections, rule: integerRule({ min: 1 }) },
  inboundConnectionThreshold: { default: DEFAULT_CONFIG.inboundConnectionThreshold, rule: attemptLimitRule },
  rateLimit: { default: DEFAULT_CONFIG.rateLimit, rule: rateLimitOptionsRule },
  allowList: { default: DEFAULT_CONFIG.allowList, rule: addressListRule },
  denyList: { default: DEFAULT_CONFIG.denyList, rule: addressListRule },
  trustedList: { default: DEFAULT_CONFIG.trustedList, rule: addressListRule },
  allowListDirection: { default: DEFAULT_CONFIG.allowListDirection, rule: oneOfRule(LIST_DIRECTIONS) },
  denyListDirection: { default: DEFAULT_CONFIG.denyListDirection, rule: oneOfRule(LIST_DIRECTIONS) },
  dialTimeout: { default: DEFAULT_CONFIG.dialTimeout, rule: durationRule() },
  connectionCloseTimeout: { default: DEFAULT_CONFIG.connectionCloseTimeout, rule: durationRule() },
  reconnectRetries: { default: DEFAULT_CONFIG.reconnectRetries, rule: integerRule({ min: 0 }) },
  reconnectRetryInterval: { default: DEFAULT_CONFIG.reconnectRetryInterval, rule: durationRule() },
  reconnectBackoffFactor: { default: DEFAULT_CONFIG.reconnectBackoffFactor, rule: finiteNumberRule({ min: 1 }) },
  reconnectMaxDelay: { default: DEFAULT_CONFIG.reconnectMaxDelay, rule: durationRule() },
  reconnectJitter: { default: DEFAULT_CONFIG.reconnectJitter, rule: finiteNumberRule({ min: 0, max: 1 }) },
  inboundUpgradeTimeout: { default: DEFAULT_CONFIG.inboundUpgradeTimeout, rule: durationRule() },
  pruneStrategy: { default: DEFAULT_CONFIG.pruneStrategy, rule: oneOfRule(PRUNE_STRATEGIES) },
  pruneGracePeriod: { default: DEFAULT_CONFIG.pruneGracePeriod, rule: durationRule({ min: 0 }) },
  pruneLowWatermark: { default: DEFAULT_CONFIG.pruneLowWatermark, rule: integerRule({ min: 0 }) },
  pruneHighWatermark: { default: DEFAULT_CONFIG.pruneHighWatermark, rule: integerRule({ min: 0 }) },
  connectionHistorySize: { default: DEFAULT_CONFIG.connectionHistorySize, rule: integerRule({ min: 0, max: MAX_CONNECTION_HISTORY_SIZE }) }
}

/**
 * The rule of every option, so that a package taking one of these options standalone (for
 * example the connection tracker's `connectionHistorySize`) validates it with exactly the
 * code and the message {@link resolveConfig} uses.
 *
 * @example
 * ```ts
 * import { CONFIG_RULES } from '@cm/config'
 * import { ProblemCollector } from '@cm/config/validation'
 *
 * const problems = new ProblemCollector()
 * CONFIG_RULES.connectionHistorySize.check(-1, 'connectionHistorySize', problems) // false
 * problems.problems[0]?.message // 'Expected `connectionHistorySize` to be an integer >= 0 and <= 1000000, got -1 (number)'
 * ```
 */
export const CONFIG_RULES: { readonly [K in keyof ConnectionConfig]: OptionRule<ConnectionConfig[K]> } = Object.freeze(
  Object.fromEntries(Object.entries(SCHEMA).map(([name, entry]) => [name, (entry as { rule: unknown }).rule])) as { [K in keyof ConnectionConfig]: OptionRule<ConnectionConfig[K]> }
)

/**
 * The names of every option, in the order they are checked and documented.
 *
 * @example
 * ```ts
 * import { CONFIG_OPTIONS } from '@cm/config'
 *
 * CONFIG_OPTIONS.includes('dialTimeout') // true
 * ```
 */
export const CONFIG_OPTIONS: ReadonlyArray<keyof ConnectionConfig> = Object.freeze(Object.keys(SCHEMA) as Array<keyof ConnectionConfig>)

/**
 * Resolves user options into a frozen, fully defaulted {@link ConnectionConfig}.
 *
 * Every option is checked; every problem is reported at once in one
 * {@link InvalidConfigError}, each naming the option, what was expected and what was
 * given. Nothing is skipped or clamped. The checks, beyond each option's own rule (see
 * {@link ConnectionConfig}):
 * - unknown options are refused, with a suggestion for near misses (`maxConection`);
 * - `undefined` means "not given";
 * - `maxConnectionsPerPeer` must not exceed `maxConnections`;
 * - the pruning watermarks are both set or both 0, `pruneLowWatermark <= pruneHighWatermark`,
 *   and `pruneHighWatermark < maxConnections`.
 *
 * @param init - the options given; omitted ones take their defaults
 * @throws {@link InvalidConfigError} listing every problem
 *
 * @example
 * ```ts
 * import { resolveConfig } from '@cm/config'
 *
 * const config = resolveConfig({
 *   maxConnections: 100,
 *   dialTimeout: 5_000, // milliseconds
 *   denyList: ['10.0.0.0/8']
 * })
 * Object.isFrozen(config) // true
 * ```
 */
export function resolveConfig (init: ConnectionConfigInit = {}): ConnectionConfig {
  return resolve(init, undefined)
}

/**
 * Derives a new config from `current` with the options in `change` replaced. The result is
 * checked as a whole, exactly as {@link resolveConfig} checks, so a change that would
 * contradict an unchanged option is refused. `current` is not modified.
 *
 * @param current - a resolved config
 * @param change - the options to replace; `undefined` values leave an option as it is
 * @throws {@link InvalidConfigError} listing every problem
 *
 * @example
 * ```ts
 * import { resolveConfig, updateConfig } from '@cm/config'
 *
 * const config = resolveConfig()
 * const lower = updateConfig(config, { maxConnections: 50 })
 * lower.maxConnections // 50
 * config.maxConnections // 300, unchanged
 * ```
 */
export function updateConfig (current: ConnectionConfig, change: ConnectionConfigInit): ConnectionConfig {
  return resolve(change, current)
}

/**
 * Lists the options whose values differ between two configs, in {@link CONFIG_OPTIONS}
 * order. Lists and sections compare by their contents.
 *
 * @param previous - the config before
 * @param next - the config after
 *
 * @example
 * ```ts
 * import { changedOptions, resolveConfig, updateConfig } from '@cm/config'
 *
 * const before = resolveConfig()
 * const after = updateConfig(before, { maxConnections: 10, dialTimeout: 10_000 })
 * changedOptions(before, after) // ['maxConnections']
 * ```
 */
export function changedOptions (previous: ConnectionConfig, next: ConnectionConfig): Array<keyof ConnectionConfig> {
  return CONFIG_OPTIONS.filter(name => !sameValue(previous[name], next[name]))
}

function sameValue (a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) {
    return true
  }
  // Stryker disable next-line LogicalOperator: resolved options have one shape, so a list is compared with a list
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((value, index) => sameValue(value, b[index]))
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a)
    // Stryker disable next-line ConditionalExpression: resolved rateLimit sections and tiers always have the same keys
    return keys.length === Object.keys(b).length && keys.every(key => Object.hasOwn(b, key) && sameValue(a[key], b[key]))
  }
  return false
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  // Stryker disable next-line ConditionalExpression: the objects of a resolved config are plain, and its other values differ by Object.is
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
}

function resolve (input: unknown, base: ConnectionConfig | undefined): ConnectionConfig {
  const problems = new ProblemCollector()
  // Stryker disable next-line ConditionalExpression: a base of undefined means the defaults, as no base does
  const config = resolveOptions(SCHEMA, input, problems, base === undefined ? {} : { base })
  const invalid = new Set(problems.problems.map(problem => problem.path))
  if (!invalid.has('maxConnections') && !invalid.has('maxConnectionsPerPeer') && config.maxConnectionsPerPeer > config.maxConnections) {
    problems.addProblem({
      path: 'maxConnectionsPerPeer',
      expected: `an integer <= maxConnections (${config.maxConnections})`,
      received: `${config.maxConnectionsPerPeer} (number)`,
      message: `Expected \`maxConnectionsPerPeer\` (${config.maxConnectionsPerPeer}) to be at most \`maxConnections\` (${config.maxConnections}): one peer cannot hold more connections than the node`
    })
  }
  checkPruneWatermarks(config, invalid, problems)
  problems.throwIfAny()
  return Object.freeze(config)
}
