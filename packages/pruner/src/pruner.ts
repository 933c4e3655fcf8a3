import { DEFAULT_CONFIG, resolveConfig, systemClock, updateConfig } from '@cm/config'
import { clockRule, collectProblems, ProblemCollector } from '@cm/config/validation'
import type { AbortOptions, Clock, ConnectionConfig, ConnectionConfigInit } from '@cm/config'
import { PrunerStoppedError } from './errors.ts'
import { ProtectionRegistry } from './protection.ts'
import { selectVictims } from './select-victims.ts'
import { resolveStrategy } from './strategy.ts'
import type { CandidateId, PruneCandidate } from './candidate.ts'
import type { PruneStrategy } from './strategy.ts'

/**
 * Why a connection was pruned, named after the limit that was passed:
 * - `'max-connections'`: more than `maxConnections` were open;
 * - `'high-watermark'`: more than `pruneHighWatermark` (but not more than
 *   `maxConnections`) were open;
 * - `'max-connections-per-peer'`: one peer held more than `maxConnectionsPerPeer`.
 *
 * @example
 * ```ts
 * import type { PruneReason } from '@cm/pruner'
 *
 * const reason: PruneReason = 'max-connections'
 * ```
 */
export type PruneReason = 'max-connections' | 'high-watermark' | 'max-connections-per-peer'

/**
 * What the closer is told about one victim.
 */
export interface CloseContext {
  /** Why the connection is closed. */
  readonly reason: PruneReason
  /** Aborted when the pruner is stopped: a closer should then give up quickly. */
  readonly signal: AbortSignal
}

/**
 * The caller's closer: closes one victim. It resolves `true` (or nothing) when the
 * connection was closed and `false` when it was not (it had a stream that must not be
 * cut, say); a throw or a rejection also counts as not closed. Either way the pruner then
 * picks a replacement. It must settle: a pass waits for every close it started.
 *
 * @example
 * ```ts
 * import type { CloseConnection } from '@cm/pruner'
 *
 * const sockets = new Map<string | number, { destroy(): void }>()
 * const close: CloseConnection = async victim => {
 *   const socket = sockets.get(victim.id)
 *   socket?.destroy()
 *   return socket !== undefined
 * }
 * ```
 */
export type CloseConnection<C extends PruneCandidate = PruneCandidate> = (victim: C, context: CloseContext) => Promise<boolean | undefined | void> | boolean | undefined | void

/**
 * Options of {@link Pruner}.
 */
export interface PrunerInit<C extends PruneCandidate = PruneCandidate> {
  /**
   * Lists the open connections as candidates: all of them when `peer` is `undefined`, those
   * of `peer` otherwise (a caller without a per-peer index may return all: the pruner
   * filters by `peer`). Called at the start of each step of a pass, never during a
   * selection; it may return a promise, to read what ranks the candidates (tag values from
   * a store, say) before they are listed. Include exempt connections: they count towards
   * the limits.
   */
  readonly connections: (peer?: string) => Iterable<C> | Promise<Iterable<C>>
  /** Closes one victim. See {@link CloseConnection}. */
  readonly close: CloseConnection<C>
  /**
   * The options, as for `@cm/config`'s `resolveConfig`, and validated by it (every problem
   * at once, unknown options refused). The pruner uses `maxConnections`,
   * `maxConnectionsPerPeer`, `pruneStrategy`, `pruneGracePeriod`, `pruneLowWatermark` and
   * `pruneHighWatermark`; a manager may pass its whole config.
   *
   * @default the defaults of `@cm/config`
   */
  readonly config?: ConnectionConfigInit | undefined
  /**
   * A strategy that wins over `config.pruneStrategy`: a name, or a custom comparison or
   * score (a config holds data only, so a function lives here).
   *
   * @default config.pruneStrategy
   */
  readonly strategy?: PruneStrategy<C> | undefined
  /**
   * The protections by peer to honour.
   *
   * @default a new, empty {@link ProtectionRegistry}
   */
  readonly protection?: ProtectionRegistry | undefined
  /**
   * The clock `openedAt` is read from; the grace period is measured with it.
   *
   * @default systemClock (`performance.now()`)
   */
  readonly clock?: Clock | undefined
}

