import { CONFIG_OPTIONS, gateOptionsFrom, resolveConfig } from '@cm/config'
import { collectProblems, describeValue, functionRule, ProblemCollector } from '@cm/config/validation'
import { createGate } from '@cm/gate'
import { cmGater, GATE_OPTIONS, GATER_OPTIONS } from './gater.ts'
import { ownOptions, refuse, UNENFORCEABLE_OPTIONS } from './enforcement.ts'
import { createNodeMonitor } from './monitor.ts'
import { createNodePruner, PRUNER_OPTIONS } from './pruning.ts'
import type { CmGater } from './gater.ts'
import type { MonitoredNode, NodeMonitor } from './monitor.ts'
import type { NodePruneCandidate, NodePruner } from './pruning.ts'
import type { ConnectionConfig, ConnectionConfigInit } from '@cm/config'
import type { ListenerErrorHandler } from '@cm/config/events'
import type { PruneStrategy } from '@cm/pruner'
import type { Connection, Libp2pStatus, PeerStore, Startable } from '@libp2p/interface'
import type { ConnectionManagerInit } from 'libp2p'

/**
 * The `ConnectionConfig` options {@link cmLibp2p} takes: every option except the five
 * reconnect options, which no part of a js-libp2p node can enforce as `@cm` defines them
 * (js-libp2p redials peers tagged keep-alive with its own reconnect queue; set its own
 * `connectionManager.reconnectRetries`, `reconnectRetryInterval` and
 * `reconnectBackoffFactor` through {@link CmLibp2pInit.connectionManager}).
 *
 * @example
 * ```ts
 * import type { Libp2pConfig } from '@cm/libp2p'
 *
 * const config: Libp2pConfig = { maxConnections: 100, maxConnectionsPerPeer: 2, denyList: ['10.0.0.0/8'], dialTimeout: 5_000 }
 * ```
 */
export type Libp2pConfig = Omit<ConnectionConfigInit, 'reconnectRetries' | 'reconnectRetryInterval' | 'reconnectBackoffFactor' | 'reconnectMaxDelay' | 'reconnectJitter'>

/**
 * js-libp2p's own `connectionManager` options that `@cm` leaves to js-libp2p (the address
 * dial timeout, the resolvers, the reconnect queue, ...). The options {@link cmLibp2p}
 * sets itself are refused here: `maxConnections`, `maxIncomingPendingConnections`,
 * `inboundConnectionThreshold`, `allow` and `deny` (the gater and the pruner enforce
 * `@cm`'s), and `maxParallelDials`, `maxDialQueueLength`, `dialTimeout`,
 * `connectionCloseTimeout` and `inboundUpgradeTimeout` (given from the `ConnectionConfig`).
 *
 * @example
 * ```ts
 * import type { Libp2pConnectionManagerInit } from '@cm/libp2p'
 *
 * const init: Libp2pConnectionManagerInit = { addressDialTimeout: 3_000, reconnectRetries: 2 }
 * ```
 */
export type Libp2pConnectionManagerInit = Omit<ConnectionManagerInit,
  | 'maxConnections' | 'maxIncomingPendingConnections' | 'inboundConnectionThreshold' | 'allow' | 'deny'
  | 'maxParallelDials' | 'maxDialQueueLength' | 'dialTimeout' | 'connectionCloseTimeout' | 'inboundUpgradeTimeout'>

/** The js-libp2p `connectionManager` options cmLibp2p sets, each with what to give instead. */
const INSTEAD: Readonly<Record<Exclude<keyof ConnectionManagerInit, keyof Libp2pConnectionManagerInit>, string>> = {
  maxConnections: 'give `maxConnections` in the config (the gater and the pruner enforce it)',
  maxIncomingPendingConnections: 'give `maxIncomingPendingConnections` in the config (the gater enforces it)',
  inboundConnectionThreshold: 'give `inboundConnectionThreshold` in the config (the gater enforces it)',
  allow: 'js-libp2p\'s `allow` bypasses the limits: give `trustedList` in the config (the gater enforces it)',
  deny: 'give `denyList` in the config (the gater enforces it)',
  maxParallelDials: 'give `maxParallelDials` in the config',
  maxDialQueueLength: 'give `maxDialQueueLength` in the config',
  dialTimeout: 'give `dialTimeout` in the config',
  connectionCloseTimeout: 'give `connectionCloseTimeout` in the config',
  inboundUpgradeTimeout: 'give `inboundUpgradeTimeout` in the config'
}

