import { parseAddressEntry } from '@cm/config/address'
import { SafeEventEmitter } from '@cm/config/events'
import { finiteNumberRule, ProblemCollector, resolveOptions } from '@cm/config/validation'
import { ErrorReply } from '@redis/client'
import { Heap } from 'mnemonist'
import { reconnectDelay } from './backoff.ts'
import { GateBinding } from './binding.ts'
import { BudgetCounter } from './budget.ts'
import { FleetQueueFullError, FleetStoppedError, FleetUnavailableError } from './errors.ts'
import { resolveFleetOptions } from './options.ts'
import { isChange, preview, readHashRule, readLogEntry, ruleKey } from './records.ts'
import { connectRedis, evalScript } from './redis.ts'
import { fleetKeys, POSITION_SCRIPT, SYNC_SCRIPT, WRITE_SCRIPT } from './scripts.ts'
import type { FleetTarget, Source } from './binding.ts'
import type { HoldChange, ReportLine } from './budget.ts'
import type { FleetEvents, FleetRemoveReason, FleetResyncReason, FleetRuleSource, FleetState } from './events.ts'
import type { FleetInit, ResolvedFleetOptions } from './options.ts'
import type { FleetRule, Refusal, RuleChange } from './records.ts'
import type { RedisLink } from './redis.ts'
import type { FleetKeys } from './scripts.ts'
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

/** A rule this node wrote, enforced here until its change comes back through the log. */
interface LocalRule {
  readonly list: GateList
  readonly entry: string
  readonly expiresAt: number
  /** The change's sequence number, once Redis acknowledged it. */
  ackSeq: number | undefined
}

interface PendingWrite {
  readonly op: 'set' | 'del' | 'restore'
  readonly list: GateList
  readonly entry: string
  readonly ttl: number
  readonly expiresAt: number
  readonly local: LocalRule | undefined
  readonly resolve: ((rule: FleetRule) => void) | undefined
  readonly reject: ((error: unknown) => void) | undefined
}

interface Timed {
  readonly kind: 'rule' | 'local' | 'hold'
  readonly key: string
  readonly at: number
}

interface Session {
  readonly command: RedisLink
  readonly reader: RedisLink
  readonly failed: Promise<never>
  fail(error: unknown): void
}

const WRITE_OPTIONS_SCHEMA = {
  ttl: { default: undefined, rule: finiteNumberRule({ min: 0, exclusiveMin: true, max: 100 * 365 * 86_400_000 }) },
  signal: { default: undefined, rule: { expected: 'an AbortSignal', check: (value: unknown, path: string, problems: ProblemCollector): value is AbortSignal | undefined => { const ok = value instanceof AbortSignal; if (!ok) problems.add(path, 'an AbortSignal', value); return ok } } }
}

/** Log entries read per XREAD. */
const READ_COUNT = 1_000
/** How long one XREAD blocks in Redis. */
const BLOCK_MS = 2_000
/** How much longer than that we wait for its answer before calling the link dead. */
const BLOCK_GRACE_MS = 5_000
/** Hash fields read per HSCAN page. */
const SCAN_COUNT = 1_000
/** Budget keys per sync call. */
const SYNC_CHUNK = 512
/** Writes sent at once. */
const WRITE_BATCH = 256
/** The refused log places remembered. */
const MAX_REFUSED_SEQS = 1_024
const STREAM_ID = /^[0-9]{1,20}-[0-9]{1,20}$/
const LISTS: readonly GateList[] = ['deny', 'allow', 'trusted']

function compareTimed (a: Timed, b: Timed): number {
  return a.at - b.at
}

function integerReply (value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?[0-9]{1,16}$/.test(value) ? Number(value) : Number.NaN
  return Number.isSafeInteger(number) ? number : undefined
}

