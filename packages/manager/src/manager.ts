import { changedOptions, CmError, gateOptionsFrom, rateLimiterOptionsFrom, resolveConfig, systemClock, updateConfig } from '@cm/config'
import { readMultiaddr } from '@cm/config/address'
import { SafeEventEmitter } from '@cm/config/events'
import { createGate } from '@cm/gate'
import { Pruner } from '@cm/pruner'
import { createRateLimiter } from '@cm/rate-limit'
import { createConnectionTracker } from '@cm/state'
import { DecisionClock, InboundAdmission, TRUSTED } from './admission.ts'
import { AdmissionObservers } from './admission-observer.ts'
import { Deadline } from './deadline.ts'
import { DEFAULT_DIAL_PRIORITY, DialQueue } from './dial-queue.ts'
import { Managed } from './entry.ts'
import { ConnectionRefusedError, DialDeniedError, DialTimeoutError, ManagerStoppedError, NotStartedError } from './errors.ts'
import { REFUSAL_REASONS } from './events.ts'
import { Counters, snapshotMetrics } from './metrics.ts'
import { pruneCandidates } from './pruning.ts'
import { applyGateChanges, narrowsGate } from './reconfigure.ts'
import { Reconnector } from './reconnect.ts'
import type { AdmissionObserver } from './admission-observer.ts'
import type { Entry } from './entry.ts'
import type { ConnectionDenyDetail, ConnectionManagerEvents, RefusalReason } from './events.ts'
import type { ManagerMetrics } from './metrics.ts'
import type { Candidate } from './pruning.ts'
import type { Listener, RemoteAddress, Transport } from './transport.ts'
import type { AcceptResult, ConnectionManagerInit, DialOptions, ManagedConnection, ManagerDenyOptions, Upgrade, UpgradeResult } from './types.ts'
import type { Clock, ConnectionConfig, ConnectionConfigInit } from '@cm/config'
import type { ListenerErrorHandler } from '@cm/config/events'
import type { DefaultGate, GateVerdict } from '@cm/gate'
import type { PruneCandidate, PruneReason, PruneStrategy, ProtectionRegistry } from '@cm/pruner'
import type { RateLimiter } from '@cm/rate-limit'
import type { CloseReason, ConnectionRecord, ConnectionState, ConnectionTracker } from '@cm/state'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A connection's state, read afresh (calls in between may have changed it). */
const stateOf = (entry: { readonly record: ConnectionRecord }): ConnectionState => entry.record.state

/**
 * Connection management over real connections: admission (gate, pending limit, per-host
 * rate limit, `maxConnections`), a dial queue, timeouts, pruning, reconnection and runtime
 * updates, built from one `ConnectionConfig`. It wires `@cm/gate`, `@cm/rate-limit`,
 * `@cm/pruner` and `@cm/state` together and re-implements none of their policy.
 *
 * @example
 * ```ts
 * import { createConnectionManager } from '@cm/manager'
 * import { tcp } from '@cm/manager/tcp'
 *
 * const manager = createConnectionManager({
 *   transport: tcp(),
 *   config: { maxConnections: 50, denyList: ['10.0.0.0/8'] },
 *   onConnection: connection => { connection.raw.end('hello\n') }
 * })
 * await manager.start()
 * await manager.listen('/ip4/127.0.0.1/tcp/0')
 * manager.metrics().connections.open // { inbound: 0, outbound: 0 }
 * await manager.stop()
 * ```
 */
export class ConnectionManager<Raw> {
  /** The bus every event is dispatched on (tracker events and the manager's own). */
  readonly events: SafeEventEmitter<ConnectionManagerEvents>
  /** The connection tracker: the single source of truth for connection states and counts. */
  readonly connections: ConnectionTracker
  /** The gate (allow, deny and trusted lists); changes take effect on the next check. */
  readonly gate: DefaultGate
  /** The protection registry of the pruner: protected peers are never pruned. */
  readonly protection: ProtectionRegistry

  readonly #transport: Transport<Raw>
  readonly #upgrade: Upgrade<Raw> | undefined
  readonly #onConnection: ((connection: ManagedConnection<Raw>) => void) | undefined
  readonly #onListenerError: ListenerErrorHandler | undefined
  readonly #closeDenied: boolean
  readonly #clock: Clock
  readonly #limiterClock: DecisionClock
  readonly #random: () => number
  #config: ConnectionConfig
  #limiter: RateLimiter
  readonly #pruner: Pruner<Candidate>
  /** The custom pruning order given at creation: it wins over `pruneStrategy`, also after updateConfig(). */
  readonly #pruneStrategy: PruneStrategy<PruneCandidate> | undefined
  readonly #dialQueue: DialQueue<ManagedConnection<Raw>>
  readonly #entries = new Map<number, Entry<Raw>>()
  readonly #listeners = new Set<Listener>()
  readonly #reconnector: Reconnector
  #started = false
  #stopping: Promise<void> | undefined
  readonly #admission: InboundAdmission<Entry<Raw>>
  readonly #counters = new Counters(REFUSAL_REASONS)
  readonly #observers = new AdmissionObservers(error => { this.#reportError(error, 'observeAdmissions') })