/**
 * Options of {@link Pruner.prune}.
 */
export interface PruneOptions extends AbortOptions {
  /**
   * Prune this peer's connections down to `maxConnectionsPerPeer` instead of the whole
   * node down to its limit.
   */
  readonly peer?: string | undefined
}

/** A connection that was closed by a pass. */
export interface PrunedConnection<C extends PruneCandidate = PruneCandidate> {
  /** The victim, as given by `connections()`. */
  readonly connection: C
  /** Why it was closed. */
  readonly reason: PruneReason
}

/** A victim that the closer did not close. */
export interface FailedClose<C extends PruneCandidate = PruneCandidate> {
  /** The victim, as given by `connections()`. */
  readonly connection: C
  /** Why it was to be closed. */
  readonly reason: PruneReason
  /** What the closer threw, or `undefined` when it returned `false`. */
  readonly error: unknown
}

/**
 * What one pruning pass did. Only connections the closer reported closed are in
 * `closed`.
 */
export interface PruneReport<C extends PruneCandidate = PruneCandidate> {
  /** The connections closed, in the order they were selected. */
  readonly closed: ReadonlyArray<PrunedConnection<C>>
  /** The victims the closer refused or failed to close; each was replaced if possible. */
  readonly failed: ReadonlyArray<FailedClose<C>>
  /**
   * How many more connections should have been closed to reach the targets, had enough
   * eligible (not exempt) connections been left. 0 when every target was reached.
   */
  readonly shortfall: number
}

interface PassRequest<C extends PruneCandidate> {
  global: boolean
  readonly peers: Set<string>
  readonly promise: Promise<PruneReport<C>>
  readonly resolve: (report: PruneReport<C>) => void
  readonly reject: (error: unknown) => void
}

interface Settings<C extends PruneCandidate> {
  readonly config: ConnectionConfig
  /** A strategy given to the pruner itself, which wins over `config.pruneStrategy`. */
  readonly custom: PruneStrategy<C> | undefined
}

/**
 * A change of options for {@link Pruner.updateConfig}: any `@cm/config` options, and
 * `strategy`.
 *
 * @example
 * ```ts
 * import type { PrunerConfigChange } from '@cm/pruner'
 *
 * const change: PrunerConfigChange = { maxConnections: 200, strategy: { score: candidate => candidate.value } }
 * ```
 */
export type PrunerConfigChange<C extends PruneCandidate = PruneCandidate> = ConnectionConfigInit & {
  /**
   * Replaces the strategy given to the constructor. Giving `pruneStrategy` without
   * `strategy` drops a custom strategy in favour of the named one.
   */
  readonly strategy?: PruneStrategy<C> | undefined
}

/**
 * The pruning runner: when asked, it lists the open connections, selects victims with
 * {@link selectVictims}, hands them to the caller's closer and, for every victim that
 * is not closed, selects a replacement, until the target is reached or no eligible
 * connection is left. It reports only what was actually closed.
 *
 * - **Targets.** Without watermarks: above `maxConnections`, down to `maxConnections`.
 *   With watermarks: above `pruneHighWatermark`, down to `pruneLowWatermark`. Per peer
 *   (`prune({ peer })`): above `maxConnectionsPerPeer`, down to it, choosing among that
 *   peer's connections by the same strategy.
 * - **Single flight.** One pass runs at a time. Calls made while a pass runs are
 *   coalesced into one next pass (which lists the connections afresh), and share its
 *   report; calls made in the same tick share one pass.
 * - **Closing.** The victims of one round are closed in parallel; replacements are
 *   selected once the round settles.
 *
 * It owns no timer and emits no event: the caller decides when to call
 * {@link Pruner.prune} (see {@link Pruner.needsPruning}) and reports the result.
 *
 * @example
 * ```ts
 * import { Pruner } from '@cm/pruner'
 * import type { PruneCandidate } from '@cm/pruner'
 *
 * const open = new Map<string, PruneCandidate>()
 * for (let index = 0; index < 5; index++) {
 *   open.set(`c${index}`, { id: `c${index}`, direction: 'inbound', openedAt: index, streams: 0, value: index })
 * }
 *
 * const pruner = new Pruner({
 *   config: { maxConnections: 3, maxConnectionsPerPeer: 1 },
 *   connections: () => open.values(),
 *   close: async victim => open.delete(String(victim.id))
 * })
 * pruner.protection.protect('QmImportant', 'bootstrap')
 *
 * if (pruner.needsPruning(open.size)) {
 *   const report = await pruner.prune()
 *   report.closed.map(entry => entry.connection.id) // ['c0', 'c1']: the least valuable
 * }
 * ```
 */