/** Resolves after `ms`, or rejects with the signal's reason. */
async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

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

  readonly #options: ResolvedFleetOptions
  readonly #keys: FleetKeys
  readonly #clock: Clock
  readonly #budget: BudgetCounter | undefined
  readonly #rules = new Map<string, FleetRule>()
  readonly #local = new Map<string, LocalRule>()
  readonly #holds = new Map<string, number>()
  readonly #bindings = new Set<GateBinding>()
  #timed = new Heap<Timed>(compareTimed)
  #lapseTimer: ReturnType<typeof setTimeout> | undefined
  #lapseAt = Infinity
  #offset: number
  #bestRoundTrip = Infinity
  #timeLearnedAt = -Infinity
  #state: FleetState = 'stopped'
  #stateSince: number
  #controller: AbortController | undefined
  #loop: Promise<void> | undefined
  #session: Session | undefined
  #syncTimer: ReturnType<typeof setTimeout> | undefined
  #epoch: string | undefined
  #lastSeq = 0
  #lastId = '0-0'
  /** Log places taken by entries refused by policy, in case a second entry claims one. */
  readonly #refusedSeqs = new Set<number>()
  #queue: PendingWrite[] = []
  #draining = false
  #waiters = new Set<{ resolve: () => void, reject: (error: unknown) => void }>()
  readonly #counts = { disconnects: 0, applied: 0, rejected: 0, writes: 0, syncs: 0 }
  readonly #resyncs: Record<FleetResyncReason, number> = { start: 0, gap: 0, epoch: 0 }

  /**
   * @param init - how to reach Redis, the key prefix, the budget and the rest
   * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
   */
  constructor (init?: FleetInit) {
    this.#options = resolveFleetOptions(init)
    const options = this.#options
    this.node = options.node
    this.#keys = fleetKeys(options.prefix)
    this.#clock = options.clock
    this.#offset = Date.now() - this.#clock.now()
    this.#stateSince = this.#clock.now()
    this.#budget = options.budget === null ? undefined : new BudgetCounter(options.budget, Math.max(4 * options.syncIntervalMs, 1_000))
    this.events = new SafeEventEmitter<FleetEvents>(options.onListenerError === undefined ? {} : { onListenerError: options.onListenerError })
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
    const binding = new GateBinding(target, () => this.#now(), this.#budget === undefined ? undefined : ip => { this.#onAttempt(ip) })
    this.#bindings.add(binding)
    for (const rule of this.#rules.values()) {
      binding.set(rule.list, rule.entry, 'fleet', rule.expiresAt ?? Infinity)
    }
    for (const local of this.#local.values()) {
      binding.set(local.list, local.entry, 'local', local.expiresAt)
    }
    for (const [text, until] of this.#holds) {
      binding.set('deny', text, 'hold', until)
    }
    binding.flush()
    return () => {
      if (this.#bindings.delete(binding)) binding.detach()
    }
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
    const queue = this.#queue
    this.#queue = []
    for (const write of queue) write.reject?.(new FleetStoppedError(write.op === 'del' ? 'remove' : write.list === 'deny' ? 'deny' : write.list === 'allow' ? 'allow' : 'trust'))
    await this.#loop
    this.#stopSync()
    this.#releaseHolds(this.#budget?.reset() ?? [])
    for (const [key, rule] of this.#rules) {
      this.#rules.delete(key)
      this.#bindingsSet(rule.list, rule.entry, 'fleet', undefined)
    }
    for (const [key, local] of this.#local) {
      this.#local.delete(key)
      this.#bindingsSet(local.list, local.entry, 'local', undefined)
    }
    this.#flushBindings()
    this.#timed = new Heap<Timed>(compareTimed)
    if (this.#lapseTimer !== undefined) clearTimeout(this.#lapseTimer)
    this.#lapseTimer = undefined
    this.#lapseAt = Infinity
    this.#lastSeq = 0
    this.#lastId = '0-0'
    this.#epoch = undefined
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
    await this.#enqueue({ op: 'del', list, entry: text, ttl: 0, expiresAt: 0, local: undefined }, options.signal)
  }

  /**
   * The rules this node holds from the fleet, and its own rules not yet back from the log
   * (with `seq` 0), sorted by list and entry.
   *
   * @param list - one list, or all three
   */
  rules (list?: GateList): FleetRule[] {
    const all: FleetRule[] = [...this.#rules.values()]
    for (const [key, local] of this.#local) {
      if (!this.#rules.has(key)) {
        all.push({ list: local.list, entry: local.entry, seq: 0, by: this.node, ...(local.expiresAt === Infinity ? {} : { expiresAt: local.expiresAt }) })
      }
    }
    return all
      .filter(rule => list === undefined || rule.list === list)
      .sort((a, b) => a.list === b.list ? (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0) : LISTS.indexOf(a.list) - LISTS.indexOf(b.list))
  }

  /** The node's figures, as plain JSON (see {@link FleetMetrics}). */
  metrics (): FleetMetrics {
    const rules: Record<GateList, number> = { deny: 0, allow: 0, trusted: 0 }
    for (const rule of this.#rules.values()) rules[rule.list]++
    const budget = this.#budget
    return {
      state: this.#state,
      connected: this.#state === 'synced' ? 1 : 0,
      disconnectedMs: this.#state === 'disconnected' ? Math.max(0, this.#clock.now() - this.#stateSince) : 0,
      disconnects: this.#counts.disconnects,
      resyncs: { ...this.#resyncs },
      rules,
      localRules: this.#local.size,
      applied: this.#counts.applied,
      rejected: this.#counts.rejected,
      seq: this.#lastSeq,
      queuedWrites: this.#queue.length,
      writes: this.#counts.writes,
      clockOffsetMs: Math.round(this.#offset + this.#clock.now() - Date.now()),
      budget: budget === undefined
        ? null
        : { nodes: budget.nodes, keys: budget.size, holds: this.#holds.size, untracked: budget.untracked, syncs: this.#counts.syncs }
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

  /** Redis's time now, as this node estimates it (ms since the epoch). */
  #now (): number {
    return this.#clock.now() + this.#offset
  }

  #setState (state: FleetState, error?: unknown): void {
    const previous = this.#state
    if (previous === state) return
    this.#state = state
    this.#stateSince = this.#clock.now()
    if (state === 'disconnected') this.#counts.disconnects++
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
        session = await this.#connect(signal)
        this.#session = session
        await Promise.race([first ? this.#resync(session, 'start') : this.#resume(session), session.failed])
        first = false
        attempt = 0
        this.#setState('synced')
        this.#scheduleSync(session)
        void this.#drain(session)
        await Promise.race([this.#follow(session, signal), session.failed])
      } catch (error) {
        session?.fail(error)
        if (this.#session === session) this.#session = undefined
        this.#stopSync()
        this.#releaseHolds(this.#budget?.reset() ?? [])
        this.#flushBindings()
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

  async #connect (signal: AbortSignal): Promise<Session> {
    let fail: (error: unknown) => void = () => {}
    const failed = new Promise<never>((_resolve, reject) => { fail = reject })
    // A failure before anyone awaits it must not be reported as unhandled.
    failed.catch(() => {})
    const links: RedisLink[] = []
    let down = false
    const session: Session = {
      get command (): RedisLink { return links[0] as RedisLink },
      get reader (): RedisLink { return links[1] as RedisLink },
      failed,
      fail: (error: unknown) => {
        if (down) return
        down = true
        for (const link of links) link.destroy()
        fail(error)
      }
    }
    const onError = (error: unknown): void => { session.fail(error) }
    try {
      links.push(await connectRedis(this.#options.redis, `cm-fleet:${this.node}`, onError, signal))
      signal.throwIfAborted()
      links.push(await connectRedis(this.#options.redis, `cm-fleet:${this.node}:log`, onError, signal))
      signal.throwIfAborted()
    } catch (error) {
      session.fail(error)
      throw error
    }
    return session
  }

  /**
   * Measures Redis's clock against ours from a reply's time and the round trip. A sample is
   * off by up to half its round trip, so one is taken only if its round trip is within 1 ms
   * of the best recent one (or the last was taken more than 10 s ago): a slow reply on a
   * busy machine does not move every window and TTL by tens of milliseconds.
   */
  #learnTime (redisNow: unknown, sentAt: number): void {
    const now = integerReply(redisNow)
    const receivedAt = this.#clock.now()
    const roundTrip = receivedAt - sentAt
    if (now === undefined || roundTrip > 1_000) return
    if (roundTrip <= this.#bestRoundTrip + 1 || receivedAt - this.#timeLearnedAt > 10_000) {
      this.#offset = now - (sentAt + receivedAt) / 2
      this.#bestRoundTrip = roundTrip
      this.#timeLearnedAt = receivedAt
    }
  }

  /** The store's position (last seq and log id) and epoch, and its clock, read atomically. */
  async #position (session: Session): Promise<{ seq: number, id: string, epoch: string }> {
    const sentAt = this.#clock.now()
    const position = await evalScript(session.command, POSITION_SCRIPT, [this.#keys.meta], [this.#newEpoch()])
    if (!Array.isArray(position) || position.length !== 4) throw new Error('Unexpected reply to the position script')
    const [seqText, id, epoch, redisNow] = position as unknown[]
    const seq = integerReply(seqText)
    if (seq === undefined || seq < 0 || typeof id !== 'string' || !STREAM_ID.test(id) || typeof epoch !== 'string' || epoch.length === 0 || epoch.length > 64) {
      // The store's own bookkeeping is damaged: keep everything we hold and try again later.
      throw new Error(`The fleet's meta record is malformed (seq ${preview(seqText)}, id ${preview(id)}, epoch ${preview(epoch)})`)
    }
    this.#learnTime(redisNow, sentAt)
    return { seq, id, epoch }
  }

  /**
   * Back after an outage: the log is read on from the last change applied (a trimmed log
   * shows as a jump of `seq`, and the snapshot is reloaded then). Only a store that lost its
   * data (a new epoch, or fewer changes than the node has seen) is reloaded at once.
   */
  async #resume (session: Session): Promise<void> {
    const position = await this.#position(session)
    if (position.epoch !== this.#epoch || position.seq < this.#lastSeq) {
      await this.#resync(session, 'epoch', position)
    }
  }

  /** Loads the snapshot and sets the log position to follow from. */
  async #resync (session: Session, reason: FleetResyncReason, known?: { seq: number, id: string, epoch: string }): Promise<void> {
    const { seq, id, epoch } = known ?? await this.#position(session)
    const lost = this.#epoch !== undefined && (epoch !== this.#epoch || seq < this.#lastSeq)
    if (lost) reason = 'epoch'

    const present = new Set<string>()
    const snapshot: RuleChange[] = []
    let cursor = '0'
    do {
      const page = await session.command.sendCommand(['HSCAN', this.#keys.rules, cursor, 'COUNT', String(SCAN_COUNT)])
      if (!Array.isArray(page) || page.length !== 2 || typeof page[0] !== 'string' || !Array.isArray(page[1])) {
        throw new Error('Unexpected reply to HSCAN')
      }
      cursor = page[0]
      const pairs = page[1] as unknown[]
      for (let index = 0; index + 1 < pairs.length; index += 2) {
        const field = pairs[index]
        if (typeof field === 'string') present.add(field)
        const read = readHashRule(field, pairs[index + 1], this.#options.accept, this.#options.widestAllow)
        if (isChange(read)) {
          snapshot.push(read)
        } else {
          this.#reject('snapshot', preview(field), read)
        }
      }
    } while (cursor !== '0')

    if (lost) {
      // Redis lost its data (restarted without persistence, or flushed). Keep every rule
      // (never fail open) and write them back, so that the fleet gets them again.
      for (const [key, rule] of this.#rules) {
        this.#rules.set(key, { ...rule, seq: 0 })
        if (!present.has(key)) {
          this.#queue.push({ op: 'restore', list: rule.list, entry: rule.entry, ttl: 0, expiresAt: rule.expiresAt ?? 0, local: undefined, resolve: undefined, reject: undefined })
        }
      }
    } else {
      for (const [key, rule] of this.#rules) {
        if (!present.has(key)) this.#removeRule(key, rule, 'snapshot')
      }
    }
    for (const change of snapshot) {
      this.#applyChange(change, 'snapshot')
    }
    for (const [key, local] of this.#local) {
      if (local.ackSeq !== undefined && local.ackSeq <= seq) this.#dropLocal(key, local)
    }
    this.#flushBindings()
    this.#lastSeq = seq
    this.#lastId = id
    this.#refusedSeqs.clear()
    this.#epoch = epoch
    this.#resyncs[reason]++
    if (this.events.listenerCount('fleet:resync') > 0) {
      this.events.safeDispatchEvent('fleet:resync', { detail: { reason, rules: this.#rules.size, seq } })
    }
  }

  /** Reads the log with blocking XREADs and applies every change, in order. */
  async #follow (session: Session, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const read = session.reader.sendCommand(['XREAD', 'COUNT', String(READ_COUNT), 'BLOCK', String(BLOCK_MS), 'STREAMS', this.#keys.log, this.#lastId])
      let deadline: ReturnType<typeof setTimeout> | undefined
      const reply = await Promise.race([
        read,
        new Promise<never>((_resolve, reject) => {
          deadline = setTimeout(() => { reject(new Error(`No answer from Redis to a blocking read within ${BLOCK_MS + BLOCK_GRACE_MS} ms`)) }, BLOCK_MS + BLOCK_GRACE_MS)
        })
      ]).finally(() => { clearTimeout(deadline) })
      if (reply === null) continue
      const entries = Array.isArray(reply) && Array.isArray(reply[0]) ? (reply[0] as unknown[])[1] : undefined
      if (!Array.isArray(entries)) throw new Error('Unexpected reply to XREAD')
      for (const item of entries as unknown[]) {
        if (!Array.isArray(item) || typeof item[0] !== 'string' || !STREAM_ID.test(item[0])) {
          throw new Error('Unexpected entry in the XREAD reply')
        }
        const id = item[0]
        const change = readLogEntry(item[1], this.#options.accept, this.#options.widestAllow)
        this.#lastId = id
        const seq = change.seq
        if (seq === undefined) {
          // Malformed: not written by the fleet's scripts, so it took no place in the log.
          if (!isChange(change)) this.#reject('log', id, change)
          continue
        }
        if (seq > this.#lastSeq + 1) {
          if (await this.#isGap(session, seq)) {
            this.#flushBindings()
            await this.#resync(session, 'gap')
            break
          }
          this.#reject('log', id, { reason: `sequence number ${seq} is ahead of the store's` })
          continue
        }
        if (seq <= this.#lastSeq) {
          // Two entries claim one place: the first was refused, so it was likely forged.
          if (isChange(change) && this.#refusedSeqs.delete(seq)) {
            this.#applyChange(change, 'log')
          } else {
            this.#reject('log', id, { reason: `sequence number ${seq} was already applied` })
          }
          continue
        }
        this.#lastSeq = seq
        if (isChange(change)) {
          this.#applyChange(change, 'log')
        } else {
          this.#reject('log', id, change)
          this.#refusedSeqs.add(seq)
          if (this.#refusedSeqs.size > MAX_REFUSED_SEQS) this.#refusedSeqs.delete(this.#refusedSeqs.values().next().value ?? 0)
        }
      }
      this.#flushBindings()
    }
  }

  /** Whether a jump to `seq` is a real gap (the store has reached it), not a forged entry. */
  async #isGap (session: Session, seq: number): Promise<boolean> {
    return (await this.#position(session)).seq >= seq
  }

  /** Applies one change of the snapshot or the log, unless what the node holds is newer. */
  #applyChange (change: RuleChange, source: FleetRuleSource): void {
    const key = ruleKey(change.list, change.entry)
    const current = this.#rules.get(key)
    const local = this.#local.get(key)
    if (local?.ackSeq !== undefined && local.ackSeq <= change.seq) this.#dropLocal(key, local)
    if (current !== undefined && change.seq <= current.seq) return
    this.#counts.applied++
    const expiresAt = change.expiresAt === 0 ? Infinity : change.expiresAt
    if (change.op === 'del' || expiresAt <= this.#now()) {
      if (current !== undefined) this.#removeRule(key, current, change.op === 'del' ? 'removed' : 'lapsed')
      return
    }
    if (current === undefined && this.#rules.size >= this.#options.maxRules) {
      this.#reject(source === 'snapshot' ? 'snapshot' : 'log', key, { reason: `over maxRules (${this.#options.maxRules})`, seq: change.seq })
      return
    }
    const rule: FleetRule = expiresAt === Infinity
      ? { list: change.list, entry: change.entry, seq: change.seq, by: change.by }
      : { list: change.list, entry: change.entry, expiresAt, seq: change.seq, by: change.by }
    this.#rules.set(key, rule)
    this.#bindingsSet(rule.list, rule.entry, 'fleet', expiresAt, rule.by !== 'budget')
    if (expiresAt !== Infinity) this.#pushTimed({ kind: 'rule', key, at: expiresAt })
    if (this.events.listenerCount('rule:apply') > 0) {
      this.events.safeDispatchEvent('rule:apply', { detail: { rule, source } })
    }
  }

  #removeRule (key: string, rule: FleetRule, reason: FleetRemoveReason): void {
    this.#rules.delete(key)
    this.#bindingsSet(rule.list, rule.entry, 'fleet', undefined)
    if (this.events.listenerCount('rule:remove') > 0) {
      this.events.safeDispatchEvent('rule:remove', { detail: { rule, reason } })
    }
  }

  #dropLocal (key: string, local: LocalRule): void {
    this.#local.delete(key)
    this.#bindingsSet(local.list, local.entry, 'local', undefined)
  }

  #reject (source: 'snapshot' | 'log', at: string, refusal: Refusal): void {
    this.#counts.rejected++
    if (this.events.listenerCount('rule:reject') > 0) {
      this.events.safeDispatchEvent('rule:reject', { detail: { source, at: preview(at), reason: refusal.reason } })
    }
  }

  #bindingsSet (list: GateList, entry: string, source: Source, expiresAt: number | undefined, sweep = false): void {
    for (const binding of this.#bindings) {
      binding.set(list, entry, source, expiresAt, sweep)
    }
  }

  #flushBindings (): void {
    for (const binding of this.#bindings) binding.flush()
  }

  /** Queues a lapse; one timer serves the earliest. */
  #pushTimed (item: Timed): void {
    if (this.#timed.size > 4 * (this.#rules.size + this.#local.size + this.#holds.size) + 1_024) {
      this.#timed = Heap.from(this.#timed.consume().filter(each => this.#isLive(each)), compareTimed)
    }
    this.#timed.push(item)
    this.#scheduleLapse()
  }

  #isLive (item: Timed): boolean {
    switch (item.kind) {
      case 'rule': return this.#rules.get(item.key)?.expiresAt === item.at
      case 'local': return this.#local.get(item.key)?.expiresAt === item.at
      case 'hold': return this.#holds.get(item.key) === item.at
    }
  }

  #scheduleLapse (): void {
    const top = this.#timed.peek()
    if (top === undefined || top.at >= this.#lapseAt) return
    if (this.#lapseTimer !== undefined) clearTimeout(this.#lapseTimer)
    this.#lapseAt = top.at
    this.#lapseTimer = setTimeout(() => { this.#lapse() }, Math.min(Math.max(0, top.at - this.#now()), 2_147_483_647))
    this.#lapseTimer.unref?.()
  }

  /** Takes every rule, own rule and hold whose time has come off the gates. */
  #lapse (): void {
    this.#lapseTimer = undefined
    this.#lapseAt = Infinity
    const now = this.#now()
    for (let top = this.#timed.peek(); top !== undefined && top.at <= now; top = this.#timed.peek()) {
      this.#timed.pop()
      if (!this.#isLive(top)) continue
      if (top.kind === 'rule') {
        const rule = this.#rules.get(top.key)
        if (rule !== undefined) this.#removeRule(top.key, rule, 'lapsed')
      } else if (top.kind === 'local') {
        const local = this.#local.get(top.key)
        if (local !== undefined) this.#dropLocal(top.key, local)
      } else {
        this.#releaseHolds([top.key])
      }
    }
    this.#flushBindings()
    this.#scheduleLapse()
  }

  /** Counts an admitted inbound attempt of an untrusted host for the budget (no I/O). */
  #onAttempt (ip: string): void {
    const budget = this.#budget
    if (budget === undefined || this.#state !== 'synced') return
    const change = budget.record(ip, this.#now())
    if (change.hold.length > 0) this.#applyHolds(change)
  }

  #applyHolds (change: HoldChange): void {
    for (const hold of change.hold) {
      if (this.#holds.get(hold.text) === hold.until) continue
      this.#holds.set(hold.text, hold.until)
      this.#bindingsSet('deny', hold.text, 'hold', hold.until)
      this.#pushTimed({ kind: 'hold', key: hold.text, at: hold.until })
      if (this.events.listenerCount('budget:hold') > 0) {
        this.events.safeDispatchEvent('budget:hold', { detail: { key: hold.text, tier: hold.tier, until: hold.until } })
      }
    }
    this.#releaseHolds(change.release)
  }

  #releaseHolds (keys: readonly string[]): void {
    for (const key of keys) {
      if (!this.#holds.delete(key)) continue
      this.#bindingsSet('deny', key, 'hold', undefined)
      if (this.events.listenerCount('budget:release') > 0) {
        this.events.safeDispatchEvent('budget:release', { detail: { key, tier: '' } })
      }
    }
  }

  #scheduleSync (session: Session): void {
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined
      this.#sync(session).then(
        () => { if (this.#session === session && this.#state === 'synced') this.#scheduleSync(session) },
        (error: unknown) => { session.fail(error) }
      )
    }, this.#options.syncIntervalMs)
  }

  #stopSync (): void {
    if (this.#syncTimer !== undefined) clearTimeout(this.#syncTimer)
    this.#syncTimer = undefined
  }

  /** One sync: heartbeat, clock, lapsed rules pruned in Redis, budget report and reply. */
  async #sync (session: Session): Promise<void> {
    const budget = this.#budget
    const lines = budget?.takeReport() ?? []
    const tiers = this.#options.budget?.tiers ?? []
    const head = [
      this.node,
      Math.max(10 * this.#options.syncIntervalMs, 2_000),
      this.#options.logLength,
      this.#newEpoch(),
      this.#keys.budget,
      tiers.length,
      ...tiers.flatMap(tier => [tier.limit, tier.windowMs])
    ]
    const chunks: ReportLine[][] = []
    for (let index = 0; index < lines.length || index === 0; index += SYNC_CHUNK) {
      chunks.push(lines.slice(index, index + SYNC_CHUNK))
    }
    const keys = [this.#keys.rules, this.#keys.log, this.#keys.meta, this.#keys.expiry, this.#keys.nodes]
    const sentAt = this.#clock.now()
    const replies = await Promise.all(chunks.map(async chunk => await evalScript(session.command, SYNC_SCRIPT, keys, [
      ...head,
      ...chunk.flatMap(line => [line.tier, line.window, line.text, line.count])
    ])))
    if (this.#session !== session) return
    const first = replies[0]
    if (!Array.isArray(first) || first.length < 3) throw new Error('Unexpected reply to the sync script')
    this.#learnTime(first[0], sentAt)
    if (first[2] !== this.#epoch) {
      throw new Error('The fleet store lost its data (its epoch changed)')
    }
    this.#counts.syncs++
    if (budget !== undefined) {
      const totals = replies.flatMap(reply => Array.isArray(reply) ? reply.slice(3).map(value => integerReply(value) ?? -1) : [])
      const change = budget.applyReply(lines, totals, integerReply(first[1]) ?? 1, this.#now())
      if (change.hold.length > 0 || change.release.length > 0) {
        this.#applyHolds(change)
        this.#flushBindings()
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
    const local: LocalRule = { list, entry: text, expiresAt: ttl === 0 ? Infinity : this.#now() + ttl, ackSeq: undefined }
    if (this.#queue.length < this.#options.maxQueuedWrites) {
      this.#local.set(key, local)
      this.#bindingsSet(list, text, 'local', local.expiresAt, true)
      this.#flushBindings()
      if (local.expiresAt !== Infinity) this.#pushTimed({ kind: 'local', key, at: local.expiresAt })
    }
    return await this.#enqueue({ op: 'set', list, entry: text, ttl, expiresAt: 0, local }, resolved.signal)
  }

  async #enqueue (write: Omit<PendingWrite, 'resolve' | 'reject'>, signal: AbortSignal | undefined): Promise<FleetRule> {
    if (this.#queue.length >= this.#options.maxQueuedWrites) {
      throw new FleetQueueFullError(this.#options.maxQueuedWrites)
    }
    if (this.#state === 'stopped') {
      throw new FleetStoppedError(write.op === 'del' ? 'remove' : write.list === 'trusted' ? 'trust' : write.list)
    }
    return await new Promise<FleetRule>((resolve, reject) => {
      const onAbort = (): void => { reject(signal?.reason) }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#queue.push({
        ...write,
        resolve: rule => { signal?.removeEventListener('abort', onAbort); resolve(rule) },
        reject: error => { signal?.removeEventListener('abort', onAbort); reject(error) }
      })
      const session = this.#session
      if (session !== undefined && this.#state === 'synced') void this.#drain(session)
    })
  }

  /** Sends the queued writes, in order, while the session lives. */
  async #drain (session: Session): Promise<void> {
    if (this.#draining) return
    this.#draining = true
    try {
      while (this.#queue.length > 0 && this.#session === session) {
        const batch = this.#queue.slice(0, WRITE_BATCH)
        const keys = [this.#keys.rules, this.#keys.log, this.#keys.meta, this.#keys.expiry]
        const results = await Promise.allSettled(batch.map(async write => await evalScript(session.command, WRITE_SCRIPT, keys, [
          write.op, write.list, write.entry, write.ttl, this.node, this.#options.logLength, this.#newEpoch(), write.expiresAt
        ])))
        let sent = 0
        for (const [index, result] of results.entries()) {
          const write = batch[index] as PendingWrite
          if (result.status === 'rejected' && !(result.reason instanceof ErrorReply)) break
          sent++
          if (result.status === 'rejected') {
            write.reject?.(new FleetUnavailableError(write.op === 'del' ? 'remove' : write.list === 'trusted' ? 'trust' : write.list, result.reason))
            continue
          }
          this.#counts.writes++
          const reply = Array.isArray(result.value) ? result.value as unknown[] : []
          const seq = integerReply(reply[0]) ?? 0
          const expiresAt = integerReply(reply[1]) ?? 0
          if (write.local !== undefined) {
            write.local.ackSeq = seq
            const key = ruleKey(write.list, write.entry)
            if (seq <= this.#lastSeq && this.#local.get(key) === write.local) this.#dropLocal(key, write.local)
          }
          write.resolve?.({ list: write.list, entry: write.entry, seq, by: this.node, ...(expiresAt === 0 ? {} : { expiresAt }) })
        }
        this.#queue.splice(0, sent)
        this.#flushBindings()
        if (sent < batch.length) return
      }
    } finally {
      this.#draining = false
    }
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
