import { CONFIG_RULES, DEFAULT_CONFIG, systemClock } from '@cm/config'
import { clockRule, ProblemCollector, resolveOptions } from '@cm/config/validation'
import { ConnectionTracker } from '@cm/state'
import { refuse } from './enforcement.ts'
import type { AbortOptions, Clock } from '@cm/config'
import type { OptionRule, OptionsSchema } from '@cm/config/validation'
import type { CloseReason, ConnectionRecord, Direction, TrackerSnapshot } from '@cm/state'
import type { Connection, Libp2pStatus, MultiaddrConnection, PeerStore } from '@libp2p/interface'

/**
 * What a {@link NodeMonitor} needs of a js-libp2p node: its public `Libp2p` interface
 * (`createLibp2p` returns one) provides all of it.
 *
 * @example
 * ```ts
 * import type { MonitoredNode } from '@cm/libp2p'
 * import type { Libp2p } from '@libp2p/interface'
 *
 * function monitored (node: Libp2p): MonitoredNode {
 *   return node
 * }
 * ```
 */
export interface MonitoredNode {
  /** Whether the node is starting, started, stopping or stopped. */
  readonly status: Libp2pStatus
  /** The node's peer store (the pruner reads peers' tags from it). */
  readonly peerStore: PeerStore
  /** The node's open connections. */
  getConnections(): Connection[]
  /** Subscribes to the node's `connection:open` event. */
  addEventListener(type: 'connection:open', listener: (event: CustomEvent<Connection>) => void): void
  /** Unsubscribes from the node's `connection:open` event. */
  removeEventListener(type: 'connection:open', listener: (event: CustomEvent<Connection>) => void): void
}

/**
 * Options of {@link createNodeMonitor}.
 *
 * @example
 * ```ts
 * import { createNodeMonitor } from '@cm/libp2p'
 * import type { NodeMonitorInit } from '@cm/libp2p'
 *
 * const init: NodeMonitorInit = { connectionHistorySize: 500, connectionCloseTimeout: 2_000 }
 * const monitor = createNodeMonitor(init)
 * ```
 */
export interface NodeMonitorInit {
  /**
   * The tracker to record into, for example one shared with other parts. Give its clock
   * as `clock` too, so that pruning's grace period is measured on the same clock.
   *
   * @default a new `ConnectionTracker` with `clock` and `connectionHistorySize`
   */
  readonly tracker?: ConnectionTracker | undefined
  /**
   * The clock of the tracker's timelines, in milliseconds.
   *
   * @default systemClock (`performance.now()`)
   */
  readonly clock?: Clock | undefined
  /**
   * How many closed connections the tracker keeps, when the monitor makes the tracker
   * (refused with `tracker`). The same option and rule as
   * `ConnectionConfig.connectionHistorySize`.
   *
   * @default 100
   */
  readonly connectionHistorySize?: number | undefined
  /**
   * Milliseconds {@link NodeMonitor.close} waits for a graceful close before aborting the
   * connection, when the caller gives no signal. The same rule as
   * `ConnectionConfig.connectionCloseTimeout`.
   *
   * @default 1000
   */
  readonly connectionCloseTimeout?: number | undefined
}

interface ResolvedMonitorInit {
  readonly tracker: ConnectionTracker | undefined
  readonly clock: Clock
  readonly connectionHistorySize: number
  readonly connectionCloseTimeout: number
}

const trackerRule: OptionRule<ConnectionTracker | undefined> = {
  expected: 'a ConnectionTracker',
  check (value, path, problems): value is ConnectionTracker {
    const ok = value instanceof ConnectionTracker
    if (!ok) problems.add(path, 'a ConnectionTracker', value)
    return ok
  }
}

const MONITOR_SCHEMA: OptionsSchema<ResolvedMonitorInit> = {
  tracker: { default: undefined, rule: trackerRule },
  clock: { default: systemClock, rule: clockRule },
  connectionHistorySize: { default: DEFAULT_CONFIG.connectionHistorySize, rule: CONFIG_RULES.connectionHistorySize },
  connectionCloseTimeout: { default: DEFAULT_CONFIG.connectionCloseTimeout, rule: CONFIG_RULES.connectionCloseTimeout }
}

/** The fields of libp2p's close events the monitor reads. */
interface CloseDetail {
  readonly local?: boolean | undefined
  readonly error?: Error | undefined
}

/** The close reason a libp2p close event stands for. */
function reasonOf (event: CloseDetail, stopping: boolean): CloseReason {
  const error = event.error
  if (error != null) {
    return error.name === 'TimeoutError' ? 'timeout' : error.name === 'AbortError' ? 'aborted' : 'error'
  }
  if (stopping) {
    return 'shutdown'
  }
  return event.local === true ? 'local' : 'remote'
}

