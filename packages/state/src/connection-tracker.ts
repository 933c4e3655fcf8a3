import { ipFromMultiaddr } from '@cm/config/address'
import { SafeEventEmitter } from '@cm/config/events'
import { isMultiaddr, multiaddr } from '@multiformats/multiaddr'
import { CircularBuffer } from 'mnemonist'
import { CLOSE_REASONS, CLOSED, CLOSING, Entry, NO_TAGS, OPEN, PENDING, stateName } from './connection-record.ts'
import { EntryTable } from './entry-table.ts'
import { ConnectionClosedError, InvalidArgumentError, InvalidTransitionError, PeerMismatchError, UnknownConnectionError } from './errors.ts'
import { connectionDetail, EventQueue, peerDetail } from './event-queue.ts'
import { GroupIndex } from './group-index.ts'
import { hostKeyOf, hostText } from './host-key.ts'
import { LANE_COUNT, Lanes } from './lanes.ts'
import { buildSnapshot } from './snapshot.ts'
import { checkNonEmpty, checkReason, directionFilter, hostKeyOfFilter, stateFilter } from './tracker-arguments.ts'
import { resolveTrackerOptions } from './tracker-options.ts'
import type { CloseReason, ConnectionRecord } from './connection-record.ts'
import type { ConnectionTrackerEvents } from './events.ts'
import type { HostKey } from './host-key.ts'
import type { TrackerSnapshot } from './snapshot.ts'
import type { AddConnectionInit, ConnectionFilter } from './tracker-arguments.ts'
import type { ConnectionTrackerInit } from './tracker-options.ts'
import type { Clock } from '@cm/config'
import type { TypedEventTarget } from '@cm/config/events'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * The registry of every connection's lifecycle: a state machine per connection, indexes by
 * ID, peer, state, direction and remote host with counters kept as connections change, typed
 * events, a bounded history of closed connections and a JSON snapshot.
 *
 * Costs, for n connections held: `add`, every transition, `identify`, `setStreamCount` and
 * `get` are O(1); `count()` is O(1) for any combination of filters but `peer` with `host`
 * (O(connections of the peer)); `list()` is O(result) when filtering by state and direction
 * only, and O(connections of the peer or host) when filtering by peer or host; `snapshot()`
 * is O(peers + history). Nothing scans every connection.
 *
 * Closed connections leave the tracker (and its counts) at once; the most recent ones stay
 * in {@link ConnectionTracker.history}.
 *
 * @example
 * ```ts
 * import { createConnectionTracker } from '@cm/state'
 *
 * const tracker = createConnectionTracker()
 * const connection = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001', remoteIp: '10.0.0.1' })
 * tracker.open(connection.id)
 * tracker.identify(connection.id, '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')
 *
 * tracker.count({ state: 'open', direction: 'inbound' }) // 1
 * tracker.count({ host: '10.0.0.1' }) // 1
 *
 * tracker.closing(connection.id, 'pruned')
 * tracker.close(connection.id, 'local') // the first reason, 'pruned', is kept
 * tracker.close(connection.id, 'local') // false: already closed, a no-op
 * tracker.history()[0]?.closeReason // 'pruned'
 * ```
 */
export class ConnectionTracker<Metadata = unknown> {
  /** The event target the tracker dispatches on (its own, or the one given in `events`). */
  readonly events: TypedEventTarget<ConnectionTrackerEvents<Metadata>>

  readonly #clock: Clock
  /** Every connection held, by ID. */
  readonly #table = new EntryTable<Metadata>()
  /** Every connection held, counted and listed by state and direction. */
  readonly #lanes = new Lanes<Metadata>()
  /** The connections held, grouped by peer. */
  readonly #peers = new GroupIndex<string, Metadata>('peer', this.#table)
  /** The connections held, grouped by remote host. */
  // Stryker disable next-line StringLiteral: any text but 'peer' groups by host
  readonly #hosts = new GroupIndex<HostKey, Metadata>('host', this.#table)
  readonly #queue: EventQueue<Metadata>
  readonly #history: CircularBuffer<ConnectionRecord<Metadata>> | undefined
  readonly #historySize: number
  readonly #closedByReason: Record<CloseReason, number>
  #closedTotal = 0
  #streams = 0