export class Pruner<C extends PruneCandidate = PruneCandidate> {
  /** The protections by peer this pruner honours (the one given, or its own). */
  readonly protection: ProtectionRegistry

  readonly #connections: (peer?: string) => Iterable<C> | Promise<Iterable<C>>
  readonly #close: CloseConnection<C>
  readonly #clock: Clock
  #settings: Settings<C>
  #controller = new AbortController()
  #stopped = false
  #queued: PassRequest<C> | undefined
  #draining: Promise<void> | undefined

  /**
   * @param init - the connections, the closer, the options
   * @throws {@link @cm/config!InvalidConfigError} when the options are invalid (all problems at once)
   */
  constructor (init: PrunerInit<C>) {
    const { connections, close, config: configInit, strategy, protection, clock } = init ?? {} as Partial<PrunerInit<C>>
    const problems = new ProblemCollector()
    if (typeof connections !== 'function') {
      problems.add('connections', 'a function listing the open connections', connections)
    }
    if (typeof close !== 'function') {
      problems.add('close', 'a function closing one connection', close)
    }
    if (protection !== undefined && !(protection instanceof ProtectionRegistry)) {
      problems.add('protection', 'a ProtectionRegistry', protection)
    }
    if (clock !== undefined) {
      clockRule.check(clock, 'clock', problems)
    }
    const custom = strategy === undefined ? undefined : checkStrategy(strategy, problems)
    const config = collectProblems(problems, () => resolveConfig(configInit)) ?? DEFAULT_CONFIG
    problems.throwIfAny()
    this.#connections = connections!
    this.#close = close!
    this.#clock = clock ?? systemClock
    this.protection = protection ?? new ProtectionRegistry()
    this.#settings = { config, custom }
  }

