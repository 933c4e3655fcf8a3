import {
  changedOptions,
  CmError,
  readMultiaddr,
  resolveConfig,
  SafeEventEmitter,
  systemClock,
  updateConfig
} from '@cm/config'
import { createGate } from '@cm/gate'
import { Pruner } from '@cm/pruner'
import { createRateLimiter } from '@cm/rate-limit'
import { createConnectionTracker } from '@cm/state'
import { backoffDelay } from './backoff.ts'
import { Deadline } from './deadline.ts'
import { DEFAULT_DIAL_PRIORITY, DialQueue } from './dial-queue.ts'
import { ConnectionRefusedError, DialDeniedError, DialTimeoutError, ManagerStoppedError, NotStartedError } from './errors.ts'
import { REFUSAL_REASONS } from './events.ts'
import type { ConnectionDenyDetail, ConnectionManagerEvents, RefusalReason } from './events.ts'
import type { Listener, RemoteAddress, Transport } from './transport.ts'
import type { Clock, ConnectionConfig, ConnectionConfigInit, ListenerErrorHandler } from '@cm/config'
import type { DefaultGate, GateVerdict } from '@cm/gate'
import type { PruneCandidate, PruneReason, PruneStrategy, ProtectionRegistry } from '@cm/pruner'
import type { RateLimiter, RateLimiterStats } from '@cm/rate-limit'
import type { CloseReason, ConnectionRecord, ConnectionState, ConnectionTracker } from '@cm/state'
import type { Multiaddr } from '@multiformats/multiaddr'

/** What an upgrade (a handshake) learnt about the remote end. */
export interface UpgradeResult {
  /** The remote peer's ID, once authenticated. */
  readonly peer?: string | undefined
}

/** What an upgrade is told. */
export interface UpgradeContext {
  /** Which side opened the connection. */
  readonly direction: 'inbound' | 'outbound'
  /** The remote end. */
  readonly remoteAddress: RemoteAddress
  /**
   * Aborts when the upgrade takes too long (`inboundUpgradeTimeout` inbound, `dialTimeout`
   * outbound), when the connection closes, or when the manager stops.
   */
  readonly signal: AbortSignal
}

/**
 * Turns an accepted or dialled raw connection into an open one: a handshake, an
 * authentication, protocol negotiation. Until it resolves the connection is pending (it
 * counts against `maxIncomingPendingConnections` inbound). A rejection closes it.
 */
export type Upgrade<Raw> = (raw: Raw, context: UpgradeContext) => Promise<UpgradeResult | undefined | void>

/** A connection the manager holds, as handed to the application. */
export interface ManagedConnection<Raw> {
  /** The tracker's ID of the connection. */
  readonly id: number
  /** The transport's connection (a `net.Socket` for TCP). */
  readonly raw: Raw
  /** The tracker's live, read-only record: state, timeline, peer, tags, close reason. */
  readonly record: ConnectionRecord
  /**
   * Closes the connection gracefully; after `connectionCloseTimeout` it is destroyed and
   * closed with reason `timeout`. Resolves when closed. Idempotent.
   */
  close(reason?: CloseReason): Promise<void>
}

/** The outcome of {@link ConnectionManager.accept}: open, refused, or closed before it opened. */
export type AcceptResult<Raw> = AcceptOpen<Raw> | AcceptRefused | AcceptClosed

/** An inbound connection that passed admission (and its upgrade) and is open. */
export interface AcceptOpen<Raw> {
  /** `'open'`. */
  readonly outcome: 'open'
  /** The open connection. */
  readonly connection: ManagedConnection<Raw>
}

/** An inbound connection refused by admission or, after its upgrade, by the peer rules. */
export interface AcceptRefused {
  /** `'refused'`. */
  readonly outcome: 'refused'
  /** Why, as `connection:deny` reported it. */
  readonly refusal: ConnectionDenyDetail
}

/** An admitted connection that closed before it was handed over (upgrade failed or timed out, remote close, stop, pruned at once). */
export interface AcceptClosed {
  /** `'closed'`. */
  readonly outcome: 'closed'
  /** The connection's record, with its close reason and error. */
  readonly record: ConnectionRecord
}

