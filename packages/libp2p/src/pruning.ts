import { SafeEventEmitter } from '@cm/config/events'
import { collectProblems, functionRule, objectRule, ProblemCollector } from '@cm/config/validation'
import { Pruner, PrunerStoppedError } from '@cm/pruner'
import { ownOptions, refuse } from './enforcement.ts'
import { NodeMonitor } from './monitor.ts'
import type { ConnectionConfigInit } from '@cm/config'
import type { ListenerErrorHandler, TypedEventTarget } from '@cm/config/events'
import type { Gate } from '@cm/gate'
import type { ProtectionRegistry, PruneCandidate, PruneReason, PruneReport, PruneStrategy } from '@cm/pruner'
import type { ConnectionRecord, ConnectionTrackerEvents } from '@cm/state'

const GATE_RULE = objectRule<Gate>('a gate (an object with a check() method)', ['check'])
const HANDLER_RULE = functionRule<ListenerErrorHandler>()

/**
 * What the node pruner tells the pruner about one open connection: a `PruneCandidate`
 * whose `id` is the tracker's record ID.
 *
 * @example
 * ```ts
 * import type { NodePruneCandidate } from '@cm/libp2p'
 *
 * const candidate: NodePruneCandidate = { id: 7, peer: '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA', direction: 'inbound', openedAt: 1_000, streams: 0, value: 0 }
 * ```
 */
export interface NodePruneCandidate extends PruneCandidate {
  /** The tracker's record ID of the connection. */
  readonly id: number
}

/**
 * The detail of a {@link NodePruner}'s `connection:prune`: the same as `@cm/manager`'s.
 *
 * @example
 * ```ts
 * import type { ConnectionPruneDetail } from '@cm/libp2p'
 *
 * const describe = (detail: ConnectionPruneDetail): string => `${detail.connection.peer ?? 'unknown'}: ${detail.reason}`
 * ```
 */
export interface ConnectionPruneDetail {
  /** The connection being closed (its state is `closing` when the event is dispatched). */
  readonly connection: ConnectionRecord
  /** Why: over `maxConnections`, over the high watermark, or over `maxConnectionsPerPeer`. */
  readonly reason: PruneReason
}

/**
 * The events of a {@link NodePruner}.
 *
 * @example
 * ```ts
 * import type { NodePrunerEvents } from '@cm/libp2p'
 *
 * type PruneEvent = NodePrunerEvents['connection:prune'] // CustomEvent<ConnectionPruneDetail>
 * ```
 */
export interface NodePrunerEvents {
  /** The pruner chose a connection to close; it is closing. One event per connection. */
  'connection:prune': CustomEvent<ConnectionPruneDetail>
}

/**
 * The `@cm/config` options {@link createNodePruner} enforces, and only those:
 * `maxConnections`, `maxConnectionsPerPeer`, `pruneStrategy`, `pruneGracePeriod`,
 * `pruneLowWatermark` and `pruneHighWatermark`. Any other option is refused with an error
 * naming the part that enforces it.
 *
 * @example
 * ```ts
 * import type { PrunerConfig } from '@cm/libp2p'
 *
 * const config: PrunerConfig = { maxConnections: 100, maxConnectionsPerPeer: 2, pruneStrategy: 'oldest' }
 * ```
 */
export type PrunerConfig = Pick<ConnectionConfigInit,
  'maxConnections' | 'maxConnectionsPerPeer' | 'pruneStrategy' | 'pruneGracePeriod' | 'pruneLowWatermark' | 'pruneHighWatermark'>

/** The names of the options in {@link PrunerConfig}, every one (the `satisfies` checks it). */
export const PRUNER_OPTIONS = Object.keys({
  maxConnections: true,
  maxConnectionsPerPeer: true,
  pruneStrategy: true,
  pruneGracePeriod: true,
  pruneLowWatermark: true,
  pruneHighWatermark: true
} satisfies Record<keyof PrunerConfig, true>) as Array<keyof PrunerConfig>
const PRUNER_OPTION_SET: ReadonlySet<string> = new Set(PRUNER_OPTIONS)