  /**
   * @param init - the clock, the history size and the event target; see
   *   {@link ConnectionTrackerInit}
   * @throws `InvalidConfigError` (from `@cm/config`) listing every malformed option
   */
  constructor (init: ConnectionTrackerInit<Metadata> = {}) {
    const options = resolveTrackerOptions(init)
    this.#clock = options.clock
    this.#historySize = options.connectionHistorySize
    this.#history = this.#historySize > 0 ? new CircularBuffer<ConnectionRecord<Metadata>>(Array, this.#historySize) : undefined
    this.#closedByReason = Object.fromEntries(CLOSE_REASONS.map(reason => [reason, 0])) as Record<CloseReason, number>
    const onListenerError = options.onListenerError
    // Stryker disable next-line ConditionalExpression: the emitter reads an undefined onListenerError as absent; the option is left out to keep the object exact
    this.events = options.events ?? new SafeEventEmitter<ConnectionTrackerEvents<Metadata>>(onListenerError === undefined ? {} : { onListenerError })
    this.#queue = new EventQueue(this.events, onListenerError)
  }

  /** The number of connections held (pending, open and closing). */
  get size (): number {
    return this.#lanes.total
  }

  /**
   * Adds a connection in the `pending` state and dispatches `connection:pending`.
   *
   * @param init - direction, remote address, and optionally remote IP, peer and metadata
   * @returns the new connection's record (a live, read-only view)
   * @throws {@link InvalidArgumentError} when an argument is malformed (nothing is added)
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker<{ note: string }>()
   * const record = tracker.add({
   *   direction: 'inbound',
   *   remoteAddress: '/ip4/192.0.2.7/tcp/51234',
   *   remoteIp: '192.0.2.7', // saves parsing the address
   *   metadata: { note: 'accepted by the TCP listener' }
   * })
   * record.id // 1
   * record.state // 'pending'
   * ```
   */
  add (init: AddConnectionInit<Metadata>): ConnectionRecord<Metadata> {
    if (typeof init !== 'object' || init === null) {
      throw new InvalidArgumentError('init', 'an object', init)
    }
    const { direction, remoteAddress, remoteIp, peer, metadata } = init
    let directionIndex: 0 | 1
    if (direction === 'inbound') directionIndex = 0
    else if (direction === 'outbound') directionIndex = 1
    else throw new InvalidArgumentError('direction', '"inbound" or "outbound"', direction)
    let address: string
    if (typeof remoteAddress === 'string') {
      address = remoteAddress
    } else if (isMultiaddr(remoteAddress)) {
      address = remoteAddress.toString()
    } else {
      throw new InvalidArgumentError('remoteAddress', 'a multiaddr or multiaddr text', remoteAddress)
    }
    let ip: string | undefined
    if (remoteIp !== undefined) {
      ip = remoteIp
    } else {
      let parsed: Multiaddr
      try {
        // Stryker disable next-line ConditionalExpression: multiaddr() of a Multiaddr gives an equal one; the test saves the copy
        parsed = typeof remoteAddress === 'string' ? multiaddr(remoteAddress) : remoteAddress
      } catch (error) {
        throw new InvalidArgumentError('remoteAddress', 'a multiaddr or multiaddr text', remoteAddress, { cause: error })
      }
      ip = ipFromMultiaddr(parsed)
    }
    // Stryker disable next-line ConditionalExpression: hostKeyOf() of no IP is undefined too; the test narrows the type
    const hostKey = typeof ip === 'string' ? hostKeyOf(ip) : undefined
    if (remoteIp !== undefined && hostKey === undefined) {
      throw new InvalidArgumentError('remoteIp', 'an IP address', remoteIp)
    }
    if (peer !== undefined) {
      checkNonEmpty('peer', peer)
    }
    const id = this.#table.issue()
    const host = hostKey === undefined ? undefined : hostText(hostKey, ip as string)
    const entry = new Entry<Metadata>(id, directionIndex, address, host, hostKey, peer, this.#clock.now(), metadata)
    this.#table.hold(entry)
    this.#lanes.add(entry)
    if (hostKey !== undefined) {
      this.#hosts.join(entry)
    }
    if (peer !== undefined) {
      this.#peers.join(entry)
    }
    if (this.#queue.wants('connection:pending')) {
      this.#queue.push('connection:pending', connectionDetail(entry, undefined))
    }
    this.#queue.flush()
    return entry.view
  }

  /**
   * Marks a pending connection open and dispatches `connection:open`, then `peer:connect`
   * if it is the peer's first open connection.
   *
   * @param id - the connection's ID
   * @throws {@link UnknownConnectionError} when the ID was never issued
   * @throws {@link InvalidTransitionError} when the connection is not pending
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker()
   * const { id } = tracker.add({ direction: 'outbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
   * tracker.open(id)
   * tracker.count({ state: 'open' }) // 1
   * ```
   */
  open (id: number): void {
    const entry = this.#transitionable(id, OPEN)
    if (entry.state !== PENDING) {
      throw new InvalidTransitionError(id, stateName(entry.state), 'open')
    }
    entry.openAt = this.#clock.now()
    entry.timeline = undefined
    this.#move(entry, OPEN)
    if (this.#queue.wants('connection:open')) {
      this.#queue.push('connection:open', connectionDetail(entry, 'pending'))
    }
    if (entry.peer !== undefined && this.#peers.connected(entry) === 1 && this.#queue.wants('peer:connect')) {
      this.#queue.push('peer:connect', peerDetail(entry))
    }
    this.#queue.flush()
  }

  /**
   * Marks an open connection as closing (a graceful close has begun) with the reason, and
   * dispatches `connection:closing`. The connection still counts for its peer until it
   * closes.
   *
   * @param id - the connection's ID
   * @param reason - why it is closing; kept as the close reason
   * @param error - the error that caused it, if any
   * @throws {@link UnknownConnectionError} when the ID was never issued
   * @throws {@link InvalidTransitionError} when the connection is not open
   * @throws {@link InvalidArgumentError} when the reason is not a {@link CloseReason}
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker()
   * const { id } = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
   * tracker.open(id)
   * tracker.closing(id, 'pruned')
   * tracker.get(id)?.state // 'closing'
   * ```
   */
  closing (id: number, reason: CloseReason, error?: Error): void {
    checkReason(reason, error)
    const entry = this.#transitionable(id, CLOSING)
    if (entry.state !== OPEN) {
      throw new InvalidTransitionError(id, stateName(entry.state), 'closing')
    }
    entry.closingAt = this.#clock.now()
    entry.timeline = undefined
    entry.closeReason = reason
    entry.closeError = error
    this.#move(entry, CLOSING)
    // Stryker disable next-line ConditionalExpression: an event no one listens to is not seen; wants() only saves building it
    if (this.#queue.wants('connection:closing')) {
      this.#queue.push('connection:closing', connectionDetail(entry, 'open'))
    }
    this.#queue.flush()
  }

  /**
   * Marks a connection closed, removes it from the tracker and its counts, adds it to the
   * history, and dispatches `connection:close`, then `peer:disconnect` if it was the peer's
   * last open or closing connection. Allowed from pending (a failed or refused connection),
   * open and closing. Closing a connection that is already closed is a no-op that
   * dispatches nothing.
   *
   * @param id - the connection's ID
   * @param reason - why it closed; when it is already closing, the closing reason (the
   *   first one given) is kept, except that `'timeout'` replaces it: a graceful close that
   *   ran out of time ended by timing out, whatever it began for (the manager closes
   *   such connections with reason `'timeout'`)
   * @param error - the error that caused it, if any (the first one is kept, except with a
   *   replacing `'timeout'`)
   * @returns `true` if this call closed the connection, `false` if it was already closed
   * @throws {@link UnknownConnectionError} when the ID was never issued
   * @throws {@link InvalidArgumentError} when the reason is not a {@link CloseReason}
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker()
   * const { id } = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
   * tracker.close(id, 'denied', new Error('on the deny list')) // true
   * tracker.close(id, 'local') // false: a no-op
   * tracker.size // 0
   * ```
   */
  close (id: number, reason: CloseReason, error?: Error): boolean {
    checkReason(reason, error)
    const entry = this.#table.get(id)
    if (entry === undefined) {
      if (this.#table.issued(id)) {
        return false
      }
      throw new UnknownConnectionError(id)
    }
    const previous = entry.state
    const wasConnected = previous === OPEN || previous === CLOSING
    entry.closedAt = this.#clock.now()
    entry.timeline = undefined
    // A close reason already set means closing() ran, so the connection is closing.
    if (entry.closeReason === undefined || reason === 'timeout') {
      entry.closeReason = reason
      entry.closeError = error
    } else if (entry.closeError === undefined) {
      entry.closeError = error
    }
    this.#table.release(entry)
    this.#lanes.remove(entry)
    // Stryker disable next-line ConditionalExpression: with no host, leave() looks for hash 0, which no held key has, and removes nothing
    if (entry.hostKey !== undefined) {
      this.#hosts.leave(entry)
    }
    let disconnected = false
    if (entry.peer !== undefined) {
      // Its peer is left with no connection that opened and has not closed.
      disconnected = wasConnected && this.#peers.connected(entry) === 1
      this.#peers.leave(entry)
    }
    entry.state = CLOSED
    this.#streams -= entry.streams
    this.#closedTotal++
    this.#closedByReason[entry.closeReason]++
    this.#history?.push(entry.view)
    // Stryker disable next-line ConditionalExpression: an event no one listens to is not seen; wants() only saves building it
    if (this.#queue.wants('connection:close')) {
      this.#queue.push('connection:close', connectionDetail(entry, stateName(previous)))
    }
    if (disconnected && this.#queue.wants('peer:disconnect')) {
      this.#queue.push('peer:disconnect', peerDetail(entry))
    }
    this.#queue.flush()
    return true
  }

  /**
   * Records the peer a connection belongs to, once known (for example after a libp2p
   * handshake). Dispatches `peer:connect` if the connection is open or closing and is the
   * peer's first. Identifying a connection again as the same peer is a no-op.
   *
   * @param id - the connection's ID
   * @param peer - the peer's ID (an opaque, non-empty string; use its canonical form, such
   *   as `parsePeerId` from `@cm/config` gives)
   * @throws {@link UnknownConnectionError} when the ID was never issued
   * @throws {@link ConnectionClosedError} when the connection is closed
   * @throws {@link PeerMismatchError} when the connection belongs to another peer
   * @throws {@link InvalidArgumentError} when the peer is not a non-empty string
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker()
   * const { id } = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
   * tracker.open(id)
   * tracker.identify(id, '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA') // peer:connect
   * tracker.count({ peer: '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA' }) // 1
   * ```
   */
  identify (id: number, peer: string): void {
    checkNonEmpty('peer', peer)
    const entry = this.#updatable(id, 'identify')
    if (entry.peer !== undefined) {
      if (entry.peer !== peer) {
        throw new PeerMismatchError(id, entry.peer, peer)
      }
      return
    }
    entry.peer = peer
    this.#peers.join(entry)
    if (entry.state !== PENDING && this.#peers.connected(entry) === 1 && this.#queue.wants('peer:connect')) {
      this.#queue.push('peer:connect', peerDetail(entry))
    }
    this.#queue.flush()
  }

  /**
   * Sets the number of streams open on a connection.
   *
   * @param id - the connection's ID
   * @param count - an integer >= 0
   * @throws {@link UnknownConnectionError} when the ID was never issued
   * @throws {@link ConnectionClosedError} when the connection is closed
   * @throws {@link InvalidArgumentError} when the count is not an integer >= 0
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker()
   * const record = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
   * tracker.setStreamCount(record.id, 3)
   * record.streams // 3
   * ```
   */
  setStreamCount (id: number, count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new InvalidArgumentError('count', 'an integer >= 0', count)
    }
    const entry = this.#updatable(id, 'setStreamCount')
    this.#streams += count - entry.streams
    entry.streams = count
  }