/**
 * Follows a js-libp2p node's connections into a `@cm/state` {@link ConnectionTracker}, so
 * that `tracker.count()`, `list()`, `snapshot()` and its events describe the node.
 *
 * What it sees, and when:
 *
 * - **pending**: when a {@link CmGater} given this monitor admits a connection at its first
 *   hook (`denyInboundConnection`, `denyOutboundConnection`, or the encrypted-connection
 *   hook for dials without a peer ID). Without such a gater a connection is first seen
 *   open. Connections js-libp2p's own connection manager refuses before the gater runs
 *   are never seen.
 * - **open**: on the node's `connection:open` (upgrade done), with the peer.
 * - **closing**: only for closes started through {@link NodeMonitor.close} (as the pruner
 *   does). js-libp2p announces no other close before it ends, so a connection closed by
 *   other code goes from open to closed.
 * - **closed**: on the raw connection's (or the connection's) `close` event, with the
 *   reason it gives: `'local'`, `'remote'`, `'error'`, `'timeout'`, `'aborted'`,
 *   `'shutdown'` while the node stops, or the gater's `'denied'`, or the `closing` reason.
 * - **streams**: a connection's stream count is read from the node by
 *   {@link NodeMonitor.syncStreams} (and {@link NodeMonitor.snapshot}); libp2p has no
 *   event for it.
 *
 * Records are matched to libp2p connections through the timeline object js-libp2p 3
 * shares between a raw connection and its upgraded connection; were that to change, an
 * upgraded connection would simply be recorded anew and its pending record closed with the
 * raw connection.
 *
 * @example
 * ```ts
 * import { cmGater, createNodeMonitor } from '@cm/libp2p'
 * import type { Libp2p } from '@libp2p/interface'
 *
 * const monitor = createNodeMonitor()
 * const gater = cmGater({ config: { denyList: ['10.0.0.0/8'] }, monitor })
 *
 * function watch (node: Libp2p): void { // a node made with `connectionGater: gater`
 *   monitor.start(node)
 *   monitor.tracker.count({ state: 'open', direction: 'inbound' }) // O(1)
 *   monitor.tracker.events.addEventListener('peer:connect', event => {
 *     console.log(`peer ${event.detail.peer} connected`)
 *   })
 * }
 * ```
 */
export class NodeMonitor {
  /** Tells the monitor apart in logs and inspection: `'@cm/libp2p/monitor'`. */
  readonly [Symbol.toStringTag] = '@cm/libp2p/monitor'
  /** The tracker the node's connections are recorded in. */
  readonly tracker: ConnectionTracker
  /** The clock of the tracker's timelines. */
  readonly clock: Clock

  readonly #closeTimeout: number
  /** Pending records, by the timeline object a raw connection shares with its connection. */
  readonly #pending = new WeakMap<object, number>()
  /** The IDs of pending inbound records a gater counts against its limits (not trusted). */
  readonly #limitedPending = new Set<number>()
  /** Open and closing connections, by record ID. */
  readonly #connections = new Map<number, Connection>()
  readonly #ids = new WeakMap<Connection, number>()
  #node: MonitoredNode | undefined
  /** Raised on every start and stop: a listener of an earlier generation does nothing. */
  #generation = 0

  /**
   * @param init - the tracker, or the options to make one
   * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
   */
  constructor (init: NodeMonitorInit = {}) {
    const problems = new ProblemCollector()
    const options = resolveOptions(MONITOR_SCHEMA, init, problems)
    if (options.tracker !== undefined && init.connectionHistorySize !== undefined) {
      refuse('connectionHistorySize', 'is not used when `tracker` is given: give it to the tracker instead', init.connectionHistorySize, problems)
    }
    problems.throwIfAny()
    this.clock = options.clock
    this.tracker = options.tracker ?? new ConnectionTracker({ clock: options.clock, connectionHistorySize: options.connectionHistorySize })
    this.#closeTimeout = options.connectionCloseTimeout
  }

  /** The node being followed, between {@link NodeMonitor.start} and {@link NodeMonitor.stop}. */
  get node (): MonitoredNode | undefined {
    return this.#node
  }

