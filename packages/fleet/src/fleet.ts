import { parseAddressEntry } from '@cm/config/address'
import { SafeEventEmitter } from '@cm/config/events'
import { finiteNumberRule, ProblemCollector, resolveOptions } from '@cm/config/validation'
import { reconnectDelay, sleep } from './backoff.ts'
import { GateBinding } from './binding.ts'
import { BudgetSync } from './budget-sync.ts'
import { FleetStoppedError } from './errors.ts'
import { LogFollower } from './log-follower.ts'
import { resolveFleetOptions } from './options.ts'
import { ruleKey } from './records.ts'
import { RedisTime } from './redis-time.ts'
import { RuleTable } from './rule-table.ts'
import { fleetKeys } from './scripts.ts'
import { connectSession } from './session.ts'
import { WriteQueue } from './write-queue.ts'
import type { FleetTarget } from './binding.ts'
import type { FleetEvents, FleetResyncReason, FleetState } from './events.ts'
import type { FleetInit, ResolvedFleetOptions } from './options.ts'
import type { FleetRule } from './records.ts'
import type { LocalRule } from './rule-table.ts'
import type { Session } from './session.ts'
import type { AbortOptions, Clock } from '@cm/config'
import type { GateList } from '@cm/gate'

/**
 * Options of {@link Fleet.deny}, {@link Fleet.allow} and {@link Fleet.trust}.
 *
 * @example
 * ```ts
 * import type { FleetWriteOptions } from '@cm/fleet'
 *
 * const tenMinutes: FleetWriteOptions = { ttl: 10 * 60_000, signal: AbortSignal.timeout(5_000) }
 * ```
 */
export interface FleetWriteOptions extends AbortOptions {
  /**
   * Milliseconds until the rule lapses, on every node at the same moment (Redis turns it
   * into an absolute time). A number > 0 and at most 100 years. Without it the rule does
   * not lapse.
   */
  ttl?: number | undefined
}

/**
 * A node's figures, as plain JSON, for monitoring.
 *
 * @example
 * ```ts
 * import { createFleet } from '@cm/fleet'
 * import type { FleetMetrics } from '@cm/fleet'
 *
 * const metrics: FleetMetrics = createFleet().metrics()
 * metrics.connected // 0 until started and synchronised
 * ```
 */
export interface FleetMetrics {
  /** The link's state. */
  readonly state: FleetState
  /** 1 while synchronised with Redis, 0 otherwise: the gauge to alert on. */
  readonly connected: 0 | 1
  /** Milliseconds since the link was lost (0 while synchronised or stopped). */
  readonly disconnectedMs: number
  /** Connections to Redis lost. */
  readonly disconnects: number
  /** Snapshot loads, by reason. */
  readonly resyncs: Readonly<Record<FleetResyncReason, number>>
  /** Rules held from the fleet, by list. */
  readonly rules: Readonly<Record<GateList, number>>
  /** This node's own rules not yet back from the log (enforced here already). */
  readonly localRules: number
  /** Rule changes applied from the snapshot and the log. */
  readonly applied: number
  /** Records read from Redis and refused (malformed, hostile, over `maxRules`). */
  readonly rejected: number
  /** The last log position applied. */
  readonly seq: number
  /** Rule writes waiting for Redis. */
  readonly queuedWrites: number
  /** Rule writes Redis acknowledged. */
  readonly writes: number
  /** Redis's clock minus this node's, in milliseconds, as last measured. */
  readonly clockOffsetMs: number
  /** The budget's figures, or `null` without a budget. */
  readonly budget: {
    /** Live nodes, as the last sync counted them (the N of the bound). */
    readonly nodes: number
    /** Keys counted in the current windows. */
    readonly keys: number
    /** Keys this node holds now. */
    readonly holds: number
    /** Attempts admitted uncounted (over `maxKeys`). */
    readonly untracked: number
    /** Syncs completed. */
    readonly syncs: number
  } | null
}

const WRITE_OPTIONS_SCHEMA = {
  ttl: { default: undefined, rule: finiteNumberRule({ min: 0, exclusiveMin: true, max: 100 * 365 * 86_400_000 }) },
  signal: { default: undefined, rule: { expected: 'an AbortSignal', check: (value: unknown, path: string, problems: ProblemCollector): value is AbortSignal | undefined => { const ok = value instanceof AbortSignal; if (!ok) problems.add(path, 'an AbortSignal', value); return ok } } }
}