  /**
   * Sets a tag on a connection: a name with a numeric value (for example a pruning
   * priority). Replaces the tag's previous value.
   *
   * @param id - the connection's ID
   * @param name - the tag's name, a non-empty string
   * @param value - a finite number
   * @throws {@link UnknownConnectionError} when the ID was never issued
   * @throws {@link ConnectionClosedError} when the connection is closed
   * @throws {@link InvalidArgumentError} when the name or the value is malformed
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker()
   * const record = tracker.add({ direction: 'outbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
   * tracker.tag(record.id, 'keep-alive', 100)
   * record.tags // { 'keep-alive': 100 }
   * ```
   */
  tag (id: number, name: string, value: number): void {
    checkNonEmpty('name', name)
    // Number.isFinite() is false for anything but a finite number: no typeof test needed.
    if (!Number.isFinite(value)) {
      throw new InvalidArgumentError('value', 'a finite number', value)
    }
    const entry = this.#updatable(id, 'tag')
    const tags = Object.assign(Object.create(null) as Record<string, number>, entry.tags)
    tags[name] = value
    entry.tags = Object.freeze(tags)
  }

  /**
   * Removes a tag from a connection; removing a tag it does not have is a no-op.
   *
   * @param id - the connection's ID
   * @param name - the tag's name
   * @throws {@link UnknownConnectionError} when the ID was never issued
   * @throws {@link ConnectionClosedError} when the connection is closed
   * @throws {@link InvalidArgumentError} when the name is not a non-empty string
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker()
   * const record = tracker.add({ direction: 'outbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
   * tracker.tag(record.id, 'keep-alive', 100)
   * tracker.untag(record.id, 'keep-alive')
   * record.tags // {}
   * ```
   */
  untag (id: number, name: string): void {
    checkNonEmpty('name', name)
    const entry = this.#updatable(id, 'untag')
    // Stryker disable next-line ConditionalExpression,BlockStatement: a fast path; copying tags without the name gives equal tags
    if (!Object.hasOwn(entry.tags, name)) {
      return
    }
    const tags = Object.assign(Object.create(null) as Record<string, number>, entry.tags)
    delete tags[name]
    // Stryker disable next-line ConditionalExpression: NO_TAGS is a shared frozen empty object; a fresh frozen empty one reads the same
    entry.tags = Object.keys(tags).length === 0 ? NO_TAGS : Object.freeze(tags)
  }

