/**
 * The foundation every `@cm` package stands on: the {@link ConnectionConfig} with every
 * option, its default and its validation; strict parsing of IP addresses, CIDR ranges,
 * multiaddrs and peer IDs; and the shared basics (a base error class, an injectable clock,
 * `AbortOptions`).
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
 * import { parseAddressEntry, parseIp } from '@cm/config'
 *
 * parseIp('::ffff:10.0.0.1')?.text // '10.0.0.1': an IPv4-mapped address is IPv4
 * parseIp('010.0.0.1') // undefined: ambiguous text is refused
 * parseAddressEntry('192.168.1.5/24').text // '192.168.1.0/24'
 * ```
 *
 * @packageDocumentation
 */

export type { AbortOptions } from './abort.ts'
export { ipFromMultiaddr, InvalidAddressError, parseAddressEntry, readMultiaddr, tryParseAddressEntry } from './address-entry.ts'
export type { AddressEntry, AddressEntryParsed, AddressEntryRefused, AddressEntryResult, IpNetwork, MultiaddrTarget } from './address-entry.ts'
export { systemClock } from './clock.ts'
export type { Clock } from './clock.ts'
export { changedOptions, CONFIG_OPTIONS, CONFIG_RULES, DEFAULT_CONFIG, MAX_CONNECTION_HISTORY_SIZE, resolveConfig, updateConfig } from './connection-config.ts'
export type { ConnectionConfig, ConnectionConfigInit, ListDirection } from './connection-config.ts'
export { gateOptionsFrom, rateLimiterOptionsFrom } from './derived-options.ts'
export type { GateOptionsFromConfig, RateLimiterOptionsFromConfig } from './derived-options.ts'
export { CmError } from './errors.ts'
export { SafeEventEmitter } from './events.ts'
export type { EventHandler, ListenerErrorHandler, ListenerOptions, SafeEventEmitterInit, TypedEventTarget } from './events.ts'
export { describeValue, MAX_IP_TEXT_LENGTH, MAX_MULTIADDR_LENGTH, MAX_PEER_ID_LENGTH, quoteInput } from './input-limits.ts'
export { formatIp, MAX_PREFIX_LENGTH, maskIp, parseIp, parseIpInto } from './ip.ts'
export type { IpAddress, IpFamily } from './ip.ts'
export { parsePeerId } from './peer-id.ts'
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
export {
  addressEntryRule,
  addressListRule,
  booleanRule,
  clockRule,
  durationRule,
  finiteNumberRule,
  forEachAddressEntry,
  integerRule,
  InvalidConfigError,
  MAX_LIST_LENGTH,
  MAX_PROBLEMS,
  MAX_TIMER_DELAY_MS,
  oneOfRule,
  parseAddressList,
  ProblemCollector,
  problemsMessage,
  resolveOptions
} from './validation.ts'
export type { ConfigProblem, NumberBounds, OptionRule, OptionsSchema } from './validation.ts'