const LISTS: readonly GateList[] = ['deny', 'allow', 'trusted']

/**
 * One node's member of a fleet: it keeps the attached gates in step with the fleet's
 * rules in Redis, counts admitted attempts for the fleet-wide budget, and writes rules for
 * the fleet. Every per-connection check stays the local gate's synchronous lookup: the
 * fleet only changes what the gate knows.
 *
 * Rules travel as an ordered log (a Redis stream) beside a snapshot (a hash), written
 * together by one Lua script. A starting node loads the snapshot and follows the log with
 * a blocking `XREAD` on a connection of its own; a node that was away resumes from the
 * last change it applied, and reloads the snapshot if the log was trimmed past it. TTLs
 * are absolute times by Redis's clock, so a rule lapses at the same moment on every node.
 *
 * When Redis is away the node keeps every rule it knows (a ban never lapses early for
 * it), falls back on its own rate limiter, reports `fleet:state` and `metrics().connected`,
 * and reconnects with backoff, reading the log on from where it stopped; rules it writes meanwhile are enforced at once here and
 * sent when Redis is back.
 *
 * @example
 * ```ts
 * import { createFleet } from '@cm/fleet'
 * import { createConnectionManager } from '@cm/manager'
 * import { tcp } from '@cm/manager/tcp'
 *
 * const manager = createConnectionManager({ transport: tcp(), config: { inboundConnectionThreshold: 20 } })
 * const fleet = createFleet({ redis: { url: 'redis://127.0.0.1:6379' }, budget: { limit: 20 } })
 * fleet.attach(manager)
 * await manager.start()
 * await fleet.start({ signal: AbortSignal.timeout(10_000) })
 * await fleet.deny('203.0.113.0/24', { ttl: 60 * 60_000 }) // refused by every node for an hour
 * await fleet.stop()
 * await manager.stop()
 * ```
 */
export class Fleet {
  /** Tells the fleet apart in logs and inspection: `'@cm/fleet'`. */
  readonly [Symbol.toStringTag] = '@cm/fleet'
  /** The fleet's events (see {@link FleetEvents}). */
  readonly events: SafeEventEmitter<FleetEvents>
  /** This node's name. */
  readonly node: string

  // The parts, one file each; this class owns the link's lifecycle and the public API.
  readonly #options: ResolvedFleetOptions
  readonly #clock: Clock
  readonly #time: RedisTime
  readonly #table: RuleTable
  readonly #follower: LogFollower
  readonly #writes: WriteQueue
  readonly #budget: BudgetSync
  #state: FleetState = 'stopped'
  #stateSince: number
  #disconnects = 0
  #controller: AbortController | undefined
  #loop: Promise<void> | undefined
  #session: Session | undefined
  #waiters = new Set<{ resolve: () => void, reject: (error: unknown) => void }>()