/**
 * Options of {@link createNodePruner}.
 *
 * @example
 * ```ts
 * import { createNodeMonitor, createNodePruner } from '@cm/libp2p'
 * import type { NodePrunerInit } from '@cm/libp2p'
 *
 * const init: NodePrunerInit = {
 *   monitor: createNodeMonitor(),
 *   config: { maxConnections: 100, maxConnectionsPerPeer: 2, pruneGracePeriod: 30_000 }
 * }
 * const pruner = createNodePruner(init)
 * ```
 */
export interface NodePrunerInit {
  /** The monitor whose node and tracker are pruned (started now or later). */
  readonly monitor: NodeMonitor
  /**
   * The `@cm/config` options the pruner enforces ({@link PrunerConfig}), validated by
   * `resolveConfig` (every problem at once, the relations between them included).
   *
   * @default the defaults of `@cm/config`
   */
  readonly config?: PrunerConfig | undefined
  /** A custom strategy (see `@cm/pruner`); `config.pruneStrategy` is refused with it. */
  readonly strategy?: PruneStrategy<NodePruneCandidate> | undefined
  /**
   * Protections by peer to honour.
   *
   * @default a new, empty `ProtectionRegistry`
   */
  readonly protection?: ProtectionRegistry | undefined
  /**
   * The gate whose trusted rules exempt connections from pruning (the gater's, usually).
   * Without one, no connection counts as trusted.
   */
  readonly gate?: Gate | undefined
  /**
   * Receives every error of a pruning pass started on a `connection:open`, and every error
   * a `connection:prune` listener throws.
   *
   * @default prints the error with `console.error`
   */
  readonly onListenerError?: ListenerErrorHandler | undefined
}

const reportToConsole: ListenerErrorHandler = (error, event) => {
  console.error(`@cm/libp2p: pruning failed (${event.type})`, error)
}

/**
 * Prunes a js-libp2p node with `@cm/pruner`, through its public API: on every connection
 * the monitor sees open, it asks the pruner (O(1)) whether that peer holds more than
 * `maxConnectionsPerPeer` connections or the node more than `maxConnections` (or the high
 * watermark), and if so runs a pass that closes the victims with
 * {@link NodeMonitor.close} (reason `'pruned'`).
 *
 * Each candidate's `value` is the sum of its peer's tag values in the node's peer store
 * (read for the peers involved before each pass, as js-libp2p's pruner does), `streams` is
 * its open stream count, and it is `trusted` when the gate says so. Passes are single
 * flight: triggers that arrive while one runs are served by one more pass.
 *
 * js-libp2p's own connection manager keeps running beside it: it refuses inbound
 * connections beyond its own `maxConnections` and prunes above it. Give js-libp2p a
 * higher `maxConnections` than this pruner's, so that this pruner decides which
 * connections go ({@link cmLibp2p} raises it out of the way).
 *
 * @example
 * ```ts
 * import { createNodeMonitor, createNodePruner } from '@cm/libp2p'
 *
 * const monitor = createNodeMonitor()
 * const pruning = createNodePruner({ monitor, config: { maxConnections: 50, maxConnectionsPerPeer: 1 } })
 * pruning.protection.protect('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA', 'bootstrap')
 * pruning.events.addEventListener('connection:prune', event => {
 *   console.log(`pruning ${event.detail.connection.peer ?? 'a connection'} (${event.detail.reason})`)
 * })
 * // monitor.start(node): from then on, every connection:open may prune
 * ```
 */
export class NodePruner {
  /** Tells the pruner apart in logs and inspection: `'@cm/libp2p/pruner'`. */
  readonly [Symbol.toStringTag] = '@cm/libp2p/pruner'
  /** The `@cm/pruner` runner (its `updateConfig`, `needsPruning`, ...). */
  readonly pruner: Pruner<NodePruneCandidate>
  /** The protections by peer the pruner honours. */
  readonly protection: ProtectionRegistry
  /** `connection:prune` events, one per connection the pruner closes. */
  readonly events: TypedEventTarget<NodePrunerEvents>