/**
 * The libp2p-specific options of {@link cmLibp2p}.
 *
 * @example
 * ```ts
 * import { cmLibp2p } from '@cm/libp2p'
 * import type { CmLibp2pInit } from '@cm/libp2p'
 *
 * const init: CmLibp2pInit = {
 *   connectionManager: { addressDialTimeout: 3_000 },
 *   onListenerError: error => { console.error('@cm/libp2p', error) }
 * }
 * const options = cmLibp2p({ maxConnections: 100 }, init)
 * ```
 */
export interface CmLibp2pInit {
  /**
   * js-libp2p `connectionManager` options `@cm` leaves to js-libp2p, passed on as given.
   *
   * @default none
   */
  readonly connectionManager?: Libp2pConnectionManagerInit | undefined
  /** A custom pruning strategy (see `@cm/pruner`); the config's `pruneStrategy` is refused with it. */
  readonly strategy?: PruneStrategy<NodePruneCandidate> | undefined
  /**
   * Receives every error a listener of the gater's or the pruner's events throws, and the
   * errors of pruning passes.
   *
   * @default prints the error with `console.error`
   */
  readonly onListenerError?: ListenerErrorHandler | undefined
}

/**
 * What a {@link CmService} needs of the node's components: js-libp2p gives a service all
 * of them.
 *
 * @example
 * ```ts
 * import type { CmServiceComponents } from '@cm/libp2p'
 *
 * function connections (components: CmServiceComponents): number {
 *   return components.connectionManager.getConnections().length
 * }
 * ```
 */
export interface CmServiceComponents {
  /** The node's event bus (the service follows `connection:open` on it). */
  readonly events: Pick<MonitoredNode, 'addEventListener' | 'removeEventListener'>
  /** The node's connection manager (the service reads the open connections from it). */
  readonly connectionManager: {
    /** The node's open connections. */
    getConnections(): Connection[]
  }
  /** The node's peer store (the pruner reads peers' tags from it). */
  readonly peerStore: PeerStore
}

/**
 * The options {@link cmLibp2p} returns, to spread into `createLibp2p`'s.
 *
 * @example
 * ```ts
 * import { cmLibp2p } from '@cm/libp2p'
 * import type { CmLibp2pOptions } from '@cm/libp2p'
 *
 * const options: CmLibp2pOptions = cmLibp2p({ maxConnections: 100 })
 * options.connectionManager.maxParallelDials // 100: @cm's default, enforced by js-libp2p
 * options.connectionGater.gate.deny('198.51.100.7') // the gater, before the node exists
 * ```
 */
export interface CmLibp2pOptions {
  /** The gater: the lists, the rate limit, and the inbound connection limits. */
  readonly connectionGater: CmGater
  /**
   * js-libp2p's connection manager settings: the dial and upgrade options from the
   * config, js-libp2p's own admission limits raised out of the way (the gater enforces
   * `@cm`'s), and the options given in {@link CmLibp2pInit.connectionManager}.
   */
  readonly connectionManager: ConnectionManagerInit
  /** The `cm` service: it follows the node with the monitor and prunes it. */
  readonly services: {
    /** Makes the node's {@link CmService} (once: one `cmLibp2p()` result per node). */
    readonly cm: (components: CmServiceComponents) => CmService
  }
}

/**
 * The js-libp2p service {@link cmLibp2p} adds to a node as `node.services.cm`: it starts
 * following the node with the monitor when the node starts, and stops when it stops (the
 * connections closed by the node's stop are recorded first, with reason `'shutdown'`).
 *
 * @example
 * ```ts
 * import type { CmService } from '@cm/libp2p'
 * import type { Libp2p } from '@libp2p/interface'
 *
 * function report (node: Libp2p<{ cm: CmService }>): void {
 *   const { gater, monitor, pruning } = node.services.cm
 *   console.log(monitor.tracker.count({ state: 'open' }), gater.stats().denied, pruning.protection)
 * }
 * ```
 */
export class CmService implements Startable {
  /** Tells the service apart in logs and inspection: `'@cm/libp2p/service'`. */
  readonly [Symbol.toStringTag] = '@cm/libp2p/service'
  /** The node's connection gater. */
  readonly gater: CmGater
  /** The monitor following the node. */
  readonly monitor: NodeMonitor
  /** The pruner of the node. */
  readonly pruning: NodePruner