  /**
   * The record of a connection the tracker holds (pending, open or closing), or `undefined`
   * (closed connections are in {@link ConnectionTracker.history}).
   *
   * @param id - the connection's ID
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker()
   * const { id } = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
   * tracker.get(id)?.state // 'pending'
   * ```
   */
  get (id: number): ConnectionRecord<Metadata> | undefined {
    return this.#table.get(id)?.view
  }

  /**
   * How many connections match the filter, from counters kept as connections change: O(1)
   * for any combination of filters except `peer` with `host`, which counts the peer's
   * connections one by one (a peer has few: at most `maxConnectionsPerPeer` under the
   * manager).
   *
   * @param filter - state, direction, peer and host; all given must match
   * @throws {@link InvalidArgumentError} when the state or direction is not one of the
   *   known values
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker()
   * tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
   * tracker.count() // 1
   * tracker.count({ state: 'pending', direction: 'inbound', host: '::ffff:10.0.0.1' }) // 1
   * tracker.count({ state: 'open' }) // 0
   * ```
   */
  count (filter: ConnectionFilter = {}): number {
    const state = stateFilter(filter.state)
    const direction = directionFilter(filter.direction)
    const { peer, host } = filter
    if (peer !== undefined && host !== undefined) {
      // A peer has few connections (at most maxConnectionsPerPeer under the manager): they
      // are counted one by one rather than kept in a peer-and-host index of their own.
      const hostKey = hostKeyOfFilter(host)
      const peers = this.#peers
      let count = 0
      for (let entry = hostKey === undefined ? undefined : peers.first(peers.find(peer)); entry !== undefined; entry = peers.next(entry)) {
        if (entry.hostKey === hostKey && entry.matches(state, direction)) count++
      }
      return count
    }
    if (host !== undefined) {
      const hostKey = hostKeyOfFilter(host)
      return hostKey === undefined ? 0 : this.#hosts.count(this.#hosts.find(hostKey), state, direction)
    }
    if (peer !== undefined) {
      return this.#peers.count(this.#peers.find(peer), state, direction)
    }
    return this.#lanes.count(state, direction)
  }