  /**
   * Replaces some options, validated as a whole as `@cm/config`'s `updateConfig` does
   * (a new `maxConnections` is checked against the watermarks, say). Takes effect from the
   * next pass; a running pass keeps the options it started with.
   *
   * @param change - the options to replace (others keep their values); see
   *   {@link PrunerConfigChange} for `strategy`
   * @throws {@link @cm/config!InvalidConfigError} when the result is invalid; nothing is changed then
   *
   * @example
   * ```ts
   * import { Pruner } from '@cm/pruner'
   *
   * const pruner = new Pruner({ connections: () => [], close: () => true })
   * pruner.updateConfig({ maxConnections: 100, pruneLowWatermark: 80, pruneHighWatermark: 90 })
   * pruner.needsPruning(91) // true
   * ```
   */
  updateConfig (change: PrunerConfigChange<C>): void {
    const { strategy, ...rest } = change
    const problems = new ProblemCollector()
    const custom = strategy === undefined
      ? rest.pruneStrategy === undefined ? this.#settings.custom : undefined
      : checkStrategy(strategy, problems)
    const config = collectProblems(problems, () => updateConfig(this.#settings.config, rest))
    problems.throwIfAny()
    this.#settings = { config: config!, custom }
  }

  /**
   * Whether `openConnections` open connections call for a pass: more than
   * `pruneHighWatermark` when watermarks are set, more than `maxConnections` otherwise.
   * O(1): a caller that keeps a count can ask this on every new connection.
   *
   * @param openConnections - how many connections are open
   *
   * @example
   * ```ts
   * import { Pruner } from '@cm/pruner'
   *
   * const pruner = new Pruner({ config: { maxConnections: 10 }, connections: () => [], close: () => true })
   * pruner.needsPruning(10) // false
   * pruner.needsPruning(11) // true
   * ```
   */
  needsPruning (openConnections: number): boolean {
    return openConnections > thresholdOf(this.#settings.config)
  }

  /**
   * Whether one peer holding `peerConnections` connections calls for `prune({ peer })`:
   * more than `maxConnectionsPerPeer`.
   *
   * @param peerConnections - how many connections the peer holds
   *
   * @example
   * ```ts
   * import { Pruner } from '@cm/pruner'
   *
   * const pruner = new Pruner({ config: { maxConnectionsPerPeer: 2 }, connections: () => [], close: () => true })
   * pruner.peerNeedsPruning(3) // true
   * ```
   */
  peerNeedsPruning (peerConnections: number): boolean {
    return peerConnections > this.#settings.config.maxConnectionsPerPeer
  }

  /**
   * Runs (or joins) a pruning pass. Without `peer`, the pass brings the node down to its
   * target if it is above its threshold; with `peer`, it brings that peer down to
   * `maxConnectionsPerPeer`. A pass does nothing when nothing is over.
   *
   * Calls coalesce (single flight): a call made while no pass is running starts one on
   * the next microtask; calls made while a pass runs join the one next pass, which lists
   * the connections afresh. Every call resolves with the report of the pass that served
   * it, which covers everything that pass closed (per-peer steps first, then the node).
   *
   * @param options - `peer`, and `signal`: aborting it rejects this call with
   *   `signal.reason` without stopping the pass, which other calls may share
   * @throws {@link PrunerStoppedError} when the pruner is stopped, or stops before the pass
   *   begins
   * @throws {@link InvalidCandidateError} when `connections()` lists a malformed candidate,
   *   and whatever `connections()` throws: the pass stops there, and its callers get the
   *   error (a later call starts afresh)
   *
   * @example
   * ```ts
   * import { Pruner } from '@cm/pruner'
   *
   * const pruner = new Pruner({ connections: () => [], close: () => true })
   * const [first, second] = await Promise.all([pruner.prune(), pruner.prune({ peer: 'QmPeer' })])
   * first === second // true: one pass served both
   * ```
   */
  async prune (options: PruneOptions = {}): Promise<PruneReport<C>> {
    const { peer, signal } = options
    signal?.throwIfAborted()
    if (this.#stopped) {
      throw new PrunerStoppedError()
    }
    const request = this.#queued ?? this.#enqueue()
    if (peer === undefined) {
      request.global = true
    } else {
      request.peers.add(peer)
    }
    return signal === undefined ? await request.promise : await raceSignal(request.promise, signal)
  }

  /**
   * Resumes a stopped pruner. Idempotent. A pruner is started when it is constructed.
   *
   * @example
   * ```ts
   * import { Pruner } from '@cm/pruner'
   *
   * const pruner = new Pruner({ connections: () => [], close: () => true })
   * await pruner.stop()
   * pruner.start()
   * await pruner.prune()
   * ```
   */
  start (): void {
    if (this.#stopped) {
      this.#stopped = false
      this.#controller = new AbortController()
    }
  }

  /**
   * Stops the pruner: later calls to {@link Pruner.prune} are refused, calls waiting for a
   * pass that has not begun reject with {@link PrunerStoppedError}, the signal given to
   * closers is aborted, and a running pass selects no more replacements. Resolves once a
   * running pass has settled (its callers get its report). Idempotent.
   *
   * @example
   * ```ts
   * import { Pruner } from '@cm/pruner'
   *
   * const pruner = new Pruner({ connections: () => [], close: () => true })
   * await pruner.stop()
   * await pruner.stop() // no effect
   * ```
   */
  async stop (): Promise<void> {
    // Stryker disable next-line ConditionalExpression: stopping again aborts an aborted signal and finds no queued pass
    if (!this.#stopped) {
      this.#stopped = true
      this.#controller.abort(new PrunerStoppedError())
      const queued = this.#queued
      this.#queued = undefined
      queued?.reject(new PrunerStoppedError())
    }
    await this.#draining
  }

  #enqueue (): PassRequest<C> {
    let resolve!: (report: PruneReport<C>) => void
    let reject!: (error: unknown) => void
    const promise = new Promise<PruneReport<C>>((resolvePromise, rejectPromise) => {
      resolve = resolvePromise
      reject = rejectPromise
    })
    // A caller whose signal aborted no longer listens; its rejection must not go unhandled.
    promise.catch(() => {})
    const request: PassRequest<C> = { global: false, peers: new Set(), promise, resolve, reject }
    this.#queued = request
    this.#draining ??= this.#drain()
    return request
  }

  async #drain (): Promise<void> {
    try {
      // Let the calls made in this tick join the first pass.
      await Promise.resolve()
      for (let request = this.#queued; request !== undefined; request = this.#queued) {
        this.#queued = undefined
        try {
          request.resolve(await this.#pass(request))
        } catch (error) {
          request.reject(error)
        }
      }
    } finally {
      this.#draining = undefined
    }
  }

  async #pass (request: PassRequest<C>): Promise<PruneReport<C>> {
    const { config, custom } = this.#settings
    const strategy = custom ?? config.pruneStrategy
    const signal = this.#controller.signal
    const report: { closed: Array<PrunedConnection<C>>, failed: Array<FailedClose<C>>, shortfall: number } = { closed: [], failed: [], shortfall: 0 }
    const attempted = new Set<CandidateId>()
    const closed = new Set<CandidateId>()

    const reduce = async (candidates: readonly C[], threshold: number, target: number, reason: (open: number) => PruneReason): Promise<void> => {
      let open = 0
      for (const candidate of candidates) {
        if (!closed.has(candidate.id)) open++
      }
      if (open <= threshold) {
        return
      }
      const why = reason(open)
      const wanted = open - target
      let done = 0
      // Once the pruner is stopped, closers give up: no more rounds of replacements.
      // Stryker disable next-line ConditionalExpression,EqualityOperator: at done === wanted a round asks for 0 victims and the loop ends
      while (done < wanted && !signal.aborted) {
        const { victims } = selectVictims(candidates, {
          count: wanted - done,
          strategy,
          gracePeriod: config.pruneGracePeriod,
          now: this.#clock.now(),
          protection: this.protection,
          exclude: attempted
        })
        if (victims.length === 0) {
          break
        }
        for (const victim of victims) {
          attempted.add(victim.id)
        }
        const outcomes = await Promise.all(victims.map(async victim => await this.#attempt(victim, why, signal)))
        outcomes.forEach((outcome, index) => {
          const connection = victims[index]!
          if (outcome.closed) {
            done++
            closed.add(connection.id)
            report.closed.push({ connection, reason: why })
          } else {
            report.failed.push({ connection, reason: why, error: outcome.error })
          }
        })
      }
      report.shortfall += wanted - done
    }

    for (const peer of request.peers) {
      const candidates = Array.from(await this.#connections(peer)).filter(candidate => candidate.peer === peer)
      await reduce(candidates, config.maxConnectionsPerPeer, config.maxConnectionsPerPeer, () => 'max-connections-per-peer')
    }
    if (request.global) {
      const watermarks = config.pruneHighWatermark > 0
      await reduce(
        Array.from(await this.#connections()),
        thresholdOf(config),
        watermarks ? config.pruneLowWatermark : config.maxConnections,
        open => open > config.maxConnections ? 'max-connections' : 'high-watermark'
      )
    }
    return report
  }

  async #attempt (victim: C, reason: PruneReason, signal: AbortSignal): Promise<{ closed: boolean, error: unknown }> {
    try {
      const result = await this.#close(victim, { reason, signal })
      return { closed: result !== false, error: undefined }
    } catch (error) {
      return { closed: false, error }
    }
  }
}

function checkStrategy<C extends PruneCandidate> (strategy: PruneStrategy<C>, problems: ProblemCollector): PruneStrategy<C> | undefined {
  return resolveStrategy(strategy, 'strategy', problems) === undefined ? undefined : strategy
}

function thresholdOf (config: ConnectionConfig): number {
  return config.pruneHighWatermark > 0 ? config.pruneHighWatermark : config.maxConnections
}

async function raceSignal<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  let onAbort!: () => void
  const aborted = new Promise<never>((_resolve, reject) => {
    // The convention: reject with signal.reason, whatever the caller aborted with.
    onAbort = () => { reject(signal.reason) }
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: the listener is removed below; an abort event fires once anyway
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