  readonly #node: MonitoredNode
  #status: Libp2pStatus = 'stopped'

  /**
   * Made by the service factory {@link cmLibp2p} returns.
   *
   * @param parts - the gater, the monitor and the pruner
   * @param components - the node's components
   */
  constructor (parts: { readonly gater: CmGater, readonly monitor: NodeMonitor, readonly pruning: NodePruner }, components: CmServiceComponents) {
    this.gater = parts.gater
    this.monitor = parts.monitor
    this.pruning = parts.pruning
    const status = (): Libp2pStatus => this.#status
    this.#node = {
      get status () { return status() },
      get peerStore () { return components.peerStore },
      getConnections: () => components.connectionManager.getConnections(),
      addEventListener: (type, listener) => { components.events.addEventListener(type, listener) },
      removeEventListener: (type, listener) => { components.events.removeEventListener(type, listener) }
    }
  }

  /** Called by the node as it starts: the monitor follows it from now on. */
  start (): void {
    this.#status = 'started'
    this.monitor.start(this.#node)
  }

  /** Called by the node before it stops: the closes that follow are recorded as `'shutdown'`. */
  beforeStop (): void {
    this.#status = 'stopping'
  }

  /** Called by the node as it stops: waits for a pruning pass still running. */
  async stop (): Promise<void> {
    await this.pruning._idle()
  }

  /** Called by the node once stopped, its connections closed: the monitor stops following it. */
  afterStop (): void {
    this.monitor.stop()
    this.#status = 'stopped'
  }
}

/**
 * Sets up `@cm` connection management for one js-libp2p node, from one
 * `ConnectionConfig`: returns the `connectionGater`, the `connectionManager` settings and
 * the `cm` service to spread into `createLibp2p`'s options, so that every option is
 * enforced once, by one part:
 *
 * - the gater ({@link cmGater}): the lists and their directions, `inboundConnectionThreshold`,
 *   `rateLimit`, `maxIncomingPendingConnections`, and `maxConnections` for inbound
 *   connections (counted with the monitor; trusted addresses exempt);
 * - the pruner ({@link createNodePruner}, in the `cm` service): `maxConnections` (the surplus
 *   dials make), `maxConnectionsPerPeer`, `pruneStrategy`, `pruneGracePeriod`, the
 *   watermarks; trusted connections exempt;
 * - the monitor ({@link createNodeMonitor}, in the `cm` service): `connectionHistorySize`,
 *   and `connectionCloseTimeout` for the pruner's closes;
 * - js-libp2p, with the value passed in `connectionManager`: `maxParallelDials`,
 *   `maxDialQueueLength` (passed as `maxDialQueueLength + maxParallelDials`, since
 *   js-libp2p counts running dials too), `dialTimeout`, `connectionCloseTimeout` and
 *   `inboundUpgradeTimeout`. js-libp2p's own `maxConnections`,
 *   `maxIncomingPendingConnections` and `inboundConnectionThreshold` are raised to
 *   `Number.MAX_SAFE_INTEGER`, so that it neither refuses nor prunes by them.
 *
 * The reconnect options are refused (see {@link Libp2pConfig}). Call it once per node.
 *
 * @param config - the `ConnectionConfig` options
 * @param init - js-libp2p options `@cm` leaves to js-libp2p, a custom strategy, an error handler
 * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
 *
 * @example
 * ```ts
 * import { cmLibp2p } from '@cm/libp2p'
 * import { noise } from '@libp2p/noise'
 * import { tcp } from '@libp2p/tcp'
 * import { yamux } from '@libp2p/yamux'
 * import { createLibp2p } from 'libp2p'
 *
 * const node = await createLibp2p({
 *   addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   ...cmLibp2p({ maxConnections: 100, maxConnectionsPerPeer: 2, denyList: ['203.0.113.0/24'] })
 * })
 * node.services.cm.monitor.tracker.count({ state: 'open' }) // O(1)
 * await node.stop()
 * ```
 */
