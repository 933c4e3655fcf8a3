import type { ConnectionConfig } from './connection-config.ts'
import type { RateLimitOptions } from './rate-limit-options.ts'

/**
 * The options of a `ConnectionConfig` that a gate enforces: the three lists and the
 * directions they apply to. `createGate` in `@cm/gate` takes them as they are.
 *
 * @example
 * ```ts
 * import { gateOptionsFrom, resolveConfig } from '@cm/config'
 * import type { GateOptionsFromConfig } from '@cm/config'
 *
 * const options: GateOptionsFromConfig = gateOptionsFrom(resolveConfig({ denyList: ['10.0.0.0/8'] }))
 * options.denyListDirection // 'both'
 * ```
 */
export interface GateOptionsFromConfig {
  /** `ConnectionConfig.denyList`. */
  readonly denyList: readonly string[]
  /** `ConnectionConfig.allowList`. */
  readonly allowList: readonly string[]
  /** `ConnectionConfig.trustedList`. */
  readonly trustedList: readonly string[]
  /** `ConnectionConfig.denyListDirection`. */
  readonly denyListDirection: ConnectionConfig['denyListDirection']
  /** `ConnectionConfig.allowListDirection`. */
  readonly allowListDirection: ConnectionConfig['allowListDirection']
}

/**
 * The options of a `ConnectionConfig` that a rate limiter enforces:
 * `inboundConnectionThreshold` as the per-host `threshold`, and the `rateLimit` section.
 * `createRateLimiter` in `@cm/rate-limit` takes them as they are.
 *
 * @example
 * ```ts
 * import { rateLimiterOptionsFrom, resolveConfig } from '@cm/config'
 * import type { RateLimiterOptionsFromConfig } from '@cm/config'
 *
 * const options: RateLimiterOptionsFromConfig = rateLimiterOptionsFrom(resolveConfig({ inboundConnectionThreshold: 10 }))
 * options.threshold // 10
 * ```
 */
export interface RateLimiterOptionsFromConfig extends RateLimitOptions {
  /** `ConnectionConfig.inboundConnectionThreshold`: attempts per second per host. */
  readonly threshold: number
}

/**
 * The gate's options in a resolved config (see {@link GateOptionsFromConfig}): what the manager and
 * the libp2p gater build their gates from, so that both read a config the same way.
 *
 * @param config - a resolved config (or the part of one with the lists)
 */
export function gateOptionsFrom (config: Pick<ConnectionConfig, keyof GateOptionsFromConfig>): GateOptionsFromConfig {
  return {
    denyList: config.denyList,
    allowList: config.allowList,
    trustedList: config.trustedList,
    denyListDirection: config.denyListDirection,
    allowListDirection: config.allowListDirection
  }
}

/**
 * The rate limiter's options in a resolved config (see {@link RateLimiterOptionsFromConfig}): what
 * the manager and the libp2p gater build their limiters from.
 *
 * @param config - a resolved config (or the part of one with the limiter's options)
 */
export function rateLimiterOptionsFrom (config: Pick<ConnectionConfig, 'inboundConnectionThreshold' | 'rateLimit'>): RateLimiterOptionsFromConfig {
  return { threshold: config.inboundConnectionThreshold, ...config.rateLimit }
}