  /**
   * Starts following a node: its `connection:open` events, and the connections it already
   * has. Starting again with the same node does nothing; with another node, the first is
   * no longer followed.
   *
   * @param node - a js-libp2p node (as `createLibp2p` returns)
   *
   * @example
   * ```ts
   * import { createNodeMonitor } from '@cm/libp2p'
   * import type { Libp2p } from '@libp2p/interface'
   *
   * function follow (node: Libp2p): void {
   *   const monitor = createNodeMonitor()
   *   monitor.start(node)
   *   console.log(monitor.tracker.count({ state: 'open' }) === node.getConnections().length) // true
   * }
   * ```
   */
  start (node: MonitoredNode): void {
    if (this.#node === node) {
      return
    }
    this.stop()
    this.#node = node
    node.addEventListener('connection:open', this.#onOpen)
    for (const connection of node.getConnections()) {
      this.#opened(connection)
    }
  }

  /**
   * Stops following the node. The tracker keeps what it holds; connections are no longer
   * updated. Idempotent.
   *
   * @example
   * ```ts
   * import { createNodeMonitor } from '@cm/libp2p'
   *
   * const monitor = createNodeMonitor()
   * monitor.stop() // nothing to stop: no effect
   * ```
   */
  stop (): void {
    this.#generation++
    this.#node?.removeEventListener('connection:open', this.#onOpen)
    this.#node = undefined
    this.#connections.clear()
    this.#limitedPending.clear()
  }

  /**
   * The libp2p connection of an open or closing record.
   *
   * @param id - a record ID of the tracker
   * @returns the connection, or `undefined` if the record is pending, closed or unknown
   */
  connection (id: number): Connection | undefined {
    return this.#connections.get(id)
  }

  /**
   * The tracker's record of a libp2p connection.
   *
   * @param connection - a connection of the node
   * @returns the record, or `undefined` if the connection is not (or no longer) followed
   */
  record (connection: Connection): ConnectionRecord | undefined {
    const id = this.#ids.get(connection)
    return id === undefined ? undefined : this.tracker.get(id)
  }

  /**
   * Closes a connection, recording it as closing with `reason` first (so the record keeps
   * that reason). Waits up to `connectionCloseTimeout` (or until `signal` aborts) for a
   * graceful close, then aborts the connection.
   *
   * @param target - the connection, or its record ID
   * @param reason - why it is closed
   * @param options - `signal`, which cuts the graceful close short
   * @returns `true` once the connection is closed (or was closed already), `false` if the
   *   monitor does not follow it
   *
   * @example
   * ```ts
   * import { createNodeMonitor } from '@cm/libp2p'
   * import type { Connection } from '@libp2p/interface'
   *
   * const monitor = createNodeMonitor()
   * async function kick (connection: Connection): Promise<void> {
   *   await monitor.close(connection, 'denied') // the record says why
   * }
   * ```
   */
  async close (target: Connection | number, reason: CloseReason, options: AbortOptions = {}): Promise<boolean> {
    const id = typeof target === 'number' ? target : this.#ids.get(target)
    const connection = id === undefined ? undefined : this.#connections.get(id)
    if (id === undefined || connection === undefined) {
      return false
    }
    if (this.tracker.get(id)?.state === 'open') {
      this.tracker.closing(id, reason)
    }
    if (connection.status === 'open') {
      // One controller per close, fed by the timeout and by the caller's signal through a
      // listener removed afterwards: AbortSignal.any() would leave a reference in a
      // long-lived caller's signal for every close, on Node 20 (nodejs/node#55351).
      const controller = new AbortController()
      const caller = options.signal
      const onAbort = (): void => { controller.abort(caller?.reason) }
      // A TimeoutError, as AbortSignal.timeout() gives: the close is then recorded as a timeout.
      const timer = setTimeout(() => { controller.abort(new DOMException(`closing timed out after ${this.#closeTimeout} ms`, 'TimeoutError')) }, this.#closeTimeout)
      if (caller?.aborted === true) onAbort()
      else caller?.addEventListener('abort', onAbort, { once: true })
      try {
        await connection.close({ signal: controller.signal })
      } catch (error) {
        connection.abort(error instanceof Error ? error : new Error(String(error)))
      } finally {
        clearTimeout(timer)
        caller?.removeEventListener('abort', onAbort)
      }
    }
    return true
  }

  /**
   * Reads every followed connection's stream count from the node into the tracker (libp2p
   * announces no stream changes). O(connections).
   *
   * @example
   * ```ts
   * import { createNodeMonitor } from '@cm/libp2p'
   *
   * const monitor = createNodeMonitor()
   * monitor.syncStreams()
   * monitor.tracker.snapshot().streams // up to date
   * ```
   */
  syncStreams (): void {
    for (const [id, connection] of this.#connections) {
      const record = this.tracker.get(id)
      const streams = connection.streams.length
      if (record !== undefined && record.streams !== streams) {
        this.tracker.setStreamCount(id, streams)
      }
    }
  }

  /**
   * The tracker's JSON snapshot, with stream counts read from the node first.
   *
   * @example
   * ```ts
   * import { createNodeMonitor } from '@cm/libp2p'
   *
   * const monitor = createNodeMonitor()
   * console.log(JSON.stringify(monitor.snapshot().connections.open))
   * ```
   */
  snapshot (): TrackerSnapshot {
    this.syncStreams()
    return this.tracker.snapshot()
  }

  /**
   * Records a raw connection a gater admitted at its first hook, as pending (while a node
   * is followed).
   *
   * @internal
   */
  _attempt (direction: Direction, maConn: MultiaddrConnection, ip: string | undefined, limited = false): number | undefined {
    const known = this.#pending.get(maConn.timeline)
    if (known !== undefined || this.#node === undefined) {
      return known
    }
    const record = this.tracker.add({ direction, remoteAddress: maConn.remoteAddr, remoteIp: ip })
    const id = record.id
    this.#pending.set(maConn.timeline, id)
    if (limited && direction === 'inbound') {
      this.#limitedPending.add(id)
    }
    const generation = this.#generation
    maConn.addEventListener('close', event => {
      if (generation === this.#generation) {
        this.#closed(id, event)
      }
    }, { once: true })
    return id
  }

  /**
   * Records the peer a gater's encrypted-connection hook admitted.
   *
   * @internal
   */
  _identify (direction: Direction, maConn: MultiaddrConnection, ip: string | undefined, peer: string): void {
    const id = this._attempt(direction, maConn, ip)
    const record = id === undefined ? undefined : this.tracker.get(id)
    // A gater hook never throws: a peer ID object whose text is empty (no real one is) is
    // recorded without a peer rather than refused by the tracker.
    if (id !== undefined && record !== undefined && record.peer === undefined && peer !== '') {
      this.tracker.identify(id, peer)
    }
  }

  /**
   * Closes the pending record of a raw connection a gater refused after its first hook.
   *
   * @internal
   */
  _refuse (maConn: MultiaddrConnection, reason: CloseReason): void {
    const id = this.#pending.get(maConn.timeline)
    if (id !== undefined) {
      this.#limitedPending.delete(id)
      this.tracker.close(id, reason)
    }
  }

  /**
   * How many inbound connections a gater admitted, not trusted, are still pending (the
   * count its `maxIncomingPendingConnections` and `maxConnections` limits use). O(1).
   *
   * @internal
   */
  get _limitedPendingInbound (): number {
    return this.#limitedPending.size
  }

  readonly #onOpen = (event: CustomEvent<Connection>): void => {
    this.#opened(event.detail)
  }

  #opened (connection: Connection): void {
    if (connection.status !== 'open' || this.#ids.has(connection)) {
      return
    }
    const peer = connection.remotePeer.toString()
    let id = this.#pending.get(connection.timeline)
    const pending = id === undefined ? undefined : this.tracker.get(id)
    if (id === undefined || pending?.state !== 'pending') {
      if (id !== undefined) {
        // The raw connection's record ended already: this connection is recorded anew.
        this.#pending.delete(connection.timeline)
      }
      id = this.tracker.add({ direction: connection.direction, remoteAddress: connection.remoteAddr, peer }).id
      const fresh = id
      const generation = this.#generation
      connection.addEventListener('close', event => {
        if (generation === this.#generation) {
          this.#closed(fresh, event)
        }
      }, { once: true })
    } else if (pending.peer === undefined) {
      this.tracker.identify(id, peer)
    }
    this.#limitedPending.delete(id)
    this.#connections.set(id, connection)
    this.#ids.set(connection, id)
    this.tracker.open(id)
  }

  #closed (id: number, event: CloseDetail): void {
    this.#limitedPending.delete(id)
    this.#connections.delete(id)
    if (this.tracker.get(id) !== undefined) {
      this.tracker.close(id, reasonOf(event, this.#node?.status === 'stopping'), event.error ?? undefined)
    }
  }
}

/**
 * Creates a {@link NodeMonitor}, which follows a js-libp2p node's connections into a
 * `@cm/state` tracker. Give it to {@link cmGater} to see connections from their first hook,
 * then call `start(node)` once the node is made.
 *
 * @param init - the tracker, or the options to make one
 * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
 *
 * @example
 * ```ts
 * import { createNodeMonitor } from '@cm/libp2p'
 *
 * const monitor = createNodeMonitor({ connectionHistorySize: 1_000 })
 * monitor.tracker.count() // 0 until a node is followed
 * ```
 */
export function createNodeMonitor (init?: NodeMonitorInit): NodeMonitor {
  return new NodeMonitor(init)
}