/** Options of {@link ConnectionManager.dial}. */
export interface DialOptions {
  /** The peer expected at the address (also read from a final `/p2p/<id>`). */
  readonly peer?: string | undefined
  /** Higher dials leave the queue first. @default 50 */
  readonly priority?: number | undefined
  /** Cancels this caller's dial, queued or running. */
  readonly signal?: AbortSignal | undefined
  /**
   * Redial this connection after it closes unexpectedly (a remote close or an error; never
   * after a local close, a prune or a deny), up to `reconnectRetries` times with backoff.
   * @default false
   */
  readonly keepAlive?: boolean | undefined
}

/** Options of {@link ConnectionManager.deny}. */
export interface ManagerDenyOptions {
  /** Milliseconds until the rule lapses by itself (a ban). */
  readonly ttl?: number | undefined
}

/** Everything a {@link ConnectionManager} is built from. */
export interface ConnectionManagerInit<Raw> {
  /** The transport: `tcp()` from `@cm/manager/tcp`, or your own. */
  readonly transport: Transport<Raw>
  /** The connection-management options (see `ConnectionConfig` in `@cm/config`). */
  readonly config?: ConnectionConfigInit | undefined
  /** The handshake run on every connection before it counts as open. @default none: open at once */
  readonly upgrade?: Upgrade<Raw> | undefined
  /** Called with every connection that opens (inbound and outbound). Errors it throws are reported, not raised. */
  readonly onConnection?: ((connection: ManagedConnection<Raw>) => void) | undefined
  /** A custom pruning order (wins over `pruneStrategy`); see `@cm/pruner`. */
  readonly pruneStrategy?: PruneStrategy<PruneCandidate> | undefined
  /**
   * Whether adding a deny rule at run time (by `updateConfig` or `deny`) also closes the
   * open connections it matches.
   * @default true
   */
  readonly closeDeniedConnections?: boolean | undefined
  /** The clock for timelines and wait times. @default systemClock */
  readonly clock?: Clock | undefined
  /** Where errors thrown by event listeners and `onConnection` go. @default console.error */
  readonly onListenerError?: ListenerErrorHandler | undefined
  /** Random numbers in [0, 1) for reconnect jitter. @default Math.random */
  readonly random?: (() => number) | undefined
}

/** Counts by direction. */
export interface DirectionFigures {
  /** Inbound. */
  readonly inbound: number
  /** Outbound. */
  readonly outbound: number
}

/** Connections by state and direction. */
export interface ConnectionFigures {
  /** Accepted or dialling, not yet open. */
  readonly pending: DirectionFigures
  /** Open. */
  readonly open: DirectionFigures
  /** Closing gracefully. */
  readonly closing: DirectionFigures
}

/** Inbound connections accepted and not yet open. */
export interface PendingInboundFigures {
  /** All of them. */
  readonly total: number
  /** Those that count against `maxIncomingPendingConnections` (trusted ones do not). */
  readonly limited: number
  /**
   * Pending connections closed (reason `limit`) to make room for a connection from a host
   * that had used less of its rate budget, since start.
   */
  readonly evicted: number
}

/** The dial queue's figures. */
export interface DialQueueFigures {
  /** Dials running now. */
  readonly running: number
  /** Dials waiting now. */
  readonly queued: number
  /** Dials refused because the queue was full, since start. */
  readonly refused: number
  /** Dials joined to one already queued or running, since start. */
  readonly joined: number
  /** Dials started, since start. */
  readonly started: number
  /** Mean milliseconds a started dial waited in the queue. */
  readonly meanWaitMs: number
  /** The longest wait of a started dial, milliseconds. */
  readonly maxWaitMs: number
}

/** Reconnection figures. */
export interface ReconnectFigures {
  /** Redials scheduled, since start. */
  readonly attempts: number
  /** Redials that succeeded, since start. */
  readonly successes: number
  /** Connections given up on, since start. */
  readonly failures: number
  /** Redials waiting for their delay now. */
  readonly scheduled: number
}