  /**
   * The connections that match the filter. Ordered by state (pending, open, closing), then
   * direction (inbound, outbound), oldest in that state first when filtering by state and
   * direction only; in the order they joined the peer or host otherwise (newest first).
   *
   * Costs O(result) when filtering by state and direction only, and O(connections of the
   * peer, or of the host) when filtering by peer or host.
   *
   * @param filter - state, direction, peer and host; all given must match
   * @returns a new array of records (live, read-only views)
   * @throws {@link InvalidArgumentError} when the state or direction is not one of the
   *   known values
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker()
   * const { id } = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001', peer: 'peer-a' })
   * tracker.open(id)
   * tracker.list({ peer: 'peer-a', state: 'open' }).map(record => record.id) // [id]
   * ```
   */
  list (filter: ConnectionFilter = {}): Array<ConnectionRecord<Metadata>> {
    const state = stateFilter(filter.state)
    const direction = directionFilter(filter.direction)
    const result: Array<ConnectionRecord<Metadata>> = []
    const { peer, host } = filter
    if (peer === undefined && host === undefined) {
      // Stryker disable next-line EqualityOperator: past the last lane there is no list: oldest() is undefined
      for (let lane = 0; lane < LANE_COUNT; lane++) {
        if ((state >= 0 && lane >> 1 !== state) || (direction >= 0 && (lane & 1) !== direction)) continue
        for (let entry = this.#lanes.oldest(lane); entry !== undefined; entry = entry.laneNext) {
          result.push(entry.view)
        }
      }
      return result
    }
    // Stryker disable next-line ConditionalExpression: hostKeyOfFilter() of no host is undefined too
    const hostKey = host === undefined ? undefined : hostKeyOfFilter(host)
    if (host !== undefined && hostKey === undefined) {
      return result
    }
    // By the peer's group when a peer is given (a peer has few connections; a host given too
    // is matched one by one), else by the host's.
    const groups: GroupIndex<HostKey, Metadata> = peer === undefined ? this.#hosts : this.#peers
    const group = peer === undefined ? this.#hosts.find(hostKey as HostKey) : this.#peers.find(peer)
    // Stryker disable next-line ConditionalExpression,BlockStatement: a fast path; the loop finds no match either
    if (groups.count(group, state, direction) === 0) {
      return result
    }
    for (let entry = groups.first(group); entry !== undefined; entry = groups.next(entry)) {
      if (entry.matches(state, direction) && (hostKey === undefined || entry.hostKey === hostKey)) {
        result.push(entry.view)
      }
    }
    return result
  }