  readonly #monitor: NodeMonitor
  readonly #gate: Gate | undefined
  readonly #onListenerError: ListenerErrorHandler
  /** The tag value of each peer involved, read as a pass lists its candidates. */
  #values = new Map<string, number>()
  /** Passes asked for on `connection:open` and not yet settled. */
  readonly #running = new Set<Promise<void>>()
  #stopped = false

  /**
   * @param init - the monitor, the pruning options
   * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
   */
  constructor (init: NodePrunerInit) {
    const problems = new ProblemCollector()
    if (!(init?.monitor instanceof NodeMonitor)) {
      problems.add('monitor', 'a NodeMonitor', init?.monitor)
    }
    if (init?.gate !== undefined) GATE_RULE.check(init.gate, 'gate', problems)
    if (init?.onListenerError !== undefined) HANDLER_RULE.check(init.onListenerError, 'onListenerError', problems)
    const config = init?.config === undefined ? undefined : ownOptions('createNodePruner', PRUNER_OPTION_SET, init.config, problems)
    if (config?.['pruneStrategy'] !== undefined && init.strategy !== undefined) {
      refuse('pruneStrategy', 'is not used when `strategy` is given: give one or the other', config['pruneStrategy'], problems)
      delete config['pruneStrategy']
    }
    const pruner = collectProblems(problems, () => new Pruner<NodePruneCandidate>({
      config,
      strategy: init.strategy,
      protection: init.protection,
      clock: init.monitor?.clock,
      connections: async peer => {
        await this.#loadValues(peer)
        return this.#candidates(peer)
      },
      close: async (victim, { reason, signal }) => await this.#close(victim, reason, signal)
    }))
    problems.throwIfAny()
    this.#monitor = init.monitor
    this.#gate = init.gate
    this.#onListenerError = init.onListenerError ?? reportToConsole
    // throwIfAny() above threw if the pruner could not be made.
    this.pruner = pruner as Pruner<NodePruneCandidate>
    this.protection = this.pruner.protection
    this.events = new SafeEventEmitter<NodePrunerEvents>({ onListenerError: this.#onListenerError })
    this.#monitor.tracker.events.addEventListener('connection:open', this.#onOpen)
  }

  /**
   * Prunes now, if the node (or `peer`) is over its limit, and resolves with the report
   * of the pass that served the call.
   *
   * @param options - `peer`: prune that peer down to `maxConnectionsPerPeer`
   * @throws `PrunerStoppedError` (from `@cm/pruner`) after {@link NodePruner.stop}
   *
   * @example
   * ```ts
   * import { createNodeMonitor, createNodePruner } from '@cm/libp2p'
   *
   * const pruning = createNodePruner({ monitor: createNodeMonitor(), config: { maxConnections: 10 } })
   * const report = await pruning.prune()
   * report.closed.length // 0: nothing to prune
   * ```
   */
  async prune (options: { readonly peer?: string | undefined } = {}): Promise<PruneReport<NodePruneCandidate>> {
    return await this.pruner.prune(options.peer === undefined ? {} : { peer: options.peer })
  }

  /**
   * Stops pruning: no more passes start on `connection:open`, and a running pass is
   * waited for. Idempotent.
   *
   * @example
   * ```ts
   * import { createNodeMonitor, createNodePruner } from '@cm/libp2p'
   *
   * const pruning = createNodePruner({ monitor: createNodeMonitor() })
   * await pruning.stop()
   * ```
   */
  async stop (): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true
      this.#monitor.tracker.events.removeEventListener('connection:open', this.#onOpen)
    }
    await this.pruner.stop()
  }

