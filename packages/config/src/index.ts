/**
 * The foundation every `@cm` package stands on: the {@link ConnectionConfig} with every
 * option, its default and its validation, the parts of a config a gate and a rate limiter
 * enforce, and the shared basics (a base error class, an injectable clock,
 * `AbortOptions`).
 *
 * Three more entry points hold what the other packages share, each one concern:
 * `@cm/config/address` (strict parsing of IP addresses, CIDR ranges, multiaddrs and peer
 * IDs), `@cm/config/events` (a typed event target whose listeners cannot break it) and
 * `@cm/config/validation` (the toolkit every package validates its own options with). One
 * package, so that they are installed and versioned together; four faces, so that each is
 * found, read and documented on its own.
 *
 * It knows the shape of every option, not the policy behind it: the gate, the rate limiter,
 * the pruner and the manager enforce the options; this package only makes sure they are
 * well formed. Durations are milliseconds throughout.
 *
 * @example Resolve a configuration
 * ```ts
 * import { InvalidConfigError, resolveConfig, updateConfig } from '@cm/config'
 *
 * const config = resolveConfig({
 *   maxConnections: 100,
 *   inboundConnectionThreshold: 10,
 *   denyList: ['10.0.0.0/8', '/ip6/2001:db8::/ipcidr/32']
 * })
 * config.dialTimeout // 10000: the default, in milliseconds
 *
 * const lower = updateConfig(config, { maxConnections: 50 })
 *
 * try {
 *   resolveConfig({ maxConnections: 0, denyList: ['1.2.3.4/33'] })
 * } catch (error) {
 *   if (InvalidConfigError.isInstance(error)) {
 *     console.error(error.message)
 *     // Invalid configuration (2 problems):
 *     //   - Expected `maxConnections` to be an integer >= 1, got 0 (number)
 *     //   - Expected `denyList[0]` to be an IP address, CIDR range, multiaddr or peer ID, got "1.2.3.4/33" (string): the prefix length must be an integer from 0 to 32, got "33"
 *   }
 * }
 * ```
 *
 * @example Parse addresses strictly
 * ```ts
 * import { parseAddressEntry, parseIp } from '@cm/config/address'
 *
 * parseIp('::ffff:10.0.0.1')?.text // '10.0.0.1': an IPv4-mapped address is IPv4
 * parseIp('010.0.0.1') // undefined: ambiguous text is refused
 * parseAddressEntry('192.168.1.5/24').text // '192.168.1.0/24'
 * ```
 *
 * @packageDocumentation
 */

export type { AbortOptions } from './abort.ts'
export { systemClock } from './clock.ts'
export type { Clock } from './clock.ts'
export { changedOptions, CONFIG_OPTIONS, CONFIG_RULES, DEFAULT_CONFIG, MAX_CONNECTION_HISTORY_SIZE, resolveConfig, updateConfig } from './connection-config.ts'
export type { ConnectionConfig, ConnectionConfigInit, ListDirection } from './connection-config.ts'
export { gateOptionsFrom, rateLimiterOptionsFrom } from './derived-options.ts'
export type { GateOptionsFromConfig, RateLimiterOptionsFromConfig } from './derived-options.ts'
export { CmError } from './errors.ts'
export { PRUNE_STRATEGIES } from './pruning-options.ts'
export type { PruneStrategyName } from './pruning-options.ts'
export {
  attemptLimitRule,
  DEFAULT_RATE_LIMIT_OPTIONS,
  MAX_ATTEMPTS_PER_WINDOW,
  MAX_RATE_LIMIT_KEYS,
  RATE_LIMIT_OPTIONS_SCHEMA,
  rateLimitOptionsRule
} from './rate-limit-options.ts'
export type { RateLimitOptions, RateLimitOptionsInit, RateLimitRate, RateLimitRateInit, RateLimitTier, RateLimitTierInit } from './rate-limit-options.ts'
export { InvalidConfigError } from './validation/problems.ts'
export type { ConfigProblem } from './validation/problems.ts'