  /**
   * @param init - the transport, the config and the hooks
   * @throws `InvalidConfigError` (from `@cm/config`) listing every problem of the config
   */
  constructor (init: ConnectionManagerInit<Raw>) {
    this.#transport = init.transport
    this.#upgrade = init.upgrade
    this.#onConnection = init.onConnection
    this.#onListenerError = init.onListenerError
    this.#closeDenied = init.closeDeniedConnections ?? true
    this.#clock = init.clock ?? systemClock
    this.#limiterClock = new DecisionClock(this.#clock)
    this.#random = init.random ?? Math.random
    this.#config = resolveConfig(init.config)
    const config = this.#config
    // Stryker disable next-line ConditionalExpression: the emitter reads an undefined onListenerError as absent; the option is left out to keep the object exact
    this.events = new SafeEventEmitter<ConnectionManagerEvents>(init.onListenerError === undefined ? {} : { onListenerError: init.onListenerError })
    this.connections = createConnectionTracker({
      clock: this.#clock,
      connectionHistorySize: config.connectionHistorySize,
      events: this.events,
      // Stryker disable next-line ConditionalExpression,ObjectLiteral,EqualityOperator: the tracker dispatches through the emitter above, which already reports a listener's error to onListenerError
      ...(init.onListenerError === undefined ? {} : { onListenerError: init.onListenerError })
    })
    this.gate = createGate({ ...gateOptionsFrom(config), clock: this.#clock })
    this.#limiter = this.#createLimiter(config)
    this.#pruneStrategy = init.pruneStrategy
    this.#pruner = new Pruner<Candidate>({
      config,
      clock: this.#clock,
      // Stryker disable next-line ConditionalExpression: the pruner reads an undefined strategy as absent; the option is left out to keep the object exact (`true`, which drops a custom strategy, is killed, hidden by this comment)
      ...(this.#pruneStrategy === undefined ? {} : { strategy: this.#pruneStrategy }),
      connections: peer => pruneCandidates(this.connections, this.#entries, peer),
      close: async (victim, context) => await this.#closeVictim(victim, context.reason)
    })
    this.protection = this.#pruner.protection
    this.#dialQueue = new DialQueue({ maxParallelDials: config.maxParallelDials, maxDialQueueLength: config.maxDialQueueLength }, this.#clock)
    this.#admission = new InboundAdmission<Entry<Raw>>({
      gate: this.gate,
      clock: this.#limiterClock,
      config: () => this.#config,
      limiter: () => this.#limiter,
      held: () => this.connections.count(),
      deny: (remote, reason, rule, retryAfterMs) => this.#deny('inbound', remote, undefined, reason, rule, retryAfterMs),
      evict: entry => { this.#failPending(entry, 'limit', undefined) }
    })
    this.#reconnector = new Reconnector({
      config: () => this.#config,
      random: this.#random,
      dial: async (address, peer, signal) => await this.dial(address, { peer, keepAlive: true, signal }),
      running: () => this.#started,
      events: this.events
    })
  }

  /** The config in force. */
  get config (): ConnectionConfig {
    return this.#config
  }

  /** Whether the manager is started. */
  get started (): boolean {
    return this.#started
  }

  /**
   * Starts the manager: it accepts connections (from `listen` and `accept`) and dials.
   *
   * @example
   * ```ts
   * import { createConnectionManager } from '@cm/manager'
   * import { tcp } from '@cm/manager/tcp'
   *
   * const manager = createConnectionManager({ transport: tcp() })
   * await manager.start()
   * await manager.stop()
   * ```
   */
  async start (): Promise<void> {
    // Stryker disable next-line ConditionalExpression,BlockStatement: a fast path: starting again starts the pruner again, which is a no-op, and leaves #started true
    if (this.#started) {
      return
    }
    await this.#stopping
    this.#pruner.start()
    this.#started = true
  }

  /**
   * Stops the manager: stops listening, aborts queued and running dials, cancels pending
   * reconnects, and closes every connection it holds (gracefully, each destroyed after
   * `connectionCloseTimeout`). Leaves no timer or socket behind. Idempotent; concurrent
   * calls share one stop.
   *
   * @example
   * ```ts
   * import { createConnectionManager } from '@cm/manager'
   * import { tcp } from '@cm/manager/tcp'
   *
   * const manager = createConnectionManager({ transport: tcp() })
   * await manager.start()
   * await Promise.all([manager.stop(), manager.stop()])
   * ```
   */
  async stop (): Promise<void> {
    // Stryker disable next-line ConditionalExpression,BlockStatement: with the manager stopped there is nothing left to stop (no listener, upgrade, dial or connection), and a stop under way is awaited either way
    if (!this.#started) {
      await this.#stopping
      return
    }
    this.#started = false
    const reason = new ManagerStoppedError()
    this.#stopping = (async () => {
      // Each upgrade and dial has its own controller (see Deadline): abort them one by one.
      for (const entry of this.#entries.values()) {
        entry.pendingController?.abort(reason)
      }
      this.#dialQueue.abortAll(reason)
      this.#reconnector.cancelAll()
      await this.#pruner.stop()
      const listeners = [...this.#listeners]
      this.#listeners.clear()
      await Promise.allSettled(listeners.map(async listener => { await listener.close() }))
      await Promise.allSettled([...this.#entries.values()].map(async entry => { await this.#close(entry, 'shutdown') }))
    })()
    await this.#stopping
  }

  /**
   * Listens on an address (for TCP: `/ip4/127.0.0.1/tcp/0`), passing every connection
   * through admission.
   *
   * @param address - the address to listen on
   * @returns the listener, with the addresses it listens on
   * @throws {@link NotStartedError} when the manager is not started
   */
  async listen (address: string): Promise<Listener> {
    if (!this.#started) {
      throw new NotStartedError('listen')
    }
    const listener = await this.#transport.listen(address, raw => { void this.accept(raw) })
    this.#listeners.add(listener)
    return {
      addresses: listener.addresses,
      close: async () => {
        this.#listeners.delete(listener)
        await listener.close()
      }
    }
  }

  /**
   * Decides on an inbound raw connection, as `listen` does for its own: the admission
   * checks run at once, in order (deny list, exclusive allow list, pending-inbound limit,
   * per-host rate limit, `maxConnections`); a refused connection is destroyed at once and
   * reported by `connection:deny`. An admitted one is tracked as pending, upgraded, then
   * opened and handed to `onConnection`. Use it to manage the sockets of a server you
   * create yourself: `net.createServer(socket => manager.accept(socket))`.
   *
   * @param raw - the accepted connection
   * @returns what became of it: `open` (with the connection), `refused` (with the reason,
   *   as `connection:deny` reports it) or `closed` (admitted, then closed before it opened:
   *   the record says why)
   */
  async accept (raw: Raw): Promise<AcceptResult<Raw>> {
    const remote = this.#transport.remoteAddress(raw)
    const admission = this.#started ? this.#admission.decide(remote) : this.#deny('inbound', remote, undefined, 'not-started')
    if (typeof admission !== 'number') {
      this.#transport.abort(raw)
      return { outcome: 'refused', refusal: admission }
    }
    const trusted = admission === TRUSTED
    const record = this.connections.add({ direction: 'inbound', remoteAddress: remote.multiaddr, remoteIp: remote.ip })
    const entry = this.#track(record, remote, trusted)
    entry.raw = raw
    if (!trusted) {
      entry.pressure = admission
      this.#admission.slots.add(entry)
    }
    this.#transport.onClose(raw, error => { this.#onRawClose(entry, error) })
    const notify = this.#observers.notify
    if (notify !== undefined) {
      try {
        notify(remote, trusted)
      } catch (error) {
        this.#reportError(error, 'observeAdmissions')
      }
    }
    if (this.#upgrade === undefined) {
      // Nothing to wait for: no timer, no signal.
      return this.#acceptOutcome(entry, this.#open(entry, undefined))
    }
    entry.pendingController = new AbortController()
    const deadline = new Deadline(this.#config.inboundUpgradeTimeout, entry.pendingController)
    try {
      const result = await this.#upgrade(raw, { direction: 'inbound', remoteAddress: remote, signal: deadline.signal })
      deadline.signal.throwIfAborted()
      return this.#acceptOutcome(entry, this.#open(entry, result ?? undefined))
    } catch (error) {
      this.#failPending(entry, deadline.expired ? 'timeout' : this.#started ? 'error' : 'shutdown', error)
      return { outcome: 'closed', record: entry.record }
    } finally {
      deadline.clear()
    }
  }

  /**
   * Registers an {@link AdmissionObserver}: a function told, synchronously, of every
   * inbound connection admission lets in (`accept` and `listen`), with its remote end and
   * whether it is trusted, before its upgrade. It is the cheap alternative to a
   * `connection:pending` listener for counting attempts per host: one function call per
   * admitted connection, and nothing on the accept path while none is registered. An
   * observer that throws is reported to `onListenerError`; the connection goes on.
   *
   * @param observer - the function to call
   * @returns a function that removes this registration (idempotent)
   * @throws `InvalidConfigError` (from `@cm/config`) when `observer` is not a function
   *
   * @example
   * ```ts
   * import { createConnectionManager } from '@cm/manager'
   * import { tcp } from '@cm/manager/tcp'
   *
   * const manager = createConnectionManager({ transport: tcp() })
   * let admitted = 0
   * const remove = manager.observeAdmissions((remote, trusted) => {
   *   if (!trusted) admitted++
   * })
   * await manager.start()
   * await manager.listen('/ip4/127.0.0.1/tcp/0')
   * remove()
   * await manager.stop()
   * ```
   */
  observeAdmissions (observer: AdmissionObserver): () => void {
    return this.#observers.add(observer)
  }

  /**
   * Dials an address through the dial queue: the gate is consulted before any socket is
   * opened; at most `maxParallelDials` dials run and `maxDialQueueLength` wait (beyond, a
   * `DialQueueFullError` at once); concurrent dials to the same address or peer are joined;
   * each attempt is bounded by `dialTimeout`; `signal` cancels it, queued or running.
   *
   * @param address - the multiaddr to dial (a final `/p2p/<id>` names the peer)
   * @param options - peer, priority, signal, keep-alive
   * @returns the open connection
   * @throws {@link NotStartedError}, {@link DialDeniedError}, `DialQueueFullError`,
   *   {@link DialTimeoutError}, {@link ConnectionRefusedError}, the transport's error, or
   *   `signal.reason` (as rejections)
   *
   * @example
   * ```ts
   * import { createConnectionManager } from '@cm/manager'
   * import { tcp } from '@cm/manager/tcp'
   *
   * const manager = createConnectionManager({ transport: tcp(), config: { dialTimeout: 5_000 } })
   * await manager.start()
   * try {
   *   const connection = await manager.dial('/ip4/127.0.0.1/tcp/4001', { priority: 75 })
   *   connection.raw.end()
   * } catch (error) {
   *   console.error(error)
   * }
   * await manager.stop()
   * ```
   */
  async dial (address: string | Multiaddr, options: DialOptions = {}): Promise<ManagedConnection<Raw>> {
    if (!this.#started) {
      throw new NotStartedError('dial')
    }
    options.signal?.throwIfAborted()
    const text = address.toString()
    const peer = options.peer ?? readMultiaddr(text)?.peerId
    this.#checkDial(text, peer)
    const keys = peer === undefined ? [text] : [text, `/p2p/${peer}`]
    const connection = await this.#dialQueue.dial(keys, async signal => await this.#runDial(text, peer, signal), {
      priority: options.priority ?? DEFAULT_DIAL_PRIORITY,
      signal: options.signal
    })
    if (options.keepAlive === true) {
      this.setKeepAlive(connection, true)
    }
    return connection
  }

  /**
   * Reports the peer of a connection once it is known (if the upgrade did not), then
   * applies the peer rules: a peer the gate denies is closed (`peer-denied`), and a peer
   * over `maxConnectionsPerPeer` has its surplus pruned.
   *
   * @param connection - an open connection
   * @param peer - its peer ID
   * @returns whether the connection may stay
   */
  identify (connection: ManagedConnection<Raw> | number, peer: string): boolean {
    const entry = this.#entries.get(typeof connection === 'number' ? connection : connection.id)
    if (entry === undefined || entry.record.state !== 'open') {
      return false
    }
    this.connections.identify(entry.record.id, peer)
    return this.#applyPeerRules(entry)
  }

  /**
   * Closes a connection gracefully (see {@link ManagedConnection.close}). A local close
   * never triggers a reconnect, and cancels reconnects pending for the same address or
   * peer.
   *
   * @param connection - the connection or its ID
   * @param reason - the close reason recorded @default 'local'
   */
  async close (connection: ManagedConnection<Raw> | number, reason: CloseReason = 'local'): Promise<void> {
    const entry = this.#entries.get(typeof connection === 'number' ? connection : connection.id)
    if (entry === undefined) {
      return
    }
    entry.keepAlive = undefined
    this.#reconnector.cancelFor(entry.remote.multiaddr, entry.record.peer)
    await this.#close(entry, reason)
  }

  /**
   * Marks an outbound connection keep-alive (or not): after an unexpected close it is
   * redialled up to `reconnectRetries` times, with backoff.
   *
   * @param connection - an outbound connection
   * @param keepAlive - whether to redial it
   * @throws `CmError` for an inbound connection (its remote port cannot be dialled)
   */
  setKeepAlive (connection: ManagedConnection<Raw> | number, keepAlive: boolean): void {
    const entry = this.#entries.get(typeof connection === 'number' ? connection : connection.id)
    if (entry === undefined) {
      return
    }
    if (entry.direction !== 'outbound') {
      throw new CmError('Only outbound connections can be kept alive: an inbound connection\'s remote port cannot be dialled')
    }
    entry.keepAlive = keepAlive ? { address: entry.remote.multiaddr, peer: entry.record.peer } : undefined
  }

  /**
   * Sets a tag on a connection (name to numeric value). The pruner's `least-valuable`
   * strategy closes the connections with the lowest total tag value first.
   *
   * @param connection - the connection or its ID
   * @param name - the tag's name
   * @param value - its value
   */
  tag (connection: ManagedConnection<Raw> | number, name: string, value: number): void {
    this.connections.tag(typeof connection === 'number' ? connection : connection.id, name, value)
  }

  /**
   * Adds a deny rule at run time (optionally a ban that lapses after `ttl` ms) and, unless
   * `closeDeniedConnections` is false, closes the connections it matches.
   *
   * @param entry - an IP, CIDR range, multiaddr or peer ID
   * @param options - `ttl` for a ban
   * @returns how many connections it closed
   * @throws `InvalidAddressError` (from `@cm/config`) when the entry is malformed
   */
  deny (entry: string, options: ManagerDenyOptions = {}): number {
    // Stryker disable next-line ConditionalExpression: the gate reads an undefined ttl as none; the option is left out to keep the object exact (`true`, which drops the ttl, is killed, hidden by this comment)
    this.gate.deny(entry, options.ttl === undefined ? {} : { ttl: options.ttl })
    return this.#closeDenied ? this.#closeNowDenied() : 0
  }

  /**
   * Changes the config while running. The change is validated like at start (one
   * `InvalidConfigError` listing every problem; nothing changes then) and takes effect at
   * once: lists and directions on the gate (rules added at run time with `deny` stay),
   * the rate limiter's options (its state restarts), the dial queue's limits, the pruner's
   * options; a lower `maxConnections` or `maxConnectionsPerPeer` prunes; a new deny rule
   * closes the connections it matches (unless `closeDeniedConnections` is false).
   *
   * @param change - the options to change
   * @returns the options that changed
   * @throws `InvalidConfigError` (from `@cm/config`)
   *
   * @example
   * ```ts
   * import { createConnectionManager } from '@cm/manager'
   * import { tcp } from '@cm/manager/tcp'
   *
   * const manager = createConnectionManager({ transport: tcp() })
   * await manager.start()
   * manager.updateConfig({ maxConnections: 10, denyList: ['192.0.2.0/24'] })
   * await manager.stop()
   * ```
   */
  updateConfig (change: ConnectionConfigInit): Array<keyof ConnectionConfig> {
    const previous = this.#config
    const next = updateConfig(previous, change)
    const changed = changedOptions(previous, next)
    if (changed.length === 0) {
      return changed
    }
    this.#config = next
    applyGateChanges(this.gate, previous, next, changed)
    if (changed.includes('inboundConnectionThreshold') || changed.includes('rateLimit')) {
      this.#limiter = this.#createLimiter(next)
    }
    this.#dialQueue.setLimits({ maxParallelDials: next.maxParallelDials, maxDialQueueLength: next.maxDialQueueLength })
    // The pruner drops a custom strategy when given pruneStrategy alone: give it back.
    // Stryker disable next-line ConditionalExpression: the pruner reads an undefined strategy as absent, the default (`true`, which drops a custom strategy, is killed, hidden by this comment)
    this.#pruner.updateConfig(this.#pruneStrategy === undefined ? next : { ...next, strategy: this.#pruneStrategy })
    this.events.safeDispatchEvent('config:change', { detail: { config: next, changed } })
    if (this.#closeDenied && narrowsGate(changed)) {
      this.#closeNowDenied()
    }
    this.#maybePrune()
    return changed
  }

  /**
   * A snapshot of the manager's figures (plain JSON), for monitoring endpoints and metrics
   * exporters.
   *
   * @example
   * ```ts
   * import { createConnectionManager } from '@cm/manager'
   * import { tcp } from '@cm/manager/tcp'
   *
   * const manager = createConnectionManager({ transport: tcp() })
   * console.log(JSON.stringify(manager.metrics()))
   * ```
   */
  metrics (): ManagerMetrics {
    return snapshotMetrics({
      connections: this.connections,
      pendingSlots: this.#admission.slots,
      counters: this.#counters,
      dialQueue: this.#dialQueue.stats(),
      reconnects: this.#reconnector.figures(),
      rateLimit: this.#limiter.stats(),
      gate: this.gate
    })
  }

  #createLimiter (config: ConnectionConfig): RateLimiter {
    return createRateLimiter({ ...rateLimiterOptionsFrom(config), clock: this.#limiterClock })
  }

  #acceptOutcome (entry: Entry<Raw>, opened: boolean): AcceptResult<Raw> {
    if (opened) {
      // #open returned true: it made the managed connection.
      return { outcome: 'open', connection: entry.managed as ManagedConnection<Raw> }
    }
    return entry.refusal === undefined ? { outcome: 'closed', record: entry.record } : { outcome: 'refused', refusal: entry.refusal }
  }

  /** The gate's verdict on a dial; throws (and reports) a refusal. */
  #checkDial (address: string, peer: string | undefined): GateVerdict {
    // The gate takes an undefined peer as none.
    const verdict: GateVerdict = this.gate.check(address, { direction: 'outbound', peer })
    if (!verdict.allowed) {
      const remote = { ip: readMultiaddr(address)?.ip, multiaddr: address }
      this.#deny('outbound', remote, peer, verdict.reason, verdict.rule)
      throw new DialDeniedError(address, verdict.reason, verdict.rule)
    }
    return verdict
  }

  /** Counts and reports a refusal; returns its detail. */
  #deny (direction: 'inbound' | 'outbound', remote: RemoteAddress, peer: string | undefined, reason: RefusalReason, rule?: string, retryAfterMs?: number): ConnectionDenyDetail {
    this.#counters.refused[reason]++
    const detail: ConnectionDenyDetail = { direction, remoteAddress: remote.multiaddr, remoteIp: remote.ip, peer, reason, rule, retryAfterMs }
    // Stryker disable next-line EqualityOperator,ConditionalExpression: a fast path; an event nobody listens to is not seen
    if (this.events.listenerCount('connection:deny') > 0) {
      this.events.safeDispatchEvent('connection:deny', { detail })
    }
    return detail
  }

  #track (record: ConnectionRecord, remote: RemoteAddress, trusted: boolean): Entry<Raw> {
    const entry: Entry<Raw> = {
      record,
      direction: record.direction,
      remote,
      raw: undefined,
      managed: undefined,
      trusted,
      pressure: 0,
      pendingController: undefined,
      closing: undefined,
      keepAlive: undefined,
      refusal: undefined
    }
    this.#entries.set(record.id, entry)
    return entry
  }

  async #runDial (address: string, peer: string | undefined, jobSignal: AbortSignal): Promise<ManagedConnection<Raw>> {
    // The rules may have changed while the dial waited in the queue.
    const gateVerdict = this.#checkDial(address, peer)
    // Stryker disable next-line OptionalChaining: #checkDial refused (invalid-address) every address readMultiaddr() cannot read
    const remote: RemoteAddress = { ip: readMultiaddr(address)?.ip, multiaddr: address }
    const record = this.connections.add({
      direction: 'outbound',
      remoteAddress: address,
      // Stryker disable next-line ConditionalExpression,EqualityOperator,ObjectLiteral: a fast path; without it the tracker reads the same IP from the address
      ...(remote.ip === undefined ? {} : { remoteIp: remote.ip }),
      // Stryker disable next-line ConditionalExpression: the tracker takes an undefined peer as none (`true`, no peer at all, is killed by the tests, hidden by this comment)
      ...(peer === undefined ? {} : { peer })
    })
    const entry = this.#track(record, remote, gateVerdict.allowed && gateVerdict.trusted)
    const controller = new AbortController()
    entry.pendingController = controller
    const deadline = new Deadline(this.#config.dialTimeout, controller)
    deadline.follow(jobSignal)
    const signal = deadline.signal
    try {
      const raw = await this.#transport.dial(address, { signal })
      entry.raw = raw
      this.#transport.onClose(raw, error => { this.#onRawClose(entry, error) })
      signal.throwIfAborted()
      const result = this.#upgrade === undefined ? undefined : await this.#upgrade(raw, { direction: 'outbound', remoteAddress: this.#transport.remoteAddress(raw), signal })
      signal.throwIfAborted()
      // The record already names the dialled peer: only an upgrade's own peer is news.
      if (!this.#open(entry, result ?? undefined)) {
        // Stryker disable next-line StringLiteral: a record that left pending has its close reason; the fallback is for the type
        throw new ConnectionRefusedError(address, entry.record.closeReason ?? 'closed')
      }
      // #open returned true: it made the managed connection.
      return entry.managed as ManagedConnection<Raw>
    } catch (error) {
      const stopped = !this.#started
      const timedOut = deadline.expired && !jobSignal.aborted && !stopped
      const failure = timedOut ? new DialTimeoutError(address, this.#config.dialTimeout) : error
      if (entry.record.state === 'pending') {
        this.#counters.dialFailures++
        let reason: CloseReason = timedOut ? 'timeout' : jobSignal.aborted ? 'aborted' : 'error'
        // stop() aborts the dial's job too: a stopping node is 'shutdown', not the caller's abort.
        // Stryker disable next-line StringLiteral: stop() closes the record as 'shutdown' itself just after; an empty reason, which the tracker refuses, changes nothing a caller sees
        if (stopped) reason = 'shutdown'
        this.#failPending(entry, reason, failure)
      }
      throw failure
    } finally {
      deadline.clear()
    }
  }

  /** Moves a pending connection to open and applies the peer rules; false if it did not stay. */
  #open (entry: Entry<Raw>, result: UpgradeResult | undefined): boolean {
    if (entry.record.state !== 'pending') {
      return false
    }
    const raw = entry.raw
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: type narrowing; accept() and #runDial set raw before they open
    if (raw === undefined) return false
    this.#releasePending(entry)
    entry.managed = new Managed(entry.record, raw, this)
    // Identified before it opens, so that `connection:open` listeners see the peer.
    if (result?.peer !== undefined) {
      this.connections.identify(entry.record.id, result.peer)
    }
    this.connections.open(entry.record.id)
    this.#counters.opened[entry.direction]++
    // Stryker disable next-line ConditionalExpression,BlockStatement: a fast path; the state check below also returns false, and the prune pass in between closes only what is over its threshold (hides the killed `true` variant)
    if (!this.#applyPeerRules(entry)) {
      return false
    }
    this.#maybePrune()
    if (stateOf(entry) !== 'open') {
      return false
    }
    if (this.#onConnection !== undefined) {
      try {
        this.#onConnection(entry.managed)
      } catch (error) {
        this.#reportError(error, 'connection:open')
      }
    }
    return true
  }

  /** The peer deny check and the per-peer limit; false if the connection was closed. */
  #applyPeerRules (entry: Entry<Raw>): boolean {
    const peer = entry.record.peer
    if (peer === undefined) {
      return true
    }
    const verdict = this.gate.check(entry.remote.ip ?? entry.remote.multiaddr, { peer, direction: entry.direction })
    if (!verdict.allowed) {
      entry.refusal = this.#deny(entry.direction, entry.remote, peer, 'peer-denied', verdict.rule)
      void this.#close(entry, 'denied')
      return false
    }
    entry.trusted = verdict.trusted
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ObjectLiteral: a fast path; the pruner's per-peer pass closes only what is over maxConnectionsPerPeer
    if (this.connections.count({ state: 'open', peer }) > this.#config.maxConnectionsPerPeer) {
      void this.#prune(peer)
    }
    return entry.record.state === 'open'
  }

  #maybePrune (): void {
    // Stryker disable next-line ConditionalExpression,ObjectLiteral: a fast path; a prune pass closes only what is over its own threshold, among open connections
    if (this.#pruner.needsPruning(this.connections.count({ state: 'open' }))) {
      void this.#prune(undefined)
    }
  }

  async #prune (peer: string | undefined): Promise<void> {
    try {
      await this.#pruner.prune({ peer })
    } catch (error) {
      if (this.#started) {
        this.#reportError(error, 'connection:prune')
      }
    }
  }

  async #closeVictim (victim: Candidate, reason: PruneReason): Promise<boolean> {
    const entry = this.#entries.get(victim.id)
    // Stryker disable next-line OptionalChaining: a victim already gone would throw instead; the pruner counts a close that throws as not done, the same as false
    if (entry?.record.state !== 'open') {
      return false
    }
    this.#counters.pruned[reason]++
    entry.keepAlive = undefined
    const closing = this.#close(entry, 'pruned')
    // Stryker disable next-line EqualityOperator,ConditionalExpression: a fast path; an event nobody listens to is not seen
    if (this.events.listenerCount('connection:prune') > 0) {
      this.events.safeDispatchEvent('connection:prune', { detail: { connection: entry.record, reason } })
    }
    await closing
    return true
  }

  /** Closes the open connections the gate no longer admits; returns how many. */
  #closeNowDenied (): number {
    let closed = 0
    for (const entry of [...this.#entries.values()]) {
      const state = entry.record.state
      if (state !== 'open' && state !== 'pending') {
        continue
      }
      const peer = entry.record.peer
      const verdict = this.gate.check(entry.remote.ip ?? entry.remote.multiaddr, { peer, direction: entry.direction })
      if (!verdict.allowed) {
        // Only a deny-list verdict names a rule, and it always does.
        this.#deny(entry.direction, entry.remote, peer, peer !== undefined && verdict.rule === peer ? 'peer-denied' : verdict.reason, verdict.rule)
        entry.keepAlive = undefined
        void this.#close(entry, 'denied')
        closed++
      }
    }
    return closed
  }

  #releasePending (entry: Entry<Raw>): void {
    this.#admission.slots.release(entry)
  }

  /** A pending connection failed (upgrade error, timeout, abort): release and close it. */
  #failPending (entry: Entry<Raw>, reason: CloseReason, error: unknown): void {
    this.#releasePending(entry)
    entry.pendingController?.abort()
    // Record the close first: destroying the socket reports a close of its own.
    // Stryker disable next-line ConditionalExpression: the record is pending or already closed here, and the tracker ignores a second close
    if (entry.record.state === 'pending') {
      this.connections.close(entry.record.id, reason, error instanceof Error ? error : undefined)
    }
    this.#entries.delete(entry.record.id)
    if (entry.raw !== undefined) {
      this.#transport.abort(entry.raw)
    }
  }

  /** The raw connection closed (by the remote, an error, or our own close). */
  #onRawClose (entry: Entry<Raw>, error: Error | undefined): void {
    if (entry.closing !== undefined || entry.record.state === 'closed') {
      return
    }
    const reason: CloseReason = error === undefined ? 'remote' : 'error'
    if (entry.record.state === 'pending') {
      this.#failPending(entry, reason, error)
      return
    }
    this.connections.close(entry.record.id, reason, error)
    this.#entries.delete(entry.record.id)
    const keepAlive = entry.keepAlive
    if (keepAlive !== undefined && this.#started) {
      this.#reconnector.schedule(keepAlive.address, keepAlive.peer, 1, error)
    }
  }

  /** Closes a connection: pending ones at once, open ones gracefully with a timeout. */
  async #close (entry: Entry<Raw>, reason: CloseReason): Promise<void> {
    if (entry.closing !== undefined) {
      await entry.closing
      return
    }
    const state = entry.record.state
    // Stryker disable next-line ConditionalExpression,StringLiteral,BlockStatement: an entry leaves #entries as its record closes, and every caller reaches #close through #entries or an open-state check
    if (state === 'closed') {
      return
    }
    if (state === 'pending') {
      this.#failPending(entry, reason, undefined)
      return
    }
    this.connections.closing(entry.record.id, reason)
    const raw = entry.raw as Raw
    entry.closing = (async () => {
      const timeout = new Deadline(this.#config.connectionCloseTimeout)
      try {
        await this.#transport.close(raw, { signal: timeout.signal })
        this.connections.close(entry.record.id, reason)
      } catch (error) {
        this.#counters.closeTimeouts++
        this.#transport.abort(raw)
        this.connections.close(entry.record.id, 'timeout', error instanceof Error ? error : undefined)
      } finally {
        timeout.clear()
        this.#entries.delete(entry.record.id)
      }
    })()
    await entry.closing
  }

  #reportError (error: unknown, type: string): void {
    const report = this.#onListenerError ?? ((failure: unknown) => { console.error(`@cm/manager: ${type}`, failure) })
    try {
      report(error, new Event(type))
    } catch {
      // A failing error handler has nowhere left to report to.
    }
  }
}

/**
 * Creates a {@link ConnectionManager}.
 *
 * @param init - the transport, the config and the hooks
 * @throws `InvalidConfigError` (from `@cm/config`) listing every problem of the config
 *
 * @example
 * ```ts
 * import { createConnectionManager } from '@cm/manager'
 * import { tcp } from '@cm/manager/tcp'
 *
 * const manager = createConnectionManager({
 *   transport: tcp(),
 *   config: { maxConnections: 100, maxConnectionsPerPeer: 2, inboundConnectionThreshold: 10 }
 * })
 * await manager.start()
 * await manager.listen('/ip4/127.0.0.1/tcp/0')
 * await manager.stop()
 * ```
 */
export function createConnectionManager<Raw> (init: ConnectionManagerInit<Raw>): ConnectionManager<Raw> {
  return new ConnectionManager(init)
}