  /**
   * The recently closed connections, oldest first, at most `connectionHistorySize` of them.
   *
   * @returns a new array of closed records
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker({ connectionHistorySize: 10 })
   * const { id } = tracker.add({ direction: 'outbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
   * tracker.close(id, 'timeout')
   * tracker.history().map(record => record.closeReason) // ['timeout']
   * ```
   */
  history (): Array<ConnectionRecord<Metadata>> {
    return this.#history === undefined ? [] : Array.from(this.#history)
  }

  /**
   * The whole state as plain JSON for a monitoring endpoint: counts by state and direction,
   * per-peer counts, the oldest connection in each state, totals of closed connections by
   * reason and durations over the history. See {@link TrackerSnapshot}.
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker()
   * tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
   * const snapshot = tracker.snapshot()
   * snapshot.connections.pending.inbound // 1
   * JSON.stringify(snapshot) // ready to serve
   * ```
   */
  snapshot (): TrackerSnapshot {
    return buildSnapshot({
      now: this.#clock.now(),
      count: (state, direction) => this.#lanes.count(state, direction),
      peers: this.#peers.groups(),
      hostCount: this.#hosts.size,
      oldest: lane => this.#lanes.oldest(lane),
      streams: this.#streams,
      closedTotal: this.#closedTotal,
      closedByReason: this.#closedByReason,
      history: this.history(),
      historySize: this.#historySize
    })
  }

  /** The entry of a connection about to change state, or the right error. */
  #transitionable (id: number, to: number): Entry<Metadata> {
    const entry = this.#table.get(id)
    if (entry !== undefined) {
      return entry
    }
    if (this.#table.issued(id)) {
      throw new InvalidTransitionError(id, 'closed', stateName(to))
    }
    throw new UnknownConnectionError(id)
  }

  /** The entry of a connection about to be updated, or the right error. */
  #updatable (id: number, operation: string): Entry<Metadata> {
    const entry = this.#table.get(id)
    if (entry !== undefined) {
      return entry
    }
    if (this.#table.issued(id)) {
      throw new ConnectionClosedError(id, operation)
    }
    throw new UnknownConnectionError(id)
  }

  /** Moves a held connection to another active state: its lane, and every count. */
  #move (entry: Entry<Metadata>, state: number): void {
    const from = entry.lane
    entry.state = state
    this.#lanes.moved(entry, from)
    this.#hosts.moved(entry, from)
    this.#peers.moved(entry, from)
  }
}

/**
 * Creates a {@link ConnectionTracker}.
 *
 * @param init - the clock, the history size and the event target; see
 *   {@link ConnectionTrackerInit}
 * @throws `InvalidConfigError` (from `@cm/config`) listing every malformed option
 *
 * @example
 * ```ts
 * import { resolveConfig } from '@cm/config'
 * import { createConnectionTracker } from '@cm/state'
 *
 * const config = resolveConfig({ connectionHistorySize: 500 })
 * const tracker = createConnectionTracker({ connectionHistorySize: config.connectionHistorySize })
 * tracker.size // 0
 * ```
 */
export function createConnectionTracker<Metadata = unknown> (init: ConnectionTrackerInit<Metadata> = {}): ConnectionTracker<Metadata> {
  return new ConnectionTracker<Metadata>(init)
}