  /**
   * @param init - how to reach Redis, the key prefix, the budget and the rest
   * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
   */
  constructor (init?: FleetInit) {
    this.#options = resolveFleetOptions(init)
    const options = this.#options
    this.node = options.node
    const keys = fleetKeys(options.prefix)
    this.#clock = options.clock
    this.#time = new RedisTime(this.#clock)
    this.#stateSince = this.#clock.now()
    this.events = new SafeEventEmitter<FleetEvents>(options.onListenerError === undefined ? {} : { onListenerError: options.onListenerError })
    const time = this.#time
    const table = new RuleTable({ events: this.events, maxRules: options.maxRules, now: () => time.now() })
    this.#table = table
    const newEpoch = (): string => this.#newEpoch()
    const session = (): Session | undefined => this.#session
    const state = (): FleetState => this.#state
    this.#writes = new WriteQueue({
      node: this.node,
      keys,
      logLength: options.logLength,
      maxQueuedWrites: options.maxQueuedWrites,
      table,
      newEpoch,
      lastSeq: () => this.#follower.lastSeq,
      session,
      state
    })
    this.#follower = new LogFollower({ options, keys, events: this.events, table, time, newEpoch, restore: rule => { this.#writes.restore(rule) } })
    this.#budget = new BudgetSync({ node: this.node, options, keys, table, time, newEpoch, epoch: () => this.#follower.epoch, session, state })
  }

  /** The link's state: `stopped`, `connecting`, `synced` or `disconnected`. */
  get state (): FleetState {
    return this.#state
  }

  /**
   * Applies the fleet's rules to a gate from now on, and counts for the budget the inbound
   * attempts the target reports (through `observeAdmissions`, or else `connection:pending`
   * on its `events`). A `ConnectionManager` of `@cm/manager` can be passed as it is (its
   * `gate`, `observeAdmissions` and `deny`, which also closes the open connections a ban
   * matches); for `@cm/libp2p`, pass `{ gate: gater.gate, events: monitor.tracker.events }`
   * (the gater reports admitted connections to its monitor).
   *
   * Rules the gate already had are left as they are: the fleet only adds what it owns, and
   * takes off only that.
   *
   * @param target - the gate, and optionally the events and the `deny` of its manager
   * @returns a function that detaches it again (the fleet's rules leave the gate)
   *
   * @example
   * ```ts
   * import { createFleet } from '@cm/fleet'
   * import { createGate } from '@cm/gate'
   *
   * const fleet = createFleet()
   * const gate = createGate()
   * const detach = fleet.attach({ gate })
   * detach()
   * ```
   */
  attach (target: FleetTarget): () => void {
    const budget = this.#budget
    const binding = new GateBinding(target, () => this.#time.now(), budget.counter === undefined ? undefined : ip => { budget.record(ip) })
    return this.#table.attach(binding)
  }

  /**
   * Starts following the fleet: connects to Redis, loads the snapshot, then follows the
   * rule log and syncs the budget every `syncIntervalMs`. Resolves once the node is
   * synchronised. If Redis cannot be reached, it keeps trying with backoff (the node
   * enforces its own rules meanwhile) and the promise waits; `signal` ends the wait (the
   * promise rejects with its reason) but not the attempts: `stop()` ends those. Calling it
   * again while started waits for the same synchronisation.
   *
   * @param options - `signal`, to stop waiting
   * @throws {@link FleetStoppedError} (as a rejection) when `stop()` is called first
   */
  async start (options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.#state === 'stopped') {
      this.#controller = new AbortController()
      this.#setState('connecting')
      this.#loop = this.#run(this.#controller.signal)
    }
    await this.#synced(options.signal)
  }

  /**
   * Stops following the fleet: closes the Redis connections, stops every timer, rejects
   * writes still waiting for Redis with {@link FleetStoppedError}, and takes the fleet's
   * rules and budget holds off the attached gates (which keep their own rules). The
   * attachments stay: `start()` applies the fleet again. Idempotent.
   */
  async stop (): Promise<void> {
    const controller = this.#controller
    if (controller === undefined) {
      await this.#loop
      return
    }
    this.#controller = undefined
    controller.abort(new FleetStoppedError('start'))
    this.#session?.fail(new FleetStoppedError('start'))
    this.#setState('stopped')
    for (const waiter of this.#waiters) waiter.reject(new FleetStoppedError('start'))
    this.#waiters.clear()
    this.#writes.rejectAll()
    await this.#loop
    this.#budget.stop()
    this.#budget.reset()
    this.#table.clear()
    this.#follower.reset()
  }

  /**
   * Bans an entry on every node of the fleet. This node refuses it at once (even while
   * Redis is away); the others as soon as the change reaches them through the log
   * (milliseconds on a local network). Resolves when Redis has recorded it.
   *
   * @param entry - an IP address, CIDR range, multiaddr or peer ID
   * @param options - `ttl` (ms) for a ban that lapses everywhere at once; `signal`
   * @returns the rule, with its position in the log
   * @throws `InvalidAddressError` (from `@cm/config`) for a malformed entry,
   *   `InvalidConfigError` for a bad `ttl`, {@link FleetQueueFullError},
   *   {@link FleetStoppedError}, {@link FleetUnavailableError} (Redis refused the
   *   write, for example for lack of an ACL permission), or `signal.reason` (as rejections)
   *
   * @example
   * ```ts
   * import { createFleet } from '@cm/fleet'
   *
   * const fleet = createFleet()
   * await fleet.start()
   * const rule = await fleet.deny('198.51.100.0/24', { ttl: 10 * 60_000 })
   * rule.expiresAt // when it lapses on every node (ms since the epoch, Redis's clock)
   * await fleet.stop()
   * ```
   */
  async deny (entry: string, options?: FleetWriteOptions): Promise<FleetRule> {
    return await this.#write('deny', entry, options)
  }

  /**
   * Adds an allow rule on every node (an allow list, once not empty, is exclusive), as
   * {@link Fleet.deny} does.
   *
   * @param entry - an IP address, CIDR range, multiaddr or peer ID
   * @param options - `ttl` (ms); `signal`
   * @returns the rule, with its position in the log
   * @throws as {@link Fleet.deny}
   */
  async allow (entry: string, options?: FleetWriteOptions): Promise<FleetRule> {
    return await this.#write('allow', entry, options)
  }

  /**
   * Adds a trusted rule on every node (exempt from the limits and the budget), as
   * {@link Fleet.deny} does.
   *
   * @param entry - an IP address, CIDR range, multiaddr or peer ID
   * @param options - `ttl` (ms); `signal`
   * @returns the rule, with its position in the log
   * @throws as {@link Fleet.deny}
   */
  async trust (entry: string, options?: FleetWriteOptions): Promise<FleetRule> {
    return await this.#write('trusted', entry, options)
  }

  /**
   * Removes a rule from the fleet. Unlike the other writes it takes effect on this node
   * too only once it has gone through Redis, so that a node cut off from Redis never lifts
   * a ban the fleet still holds. Resolves when Redis has recorded it.
   *
   * @param list - `'deny'`, `'allow'` or `'trusted'`
   * @param entry - the entry, in any spelling
   * @param options - `signal`
   * @throws as {@link Fleet.deny}
   */
  async remove (list: GateList, entry: string, options: AbortOptions = {}): Promise<void> {
    if (!LISTS.includes(list)) {
      const problems = new ProblemCollector()
      problems.add('list', 'one of "deny", "allow", "trusted"', list)
      problems.throwIfAny()
    }
    const text = parseAddressEntry(entry).text
    options.signal?.throwIfAborted()
    await this.#writes.enqueue({ op: 'del', list, entry: text, ttl: 0, expiresAt: 0, local: undefined }, options.signal)
  }

  /**
   * The rules this node holds from the fleet, and its own rules not yet back from the log
   * (with `seq` 0), sorted by list and entry.
   *
   * @param list - one list, or all three
   */
  rules (list?: GateList): FleetRule[] {
    const table = this.#table
    const all: FleetRule[] = [...table.rules.values()]
    for (const [key, local] of table.local) {
      if (!table.rules.has(key)) {
        all.push({ list: local.list, entry: local.entry, seq: 0, by: this.node, ...(local.expiresAt === Infinity ? {} : { expiresAt: local.expiresAt }) })
      }
    }
    return all
      .filter(rule => list === undefined || rule.list === list)
      .sort((a, b) => a.list === b.list ? (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0) : LISTS.indexOf(a.list) - LISTS.indexOf(b.list))
  }

  /** The node's figures, as plain JSON (see {@link FleetMetrics}). */
  metrics (): FleetMetrics {
    const table = this.#table
    const rules: Record<GateList, number> = { deny: 0, allow: 0, trusted: 0 }
    for (const rule of table.rules.values()) rules[rule.list]++
    const counter = this.#budget.counter
    return {
      state: this.#state,
      connected: this.#state === 'synced' ? 1 : 0,
      disconnectedMs: this.#state === 'disconnected' ? Math.max(0, this.#clock.now() - this.#stateSince) : 0,
      disconnects: this.#disconnects,
      resyncs: { ...this.#follower.resyncs },
      rules,
      localRules: table.local.size,
      applied: table.counts.applied,
      rejected: table.counts.rejected,
      seq: this.#follower.lastSeq,
      queuedWrites: this.#writes.length,
      writes: this.#writes.writes,
      clockOffsetMs: this.#time.offsetMs(),
      budget: counter === undefined
        ? null
        : { nodes: counter.nodes, keys: counter.size, holds: table.holds.size, untracked: counter.untracked, syncs: this.#budget.syncs }
    }
  }

  /**
   * A fresh candidate for the store's epoch, set only if the store has none: a store that
   * lost its data gets a new epoch, whichever node speaks to it first.
   */
  #newEpoch (): string {
    const random = this.#options.random
    return Array.from({ length: 16 }, () => Math.floor(random() * 16).toString(16)).join('')
  }

  #setState (state: FleetState, error?: unknown): void {
    const previous = this.#state
    if (previous === state) return
    this.#state = state
    this.#stateSince = this.#clock.now()
    if (state === 'disconnected') this.#disconnects++
    if (state === 'synced') {
      for (const waiter of this.#waiters) waiter.resolve()
      this.#waiters.clear()
    }
    if (this.events.listenerCount('fleet:state') > 0) {
      this.events.safeDispatchEvent('fleet:state', { detail: error === undefined ? { state, previous } : { state, previous, error } })
    }
  }

  async #synced (signal: AbortSignal | undefined): Promise<void> {
    if (this.#state === 'synced') return
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter)
        reject(signal?.reason)
      }
      const waiter = {
        resolve: () => { signal?.removeEventListener('abort', onAbort); resolve() },
        reject: (error: unknown) => { signal?.removeEventListener('abort', onAbort); reject(error) }
      }
      this.#waiters.add(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Connects, synchronises and follows; on any failure, waits and starts over. */
  async #run (signal: AbortSignal): Promise<void> {
    let attempt = 0
    let first = true
    while (!signal.aborted) {
      let session: Session | undefined
      try {
        session = await connectSession(this.#options.redis, this.node, signal)
        this.#session = session
        await Promise.race([first ? this.#follower.resync(session, 'start') : this.#follower.resume(session), session.failed])
        first = false
        attempt = 0
        this.#setState('synced')
        this.#budget.schedule(session)
        void this.#writes.drain(session)
        await Promise.race([this.#follower.follow(session, signal), session.failed])
      } catch (error) {
        session?.fail(error)
        if (this.#session === session) this.#session = undefined
        this.#budget.stop()
        this.#budget.reset()
        this.#table.flush()
        if (signal.aborted) break
        this.#setState('disconnected', error)
        attempt++
        try {
          await sleep(reconnectDelay(attempt, this.#options.reconnect, this.#options.random()), signal)
        } catch {
          break
        }
      }
    }
  }

  async #write (list: GateList, entry: string, options: FleetWriteOptions = {}): Promise<FleetRule> {
    const text = parseAddressEntry(entry).text
    const problems = new ProblemCollector()
    const resolved = resolveOptions(WRITE_OPTIONS_SCHEMA, options, problems)
    problems.throwIfAny()
    resolved.signal?.throwIfAborted()
    if (this.#state === 'stopped') throw new FleetStoppedError(list === 'trusted' ? 'trust' : list)
    const key = ruleKey(list, text)
    const ttl = resolved.ttl === undefined ? 0 : Math.ceil(resolved.ttl)
    const local: LocalRule = { list, entry: text, expiresAt: ttl === 0 ? Infinity : this.#time.now() + ttl, ackSeq: undefined }
    // Enforced here at once, unless the queue is full (the write is then refused).
    if (this.#writes.hasRoom()) this.#table.addLocal(key, local)
    return await this.#writes.enqueue({ op: 'set', list, entry: text, ttl, expiresAt: 0, local }, resolved.signal)
  }
}

/**
 * Creates a {@link Fleet}: one node's member of a fleet sharing rules and a rate budget
 * through Redis.
 *
 * @param init - how to reach Redis, the key prefix, the budget and the rest
 * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
 *
 * @example
 * ```ts
 * import { createFleet } from '@cm/fleet'
 *
 * const fleet = createFleet({ redis: { url: 'redis://127.0.0.1:6379' }, prefix: 'cm:fleet:edge:', budget: { limit: 20 } })
 * fleet.state // 'stopped'
 * ```
 */
export function createFleet (init?: FleetInit): Fleet {
  return new Fleet(init)
}