export function cmLibp2p (config: Libp2pConfig = {}, init: CmLibp2pInit = {}): CmLibp2pOptions {
  const problems = new ProblemCollector()
  const given = ownOptions('cmLibp2p', ENFORCEABLE, config, problems)
  const passed = initOptions(init, problems)
  if (given?.['pruneStrategy'] !== undefined && passed.strategy !== undefined) {
    refuse('pruneStrategy', 'is not used when `strategy` is given: give one or the other', given['pruneStrategy'], problems)
    delete given['pruneStrategy']
  }
  const resolved = collectProblems(problems, () => resolveConfig(given))
  problems.throwIfAny()
  // throwIfAny() above threw if the config did not resolve.
  const settings = resolved as ConnectionConfig

  const monitor = createNodeMonitor({ connectionHistorySize: settings.connectionHistorySize, connectionCloseTimeout: settings.connectionCloseTimeout })
  // The gate is made here from the lists resolveConfig checked, so that they are parsed
  // twice (checked, then indexed), not three times.
  const gate = createGate(gateOptionsFrom(settings))
  const gaterConfig = pick(settings, GATER_OPTIONS.filter(name => !(GATE_OPTIONS as readonly string[]).includes(name)))
  const gater = cmGater({ gate, config: gaterConfig, monitor, onListenerError: passed.onListenerError })
  const prunerConfig = pick(settings, PRUNER_OPTIONS.filter(name => passed.strategy === undefined || name !== 'pruneStrategy'))
  const pruning = createNodePruner({ monitor, gate, config: prunerConfig, strategy: passed.strategy, onListenerError: passed.onListenerError })
  let made = false

  return {
    connectionGater: gater,
    connectionManager: {
      ...passed.connectionManager,
      maxConnections: Number.MAX_SAFE_INTEGER,
      maxIncomingPendingConnections: Number.MAX_SAFE_INTEGER,
      inboundConnectionThreshold: Number.MAX_SAFE_INTEGER,
      maxParallelDials: settings.maxParallelDials,
      maxDialQueueLength: settings.maxDialQueueLength + settings.maxParallelDials,
      dialTimeout: settings.dialTimeout,
      connectionCloseTimeout: settings.connectionCloseTimeout,
      inboundUpgradeTimeout: settings.inboundUpgradeTimeout
    },
    services: {
      cm: components => {
        if (made) {
          const problem = new ProblemCollector()
          refuse('services.cm', 'is refused: this cmLibp2p() result already set up a node (call cmLibp2p() once per node)', components, problem)
          problem.throwIfAny()
        }
        made = true
        return new CmService({ gater, monitor, pruning }, components)
      }
    }
  }
}

const ENFORCEABLE: ReadonlySet<string> = new Set(CONFIG_OPTIONS.filter(name => !(UNENFORCEABLE_OPTIONS as readonly string[]).includes(name)))

/** Checks the libp2p-specific options; what is malformed is recorded and left out. */
function initOptions (init: CmLibp2pInit, problems: ProblemCollector): CmLibp2pInit {
  if (typeof init !== 'object' || init === null) {
    problems.add('init', 'an object', init)
    return {}
  }
  const { connectionManager, strategy, onListenerError, ...unknown } = init
  for (const name of Object.keys(unknown)) {
    problems.addProblem({ path: name, expected: 'a known option', received: describeValue((unknown as Record<string, unknown>)[name]), message: `Unknown option \`${name}\`; known options are \`connectionManager\`, \`strategy\`, \`onListenerError\`` })
  }
  if (onListenerError !== undefined) functionRule().check(onListenerError, 'onListenerError', problems)
  if (connectionManager === undefined) {
    return { strategy, onListenerError }
  }
  if (typeof connectionManager !== 'object' || connectionManager === null) {
    problems.add('connectionManager', 'an object of js-libp2p connectionManager options', connectionManager)
    return { strategy, onListenerError }
  }
  const passOn: Record<string, unknown> = { ...connectionManager }
  for (const name of Object.keys(INSTEAD) as Array<keyof typeof INSTEAD>) {
    if (passOn[name] !== undefined) {
      refuse(`connectionManager.${name}`, `is set by cmLibp2p: ${INSTEAD[name]}`, passOn[name], problems)
    }
    delete passOn[name]
  }
  return { connectionManager: passOn, strategy, onListenerError }
}

/** The named options of a resolved config. */
function pick<K extends keyof ConnectionConfig> (config: ConnectionConfig, names: readonly K[]): Pick<ConnectionConfig, K> {
  return Object.fromEntries(names.map(name => [name, config[name]])) as Pick<ConnectionConfig, K>
}