/** Rules on the gate's lists. */
export interface GateFigures {
  /** Deny rules. */
  readonly deny: number
  /** Allow rules. */
  readonly allow: number
  /** Trusted rules. */
  readonly trusted: number
}

/** A snapshot of the manager's figures, plain JSON, for monitoring. */
export interface ManagerMetrics {
  /** Connections by state and direction. */
  readonly connections: ConnectionFigures
  /** Inbound connections accepted but not yet open. */
  readonly pendingInbound: PendingInboundFigures
  /** Connections opened since start, by direction. */
  readonly opened: DirectionFigures
  /** Refusals since start, by reason. */
  readonly refused: Readonly<Record<RefusalReason, number>>
  /** The dial queue. */
  readonly dialQueue: DialQueueFigures
  /** Dials that failed (error or timeout), since start. */
  readonly dialFailures: number
  /** Connections pruned since start, by reason. */
  readonly pruned: Readonly<Record<PruneReason, number>>
  /** Reconnection since start. */
  readonly reconnects: ReconnectFigures
  /** Graceful closes that ran out of time and were destroyed, since start. */
  readonly closeTimeouts: number
  /** The rate limiter's own figures. */
  readonly rateLimit: RateLimiterStats
  /** Rules on the gate's lists. */
  readonly gate: GateFigures
}

interface Entry<Raw> {
  readonly record: ConnectionRecord
  readonly direction: 'inbound' | 'outbound'
  readonly remote: RemoteAddress
  raw: Raw | undefined
  managed: ManagedConnection<Raw> | undefined
  trusted: boolean
  /** Counted against maxIncomingPendingConnections (untrusted inbound, still pending). */
  limitedPending: boolean
  /**
   * For a limited pending connection: how much of its host's rate budget was used when it
   * arrived, its own attempt included (0 to 1, from `RateLimiter.usage`). When the pending
   * slots run out, the connection with the most gives way first.
   */
  pressure: number
  /** Counted as pending inbound at all. */
  pendingInbound: boolean
  /**
   * Aborted when the pending connection closes, to stop its upgrade or dial. Made only for
   * connections that have something to stop (an upgrade, a dial): most have not.
   */
  pendingController: AbortController | undefined
  closing: Promise<void> | undefined
  /** Where to redial after an unexpected close (outbound keep-alive connections). */
  keepAlive: { readonly address: string, readonly peer: string | undefined } | undefined
  /** The reconnect attempt this connection came from, if any. */
  reconnectAttempt: number
  /** Why the peer rules refused it, if they did. */
  refusal: ConnectionDenyDetail | undefined
}

interface PendingReconnect {
  readonly address: string
  readonly peer: string | undefined
  timer: ReturnType<typeof setTimeout> | undefined
  readonly controller: AbortController
}

type Candidate = PruneCandidate & { readonly entryId: number }

/** The {@link ManagedConnection} handed to the application: one object, no closure per connection. */
class Managed<Raw> implements ManagedConnection<Raw> {
  readonly id: number
  readonly raw: Raw
  readonly record: ConnectionRecord
  readonly #manager: ConnectionManager<Raw>

  constructor (record: ConnectionRecord, raw: Raw, manager: ConnectionManager<Raw>) {
    this.id = record.id
    this.raw = raw
    this.record = record
    this.#manager = manager
  }

  async close (reason?: CloseReason): Promise<void> {
    await this.#manager.close(this.id, reason)
  }
}

/** What `#admitInbound` returns for a trusted host: exempt from the limits, never evicted. */
const TRUSTED = -1

/** A connection's state, read afresh (calls in between may have changed it). */
const stateOf = (entry: { readonly record: ConnectionRecord }): ConnectionState => entry.record.state

