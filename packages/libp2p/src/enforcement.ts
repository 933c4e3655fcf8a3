import { CONFIG_RULES, DEFAULT_CONFIG } from '@cm/config'
import { describeValue, resolveOptions } from '@cm/config/validation'
import type { ConnectionConfig } from '@cm/config'
import type { OptionsSchema, ProblemCollector } from '@cm/config/validation'

/**
 * Who enforces each `ConnectionConfig` option in a js-libp2p node (an adapter, or js-libp2p
 * with the value `cmLibp2p` passes on, or nothing), as the error that refuses the option
 * elsewhere says it.
 */
const ENFORCERS: { readonly [K in keyof ConnectionConfig]: string } = {
  maxConnections: 'cmGater (inbound, with a monitor) and createNodePruner (the surplus) enforce it',
  maxConnectionsPerPeer: 'createNodePruner enforces it',
  maxParallelDials: 'in a js-libp2p node, js-libp2p\'s dial queue enforces it, with the value cmLibp2p passes on',
  maxDialQueueLength: 'in a js-libp2p node, js-libp2p\'s dial queue enforces it, with the value cmLibp2p passes on',
  maxIncomingPendingConnections: 'cmGater enforces it (with a monitor)',
  inboundConnectionThreshold: 'cmGater enforces it',
  rateLimit: 'cmGater enforces it',
  allowList: 'cmGater enforces it',
  denyList: 'cmGater enforces it',
  trustedList: 'cmGater enforces it (give the pruner the gater\'s gate (`gate: gater.gate`) to exempt trusted connections from pruning)',
  allowListDirection: 'cmGater enforces it',
  denyListDirection: 'cmGater enforces it',
  dialTimeout: 'in a js-libp2p node, js-libp2p\'s dial queue enforces it, with the value cmLibp2p passes on',
  connectionCloseTimeout: 'createNodeMonitor enforces it for the closes it makes (its own `connectionCloseTimeout` option) and js-libp2p for the others, and cmLibp2p sets both',
  reconnectRetries: 'no part of a js-libp2p node can enforce it as @cm defines it (js-libp2p redials peers tagged keep-alive with its own reconnect queue, its first attempt at once), so set js-libp2p\'s own `connectionManager.reconnectRetries` instead',
  reconnectRetryInterval: 'no part of a js-libp2p node can enforce it as @cm defines it (js-libp2p redials peers tagged keep-alive with its own reconnect queue, its first attempt at once), so set js-libp2p\'s own `connectionManager.reconnectRetryInterval` instead',
  reconnectBackoffFactor: 'no part of a js-libp2p node can enforce it as @cm defines it (js-libp2p redials peers tagged keep-alive with its own reconnect queue), so set js-libp2p\'s own `connectionManager.reconnectBackoffFactor` instead',
  reconnectMaxDelay: 'no part of a js-libp2p node can enforce it (js-libp2p\'s reconnect queue has no cap on its delays)',
  reconnectJitter: 'no part of a js-libp2p node can enforce it (js-libp2p\'s reconnect queue has no jitter)',
  inboundUpgradeTimeout: 'in a js-libp2p node, js-libp2p\'s upgrader enforces it, with the value cmLibp2p passes on',
  pruneStrategy: 'createNodePruner enforces it',
  pruneGracePeriod: 'createNodePruner enforces it',
  pruneLowWatermark: 'createNodePruner enforces it',
  pruneHighWatermark: 'createNodePruner enforces it',
  connectionHistorySize: 'createNodeMonitor enforces it (its own `connectionHistorySize` option)'
}

/** The options no part of a js-libp2p node can enforce: `cmLibp2p` refuses them. */
export const UNENFORCEABLE_OPTIONS = ['reconnectRetries', 'reconnectRetryInterval', 'reconnectBackoffFactor', 'reconnectMaxDelay', 'reconnectJitter'] as const

/**
 * Keeps the options of an adapter's `config` that it enforces. Every `ConnectionConfig`
 * option it does not enforce is recorded as a problem that names the part that does.
 * Unknown names are kept, so that `@cm/config`'s validation reports them with a suggestion
 * (and its list rule refuses a hole in a list with its index).
 *
 * @param adapter - the adapter's name, for the messages (`cmGater`)
 * @param own - the options the adapter enforces
 * @param config - the `config` given
 * @param problems - receives the problems
 * @returns the options to validate, or `undefined` when `config` is not an object
 */
export function ownOptions (adapter: string, own: ReadonlySet<string>, config: unknown, problems: ProblemCollector): Record<string, unknown> | undefined {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    problems.add('config', 'an object of @cm/config options', config)
    return undefined
  }
  const kept: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(config)) {
    if (value === undefined) {
      continue
    }
    if (!own.has(name) && Object.hasOwn(ENFORCERS, name)) {
      refuse(name, `is not enforced by ${adapter}; ${ENFORCERS[name as keyof ConnectionConfig]}`, value, problems)
    } else {
      kept[name] = value
    }
  }
  return kept
}

/**
 * Records that an option is refused, and why (for an option another part enforces, the
 * sentence names that part).
 *
 * @param name - the option's path
 * @param why - the rest of the sentence, after the option's name (`is not enforced by …`)
 * @param value - the value given
 * @param problems - receives the problem
 */
export function refuse (name: string, why: string, value: unknown, problems: ProblemCollector): void {
  problems.addProblem({ path: name, expected: 'not given here', received: describeValue(value), message: `\`${name}\` ${why}` })
}

/**
 * Validates the options an adapter enforces with the rules `@cm/config`'s `resolveConfig`
 * uses (the same messages), without the relations between options the adapter does not
 * use. Options not given take their `@cm/config` defaults.
 *
 * @param names - the options the adapter enforces
 * @param given - the options given (from {@link ownOptions})
 * @param problems - receives the problems
 */
export function resolveOwnOptions<K extends keyof ConnectionConfig> (names: readonly K[], given: Record<string, unknown>, problems: ProblemCollector): Pick<ConnectionConfig, K> {
  const schema = Object.fromEntries(names.map(name => [name, { default: DEFAULT_CONFIG[name], rule: CONFIG_RULES[name] }])) as unknown as OptionsSchema<Pick<ConnectionConfig, K>>
  return resolveOptions(schema, given, problems)
}