  readonly #onOpen = (event: ConnectionTrackerEvents['connection:open']): void => {
    const tracker = this.#monitor.tracker
    const peer = event.detail.connection.peer
    // Calls made in one tick share one pass of the pruner (single flight).
    if (peer !== undefined && this.pruner.peerNeedsPruning(tracker.count({ peer, state: 'open' }))) {
      this.#run(peer)
    }
    if (this.pruner.needsPruning(tracker.count({ state: 'open' }))) {
      this.#run(undefined)
    }
  }

  #run (peer: string | undefined): void {
    const pass = this.pruner.prune(peer === undefined ? {} : { peer }).then(() => {}, (error: unknown) => {
      // A pass asked for as the pruner stops is not a failure.
      if (!(error instanceof PrunerStoppedError)) {
        this.#onListenerError(error, new Event('connection:open'))
      }
    }).finally(() => { this.#running.delete(pass) })
    this.#running.add(pass)
  }

  /**
   * Resolves once the passes asked for on `connection:open` so far have ended.
   *
   * @internal
   */
  async _idle (): Promise<void> {
    await Promise.all(this.#running)
  }

  async #close (victim: NodePruneCandidate, reason: PruneReason, signal: AbortSignal): Promise<boolean> {
    const tracker = this.#monitor.tracker
    const wasOpen = tracker.get(victim.id)?.state === 'open'
    const closing = this.#monitor.close(victim.id, 'pruned', { signal })
    // monitor.close() marks the record closing at once: announce it as the manager does.
    const record = tracker.get(victim.id)
    if (wasOpen && record !== undefined && this.events.listenerCount('connection:prune') > 0) {
      this.events.safeDispatchEvent('connection:prune', { detail: { connection: record, reason } })
    }
    return await closing || tracker.get(victim.id) === undefined
  }

  /** Reads the tag values of the peers of the open connections (or of one peer). */
  async #loadValues (peer: string | undefined): Promise<void> {
    const node = this.#monitor.node
    if (node === undefined) {
      return
    }
    const values = new Map<string, number>()
    const peerIds = new Map<string, Parameters<typeof node.peerStore.get>[0]>()
    for (const record of this.#monitor.tracker.list({ state: 'open' })) {
      const recordPeer = record.peer
      if (recordPeer !== undefined && (peer === undefined || recordPeer === peer) && !peerIds.has(recordPeer)) {
        const connection = this.#monitor.connection(record.id)
        if (connection !== undefined) {
          peerIds.set(recordPeer, connection.remotePeer)
        }
      }
    }
    await Promise.all([...peerIds].map(async ([key, peerId]) => {
      let value = 0
      try {
        for (const tag of (await node.peerStore.get(peerId)).tags.values()) {
          value += tag.value
        }
      } catch {
        // A peer missing from the peer store has no tags.
      }
      values.set(key, value)
    }))
    this.#values = values
  }

  #candidates (peer?: string): NodePruneCandidate[] {
    const tracker = this.#monitor.tracker
    const gate = this.#gate
    const records = tracker.list(peer === undefined ? { state: 'open' } : { state: 'open', peer })
    return records.map(record => {
      const connection = this.#monitor.connection(record.id)
      const remotePeer = record.peer
      const trusted = gate === undefined
        ? false
        : record.remoteIp === undefined
          ? remotePeer !== undefined && gate.checkPeer(remotePeer).trusted
          : gate.check(record.remoteIp, remotePeer === undefined ? undefined : { peer: remotePeer }).trusted
      return {
        id: record.id,
        peer: remotePeer,
        direction: record.direction,
        openedAt: record.timeline.open ?? record.timeline.pending,
        streams: connection?.streams.length ?? record.streams,
        value: remotePeer === undefined ? 0 : this.#values.get(remotePeer) ?? 0,
        trusted
      }
    })
  }
}

/**
 * Creates a {@link NodePruner}: per-peer and node-wide pruning of a js-libp2p node with
 * `@cm/pruner`, following the connections of a {@link NodeMonitor}.
 *
 * @param init - the monitor and the pruning options
 * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
 *
 * @example
 * ```ts
 * import { createNodeMonitor, createNodePruner } from '@cm/libp2p'
 *
 * const monitor = createNodeMonitor()
 * const pruning = createNodePruner({ monitor, config: { maxConnections: 100, maxConnectionsPerPeer: 2 } })
 * pruning.pruner.needsPruning(101) // true
 * ```
 */
export function createNodePruner (init: NodePrunerInit): NodePruner {
  return new NodePruner(init)
}