const zeroReasons = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map(key => [key, 0])) as Record<K, number>

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
  readonly #random: () => number
  #config: ConnectionConfig
  #limiter: RateLimiter
  readonly #pruner: Pruner<Candidate>
  readonly #dialQueue: DialQueue<ManagedConnection<Raw>>
  readonly #entries = new Map<number, Entry<Raw>>()
  readonly #listeners = new Set<Listener>()
  readonly #reconnects = new Set<PendingReconnect>()
  #started = false
  #stopping: Promise<void> | undefined
  #pendingInbound = 0
  /** The limited pending inbound connections, oldest first. */
  readonly #limitedPending = new Set<Entry<Raw>>()
  #evicted = 0
  readonly #opened = { inbound: 0, outbound: 0 }
  readonly #refused = zeroReasons(REFUSAL_REASONS)
  readonly #pruned: Record<PruneReason, number> = { 'max-connections': 0, 'high-watermark': 0, 'max-connections-per-peer': 0 }
  readonly #reconnectCounts = { attempts: 0, successes: 0, failures: 0 }
  #dialFailures = 0
  #closeTimeouts = 0

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
    this.#random = init.random ?? Math.random
    this.#config = resolveConfig(init.config)
    const config = this.#config
    this.events = new SafeEventEmitter<ConnectionManagerEvents>(init.onListenerError === undefined ? {} : { onListenerError: init.onListenerError })
    this.connections = createConnectionTracker({
      clock: this.#clock,
      connectionHistorySize: config.connectionHistorySize,
      events: this.events,
      ...(init.onListenerError === undefined ? {} : { onListenerError: init.onListenerError })
    })
    this.gate = createGate({
      denyList: config.denyList,
      allowList: config.allowList,
      trustedList: config.trustedList,
      denyListDirection: config.denyListDirection,
      allowListDirection: config.allowListDirection,
      clock: this.#clock
    })
    this.#limiter = this.#createLimiter(config)
    this.#pruner = new Pruner<Candidate>({
      config,
      clock: this.#clock,
      ...(init.pruneStrategy === undefined ? {} : { strategy: init.pruneStrategy }),
      connections: peer => this.#candidates(peer),
      close: async (victim, context) => await this.#closeVictim(victim, context.reason)
    })
    this.protection = this.#pruner.protection
    this.#dialQueue = new DialQueue({ maxParallelDials: config.maxParallelDials, maxDialQueueLength: config.maxDialQueueLength }, this.#clock)
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
      for (const pending of this.#reconnects) {
        this.#cancelReconnect(pending)
      }
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
    const admission = this.#started ? this.#admitInbound(remote) : this.#deny('inbound', remote, undefined, 'not-started')
    if (typeof admission !== 'number') {
      this.#transport.abort(raw)
      return { outcome: 'refused', refusal: admission }
    }
    const trusted = admission === TRUSTED
    const record = this.connections.add({ direction: 'inbound', remoteAddress: remote.multiaddr, remoteIp: remote.ip })
    const entry = this.#track(record, remote, trusted)
    entry.raw = raw
    entry.pendingInbound = true
    this.#pendingInbound++
    if (!trusted) {
      entry.limitedPending = true
      entry.pressure = admission
      this.#limitedPending.add(entry)
    }
    this.#transport.onClose(raw, error => { this.#onRawClose(entry, error) })
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
    for (const pending of this.#reconnects) {
      if (pending.address === entry.remote.multiaddr || (pending.peer !== undefined && pending.peer === entry.record.peer)) {
        this.#cancelReconnect(pending)
      }
    }
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
    const has = (name: keyof ConnectionConfig): boolean => changed.includes(name)
    for (const [list, name] of [['deny', 'denyList'], ['allow', 'allowList'], ['trusted', 'trustedList']] as const) {
      if (has(name)) {
        const before = new Set(previous[name])
        const after = new Set(next[name])
        for (const entry of before) {
          if (!after.has(entry)) this.gate.remove(list, entry)
        }
        for (const entry of after) {
          if (!before.has(entry)) {
            if (list === 'deny') this.gate.deny(entry)
            else if (list === 'allow') this.gate.allow(entry)
            else this.gate.trust(entry)
          }
        }
      }
    }
    if (has('denyListDirection')) this.gate.setDirection('deny', next.denyListDirection)
    if (has('allowListDirection')) this.gate.setDirection('allow', next.allowListDirection)
    if (has('inboundConnectionThreshold') || has('rateLimit')) {
      this.#limiter = this.#createLimiter(next)
    }
    this.#dialQueue.setLimits({ maxParallelDials: next.maxParallelDials, maxDialQueueLength: next.maxDialQueueLength })
    this.#pruner.updateConfig(next)
    this.events.safeDispatchEvent('config:change', { detail: { config: next, changed } })
    if (this.#closeDenied && (has('denyList') || has('allowList') || has('denyListDirection') || has('allowListDirection'))) {
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
    const count = (state: 'pending' | 'open' | 'closing'): DirectionFigures => ({
      inbound: this.connections.count({ state, direction: 'inbound' }),
      outbound: this.connections.count({ state, direction: 'outbound' })
    })
    const queue = this.#dialQueue.stats()
    return {
      connections: { pending: count('pending'), open: count('open'), closing: count('closing') },
      pendingInbound: { total: this.#pendingInbound, limited: this.#limitedPending.size, evicted: this.#evicted },
      opened: { ...this.#opened },
      refused: { ...this.#refused },
      dialQueue: {
        running: queue.running,
        queued: queue.queued,
        refused: queue.refused,
        joined: queue.joined,
        started: queue.started,
        meanWaitMs: queue.started === 0 ? 0 : queue.totalWaitMs / queue.started,
        maxWaitMs: queue.maxWaitMs
      },
      dialFailures: this.#dialFailures,
      pruned: { ...this.#pruned },
      reconnects: { ...this.#reconnectCounts, scheduled: this.#reconnects.size },
      closeTimeouts: this.#closeTimeouts,
      rateLimit: this.#limiter.stats(),
      gate: { deny: this.gate.size('deny'), allow: this.gate.size('allow'), trusted: this.gate.size('trusted') }
    }
  }

  #createLimiter (config: ConnectionConfig): RateLimiter {
    return createRateLimiter({ threshold: config.inboundConnectionThreshold, ...config.rateLimit, clock: this.#clock })
  }

  #acceptOutcome (entry: Entry<Raw>, opened: boolean): AcceptResult<Raw> {
    if (opened && entry.managed !== undefined) {
      return { outcome: 'open', connection: entry.managed }
    }
    return entry.refusal === undefined ? { outcome: 'closed', record: entry.record } : { outcome: 'refused', refusal: entry.refusal }
  }

  /**
   * Runs the inbound admission checks, in order: the gate (deny list, exclusive allow list;
   * trusted hosts are admitted here), the rate limit (so that every later refusal is
   * charged to the host's budget), then the pending slots and `maxConnections`. When either
   * is full, the pending connection whose host had used the most of its rate budget gives
   * way (see {@link #pendingVictim}); a refusal then costs the host a second attempt.
   * Returns the admitted connection's pressure (see {@link #pressure}), {@link TRUSTED}, or
   * the refusal.
   */
  #admitInbound (remote: RemoteAddress): number | ConnectionDenyDetail {
    const verdict = this.gate.check(remote.ip ?? remote.multiaddr, { direction: 'inbound' })
    if (!verdict.allowed) {
      return this.#deny('inbound', remote, undefined, verdict.reason, verdict.rule)
    }
    if (verdict.trusted) {
      return TRUSTED
    }
    const config = this.#config
    if (remote.ip !== undefined) {
      const result = this.#limiter.tryAcquire(remote.ip)
      if (!result.allowed && result.reason === 'rate-limit') {
        return this.#deny('inbound', remote, undefined, 'rate-limited', undefined, result.retryAfterMs)
      }
    }
    // Every socket held counts, in any state and direction: a closing socket with unsent
    // data holds as much memory as an open one.
    const held = this.connections.count()
    const pendingFull = this.#limitedPending.size >= config.maxIncomingPendingConnections
    if (!pendingFull && held < config.maxConnections) {
      return this.#pressure(remote)
    }
    const pressure = this.#pressure(remote)
    const victim = this.#limitedPending.size === 0 ? undefined : this.#pendingVictim(pressure)
    if (victim === undefined || held - 1 >= config.maxConnections) {
      // Knocking while the node is full costs a second attempt: a host that keeps at it
      // builds up pressure, and so gives way first once it does get a slot.
      if (remote.ip !== undefined) {
        this.#limiter.charge(remote.ip)
      }
      return this.#deny('inbound', remote, undefined, victim === undefined && pendingFull ? 'pending-limit' : 'max-connections')
    }
    this.#evicted++
    this.#failPending(victim, 'limit', undefined)
    return pressure
  }

  /**
   * A connection's pressure: how much of its host's rate budget is used, this attempt
   * included (`RateLimiter.usage`); 1 for a remote end with no IP address, which cannot be
   * keyed.
   */
  #pressure (remote: RemoteAddress): number {
    return remote.ip === undefined ? 1 : this.#limiter.usage(remote.ip)
  }

  /**
   * The pending connection that gives way to a new one whose host has used `pressure` of
   * its rate budget: the one whose host had used the most when it arrived (the oldest among
   * equals), if that is more than `pressure`. At equal pressure, only a connection pending
   * for a tenth of `inboundUpgradeTimeout` or more gives way: a good client's handshake
   * takes far less, and a flood of hosts as fresh as the newcomer must not evict handshakes
   * under way. A slowloris host keeps opening connections, so its budget stays used; a good
   * client opens few.
   */
  #pendingVictim (pressure: number): Entry<Raw> | undefined {
    let victim: Entry<Raw> | undefined
    for (const entry of this.#limitedPending) {
      if (victim === undefined || entry.pressure > victim.pressure) {
        victim = entry
      }
    }
    if (victim === undefined || victim.pressure < pressure) {
      return undefined
    }
    if (victim.pressure > pressure) {
      return victim
    }
    const waited = this.#clock.now() - victim.record.timeline.pending
    return waited >= this.#config.inboundUpgradeTimeout / 10 ? victim : undefined
  }

  /** The gate's verdict on a dial; throws (and reports) a refusal. */
  #checkDial (address: string, peer: string | undefined): GateVerdict {
    const verdict: GateVerdict = this.gate.check(address, peer === undefined ? { direction: 'outbound' } : { direction: 'outbound', peer })
    if (!verdict.allowed) {
      const remote = { ip: readMultiaddr(address)?.ip, multiaddr: address }
      this.#deny('outbound', remote, peer, verdict.reason, verdict.rule)
      throw new DialDeniedError(address, verdict.reason, verdict.rule)
    }
    return verdict
  }

  /** Counts and reports a refusal; returns its detail. */
  #deny (direction: 'inbound' | 'outbound', remote: RemoteAddress, peer: string | undefined, reason: RefusalReason, rule?: string, retryAfterMs?: number): ConnectionDenyDetail {
    this.#refused[reason]++
    const detail: ConnectionDenyDetail = { direction, remoteAddress: remote.multiaddr, remoteIp: remote.ip, peer, reason, rule, retryAfterMs }
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
      limitedPending: false,
      pressure: 0,
      pendingInbound: false,
      pendingController: undefined,
      closing: undefined,
      keepAlive: undefined,
      reconnectAttempt: 0,
      refusal: undefined
    }
    this.#entries.set(record.id, entry)
    return entry
  }

  async #runDial (address: string, peer: string | undefined, jobSignal: AbortSignal): Promise<ManagedConnection<Raw>> {
    // The rules may have changed while the dial waited in the queue.
    const gateVerdict = this.#checkDial(address, peer)
    const remote: RemoteAddress = { ip: readMultiaddr(address)?.ip, multiaddr: address }
    const record = this.connections.add({ direction: 'outbound', remoteAddress: address, ...(remote.ip === undefined ? {} : { remoteIp: remote.ip }), ...(peer === undefined ? {} : { peer }) })
    const entry = this.#track(record, remote, gateVerdict.allowed && gateVerdict.trusted)
    const controller = new AbortController()
    entry.pendingController = controller
    const deadline = new Deadline(this.#config.dialTimeout, controller)
    const signal = deadline.signal
    // The job's signal is short-lived (one dial), but is still joined by a listener removed
    // on every path rather than by AbortSignal.any (see Deadline).
    const onJobAbort = (): void => { controller.abort(jobSignal.reason) }
    if (jobSignal.aborted) {
      onJobAbort()
    } else {
      jobSignal.addEventListener('abort', onJobAbort, { once: true })
    }
    try {
      const raw = await this.#transport.dial(address, { signal })
      entry.raw = raw
      this.#transport.onClose(raw, error => { this.#onRawClose(entry, error) })
      signal.throwIfAborted()
      const result = this.#upgrade === undefined ? undefined : await this.#upgrade(raw, { direction: 'outbound', remoteAddress: this.#transport.remoteAddress(raw), signal })
      signal.throwIfAborted()
      if (!this.#open(entry, result ?? (peer === undefined ? undefined : { peer }))) {
        throw new ConnectionRefusedError(address, entry.record.closeReason ?? 'closed')
      }
      if (entry.managed === undefined) {
        throw new ConnectionRefusedError(address, 'closed')
      }
      return entry.managed
    } catch (error) {
      const stopped = !this.#started
      const timedOut = deadline.expired && !jobSignal.aborted && !stopped
      const failure = timedOut ? new DialTimeoutError(address, this.#config.dialTimeout) : error
      if (entry.record.state === 'pending') {
        this.#dialFailures++
        this.#failPending(entry, timedOut ? 'timeout' : jobSignal.aborted ? 'aborted' : stopped ? 'shutdown' : 'error', failure)
      }
      throw failure
    } finally {
      deadline.clear()
      jobSignal.removeEventListener('abort', onJobAbort)
    }
  }

  /** Moves a pending connection to open and applies the peer rules; false if it did not stay. */
  #open (entry: Entry<Raw>, result: UpgradeResult | undefined): boolean {
    if (entry.record.state !== 'pending' || entry.raw === undefined) {
      return false
    }
    this.#releasePending(entry)
    const raw = entry.raw
    entry.managed = new Managed(entry.record, raw, this)
    // Identified before it opens, so that `connection:open` listeners see the peer.
    if (result?.peer !== undefined) {
      this.connections.identify(entry.record.id, result.peer)
    }
    this.connections.open(entry.record.id)
    this.#opened[entry.direction]++
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
    if (this.connections.count({ state: 'open', peer }) > this.#config.maxConnectionsPerPeer) {
      void this.#prune(peer)
    }
    return entry.record.state === 'open'
  }

  #maybePrune (): void {
    if (this.#pruner.needsPruning(this.connections.count({ state: 'open' }))) {
      void this.#prune(undefined)
    }
  }

  async #prune (peer: string | undefined): Promise<void> {
    try {
      await this.#pruner.prune(peer === undefined ? {} : { peer })
    } catch (error) {
      if (this.#started) {
        this.#reportError(error, 'connection:prune')
      }
    }
  }

  * #candidates (peer: string | undefined): Iterable<Candidate> {
    for (const record of this.connections.list(peer === undefined ? { state: 'open' } : { state: 'open', peer })) {
      const entry = this.#entries.get(record.id)
      let value = 0
      for (const tag of Object.values(record.tags)) {
        value += tag
      }
      yield {
        id: record.id,
        entryId: record.id,
        ...(record.peer === undefined ? {} : { peer: record.peer }),
        direction: record.direction,
        openedAt: record.timeline.open ?? record.timeline.pending,
        streams: record.streams,
        value,
        trusted: entry?.trusted === true
      }
    }
  }

  async #closeVictim (victim: Candidate, reason: PruneReason): Promise<boolean> {
    const entry = this.#entries.get(victim.entryId)
    if (entry === undefined || entry.record.state !== 'open') {
      return false
    }
    this.#pruned[reason]++
    entry.keepAlive = undefined
    const closing = this.#close(entry, 'pruned')
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
      const verdict = this.gate.check(entry.remote.ip ?? entry.remote.multiaddr, peer === undefined ? { direction: entry.direction } : { peer, direction: entry.direction })
      if (!verdict.allowed) {
        this.#deny(entry.direction, entry.remote, peer, verdict.reason === 'deny-list' && peer !== undefined && verdict.rule === peer ? 'peer-denied' : verdict.reason, verdict.rule)
        entry.keepAlive = undefined
        void this.#close(entry, 'denied')
        closed++
      }
    }
    return closed
  }

  #releasePending (entry: Entry<Raw>): void {
    if (entry.pendingInbound) {
      entry.pendingInbound = false
      this.#pendingInbound--
    }
    if (entry.limitedPending) {
      entry.limitedPending = false
      this.#limitedPending.delete(entry)
    }
  }

  /** A pending connection failed (upgrade error, timeout, abort): release and close it. */
  #failPending (entry: Entry<Raw>, reason: CloseReason, error: unknown): void {
    this.#releasePending(entry)
    entry.pendingController?.abort()
    // Record the close first: destroying the socket reports a close of its own.
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
      this.#scheduleReconnect(keepAlive.address, keepAlive.peer, 1, error)
    }
  }

  /** Closes a connection: pending ones at once, open ones gracefully with a timeout. */
  async #close (entry: Entry<Raw>, reason: CloseReason): Promise<void> {
    if (entry.closing !== undefined) {
      await entry.closing
      return
    }
    const state = entry.record.state
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
        this.#closeTimeouts++
        this.#transport.abort(raw)
        this.connections.close(entry.record.id, 'timeout', error instanceof Error ? error : undefined)
      } finally {
        timeout.clear()
        this.#entries.delete(entry.record.id)
      }
    })()
    await entry.closing
  }

  #scheduleReconnect (address: string, peer: string | undefined, attempt: number, lastError: unknown): void {
    const config = this.#config
    if (attempt > config.reconnectRetries) {
      if (config.reconnectRetries > 0) {
        this.#reconnectCounts.failures++
        this.events.safeDispatchEvent('reconnect:failure', { detail: { address, peer, attempts: attempt - 1, error: lastError } })
      }
      return
    }
    const delayMs = backoffDelay(attempt, {
      interval: config.reconnectRetryInterval,
      factor: config.reconnectBackoffFactor,
      maxDelay: config.reconnectMaxDelay,
      jitter: config.reconnectJitter
    }, this.#random)
    const pending: PendingReconnect = { address, peer, timer: undefined, controller: new AbortController() }
    this.#reconnects.add(pending)
    this.#reconnectCounts.attempts++
    this.events.safeDispatchEvent('reconnect:attempt', { detail: { address, peer, attempt, delayMs } })
    pending.timer = setTimeout(() => {
      pending.timer = undefined
      void (async () => {
        try {
          const connection = await this.dial(address, { peer, keepAlive: true, signal: pending.controller.signal })
          this.#reconnects.delete(pending)
          this.#reconnectCounts.successes++
          this.events.safeDispatchEvent('reconnect:success', { detail: { connection: connection.record, attempt } })
        } catch (error) {
          this.#reconnects.delete(pending)
          if (pending.controller.signal.aborted || !this.#started) {
            return
          }
          if (DialDeniedError.isInstance(error)) {
            this.#reconnectCounts.failures++
            this.events.safeDispatchEvent('reconnect:failure', { detail: { address, peer, attempts: attempt, error } })
            return
          }
          this.#scheduleReconnect(address, peer, attempt + 1, error)
        }
      })()
    }, delayMs)
  }

  #cancelReconnect (pending: PendingReconnect): void {
    if (pending.timer !== undefined) {
      clearTimeout(pending.timer)
      pending.timer = undefined
    }
    pending.controller.abort(new ManagerStoppedError())
    this.#reconnects.delete(pending)
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
