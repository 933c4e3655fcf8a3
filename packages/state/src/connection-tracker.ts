import { CONFIG_RULES, DEFAULT_CONFIG, formatIp, ipFromMultiaddr, parseIpInto, ProblemCollector, resolveOptions, SafeEventEmitter, systemClock } from '@cm/config'
import { isMultiaddr, multiaddr } from '@multiformats/multiaddr'
import { CircularBuffer } from 'mnemonist'
import { ACTIVE_STATES, CLOSE_REASONS, CLOSED, CLOSING, DIRECTIONS, Entry, NO_TAGS, OPEN, PENDING } from './connection-record.ts'
import { ConnectionClosedError, InvalidArgumentError, InvalidTransitionError, PeerMismatchError, TrackerFullError, UnknownConnectionError } from './errors.ts'
import { GroupRecords } from './group-records.ts'
import { HashIndex } from './hash-index.ts'
import { SlotLists } from './slot-lists.ts'
import { buildSnapshot } from './snapshot.ts'
import type { ActiveState, CloseReason, ConnectionRecord, ConnectionState, Direction } from './connection-record.ts'
import type { ConnectionEventDetail, ConnectionTrackerEvents, PeerEventDetail } from './events.ts'
import type { GroupCount, TrackerSnapshot } from './snapshot.ts'
import type { Clock, ListenerErrorHandler, OptionRule, OptionsSchema, TypedEventTarget } from '@cm/config'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Options of a {@link ConnectionTracker}. */
export interface ConnectionTrackerInit<Metadata = unknown> {
  /**
   * The source of time for the timelines, in milliseconds.
   *
   * @default systemClock (`performance.now()`)
   */
  readonly clock?: Clock | undefined

  /**
   * How many recently closed connections to keep in the history. 0 keeps none. The same
   * option, with the same rule, as `ConnectionConfig.connectionHistorySize`.
   *
   * An integer >= 0 and <= 1000000.
   *
   * @default 100
   */
  readonly connectionHistorySize?: number | undefined

  /**
   * The event target to dispatch on, such as the manager's event bus. When it is a
   * `SafeEventEmitter` (from `@cm/config`) a listener that throws cannot crash the process;
   * with another target, a listener error follows that target's rules (Node's
   * `EventTarget` reports it as an uncaught exception), and an error thrown by its
   * `dispatchEvent` itself goes to `onListenerError`.
   *
   * @default a new `SafeEventEmitter` owned by the tracker
   */
  readonly events?: TypedEventTarget<ConnectionTrackerEvents<Metadata>> | undefined

  /**
   * Receives every error thrown by a listener of the tracker's own event target, and any
   * error thrown by the `dispatchEvent` of a target given in `events`.
   *
   * @default a handler that prints the error with `console.error`
   */
  readonly onListenerError?: ListenerErrorHandler | undefined
}

/** What {@link ConnectionTracker.add} needs to know about a new connection. */
export interface AddConnectionInit<Metadata = unknown> {
  /** Whether the remote dialled us (`inbound`) or we dialled it (`outbound`). */
  readonly direction: Direction
  /**
   * The remote address: a multiaddr, or multiaddr text (`/ip4/10.0.0.1/tcp/4001`). Stored
   * as text. When `remoteIp` is not given, text is parsed (a few microseconds; malformed
   * text is refused) and the IP is taken from it; when `remoteIp` is given, text is stored
   * as it is, unparsed.
   */
  readonly remoteAddress: Multiaddr | string
  /**
   * The remote host's IP address text (for example a socket's `remoteAddress`), the key of
   * the host index. Any form `parseIpInto` accepts; stored in canonical form.
   *
   * @default the IP of `remoteAddress`, if it names one
   */
  readonly remoteIp?: string | undefined
  /** The remote peer's ID, if already known (an opaque, non-empty string). */
  readonly peer?: string | undefined
  /** Anything to keep with the connection (for example its socket), stored by reference. */
  readonly metadata?: Metadata | undefined
}

/**
 * Which connections a query selects: the connections matching every filter given. An empty
 * filter selects every connection the tracker holds (pending, open and closing).
 */
export interface ConnectionFilter {
  /** Only connections in this state. */
  readonly state?: ActiveState | undefined
  /** Only connections in this direction. */
  readonly direction?: Direction | undefined
  /** Only connections of this peer. */
  readonly peer?: string | undefined
  /** Only connections from (or to) this IP address, in any form `parseIpInto` accepts. */
  readonly host?: string | undefined
}

/**
 * IDs are `generation * ID_SLOTS + slot`: the slot indexes an array (no hashing, no map to
 * grow), and the generation, raised each time a slot is reused, keeps IDs unique. A slot
 * whose generation reaches {@link MAX_GENERATION} is retired, so IDs stay safe integers.
 */
const ID_SLOTS = 2 ** 23
/** The group of all connections in the tracker's `#all` records. */
const ALL = 1
const MAX_GENERATION = Math.floor(Number.MAX_SAFE_INTEGER / ID_SLOTS) - 1

const STATE_INDEX: Readonly<Record<string, number>> = Object.freeze({ pending: PENDING, open: OPEN, closing: CLOSING })
const STATE_NAMES: readonly ConnectionState[] = ['pending', 'open', 'closing', 'closed']
const CLOSE_REASON_SET: ReadonlySet<string> = new Set(CLOSE_REASONS)

const clockRule: OptionRule<Clock> = {
  expected: 'a clock (an object with a now() method)',
  check (value, path, problems): value is Clock {
    const ok = typeof value === 'object' && value !== null && typeof (value as { now?: unknown }).now === 'function'
    if (!ok) problems.add(path, this.expected, value)
    return ok
  }
}

const eventsRule: OptionRule<TypedEventTarget<never> | undefined> = {
  expected: 'an EventTarget',
  check (value, path, problems): value is TypedEventTarget<never> {
    const ok = typeof value === 'object' && value !== null && typeof (value as { dispatchEvent?: unknown }).dispatchEvent === 'function'
    if (!ok) problems.add(path, this.expected, value)
    return ok
  }
}

const handlerRule: OptionRule<ListenerErrorHandler | undefined> = {
  expected: 'a function',
  check (value, path, problems): value is ListenerErrorHandler {
    const ok = typeof value === 'function'
    if (!ok) problems.add(path, this.expected, value)
    return ok
  }
}

const SCHEMA: OptionsSchema<ConnectionTrackerInit> = {
  clock: { default: systemClock, rule: clockRule },
  connectionHistorySize: { default: DEFAULT_CONFIG.connectionHistorySize, rule: CONFIG_RULES.connectionHistorySize },
  events: { default: undefined, rule: eventsRule },
  onListenerError: { default: undefined, rule: handlerRule }
}

/** Scratch space for parsing IP text without allocating. */
const WORDS = new Uint32Array(4)

/**
 * The host index key of the address {@link canonicalIp} parsed last: the address itself as
 * an int32 for IPv4 (a number key costs a map far less than a string key), its canonical
 * text for IPv6.
 */
let parsedHostKey: number | string = 0

/**
 * The canonical text of an IP address, or `undefined` if `text` is not one; sets
 * {@link parsedHostKey}.
 */
function canonicalIp (text: string): string | undefined {
  const family = parseIpInto(text, WORDS)
  if (family === 0) {
    return undefined
  }
  if (family === 4) {
    parsedHostKey = (WORDS[0] ?? 0) | 0
    // A dotted quad that the strict parser accepts is already canonical.
    return text.includes(':') ? formatIp(4, WORDS) : text
  }
  const canonical = formatIp(6, WORDS)
  parsedHostKey = canonical
  return canonical
}

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
  readonly #onListenerError: ListenerErrorHandler | undefined
  readonly #countsListeners: boolean
  /** Entries by the slot of their ID (see ID_SLOTS); slot 0 is never used. */
  readonly #slots: Array<Entry<Metadata> | undefined> = [undefined]
  /** The generation of the last ID issued in each slot. */
  readonly #generations: number[] = [0]
  /** Slots free for reuse (the most recently freed last). */
  readonly #free: number[] = []
  /** The counters of all connections: group {@link ALL} of its own records. */
  readonly #all = new GroupRecords<undefined>()
  /**
   * The peer index: each peer's group in `#peerGroups`, or its only connection's ID slot,
   * negated (most peers have one connection; this saves a group record per connection).
   */
  readonly #peers: HashIndex<string>
  readonly #peerGroups = new GroupRecords<string>()
  /** The lists of each peer's connections, by ID slot. */
  readonly #peerLists = new SlotLists()
  /** The same for hosts, by host index key. */
  readonly #hosts: HashIndex<number | string>
  readonly #hostGroups = new GroupRecords<number | string>()
  readonly #hostLists = new SlotLists()
  /** The heads and tails of the lists of the connections in each slot, oldest first. */
  readonly #slotHeads: Array<Entry<Metadata> | undefined> = [undefined, undefined, undefined, undefined, undefined, undefined]
  readonly #slotTails: Array<Entry<Metadata> | undefined> = [undefined, undefined, undefined, undefined, undefined, undefined]
  readonly #history: CircularBuffer<ConnectionRecord<Metadata>> | undefined
  readonly #historySize: number
  readonly #closedByReason: Record<CloseReason, number>
  #closedTotal = 0
  #streams = 0
  /** Events waiting to be dispatched (type, detail pairs), and whether a dispatch is running. */
  readonly #queue: unknown[] = []
  #dispatching = false

  /**
   * @param init - the clock, the history size and the event target; see
   *   {@link ConnectionTrackerInit}
   * @throws `InvalidConfigError` (from `@cm/config`) listing every malformed option
   */
  constructor (init: ConnectionTrackerInit<Metadata> = {}) {
    const problems = new ProblemCollector()
    const options = resolveOptions(SCHEMA, init, problems)
    problems.throwIfAny()
    this.#clock = options.clock ?? systemClock
    this.#historySize = options.connectionHistorySize ?? DEFAULT_CONFIG.connectionHistorySize
    this.#history = this.#historySize > 0 ? new CircularBuffer<ConnectionRecord<Metadata>>(Array, this.#historySize) : undefined
    this.#closedByReason = Object.fromEntries(CLOSE_REASONS.map(reason => [reason, 0])) as Record<CloseReason, number>
    const onListenerError = options.onListenerError
    if (options.events === undefined) {
      this.events = new SafeEventEmitter<ConnectionTrackerEvents<Metadata>>(onListenerError === undefined ? {} : { onListenerError })
    } else {
      this.events = options.events
    }
    this.#onListenerError = onListenerError
    this.#countsListeners = typeof (this.events as { listenerCount?: unknown }).listenerCount === 'function'
    this.#all.create(undefined)
    const slots = this.#slots
    const peerGroups = this.#peerGroups
    const hostGroups = this.#hostGroups
    this.#peers = new HashIndex<string>(group => group > 0 ? peerGroups.key(group) : slots[-group]?.peer ?? '')
    this.#hosts = new HashIndex<number | string>(group => group > 0 ? hostGroups.key(group) : slots[-group]?.hostKey ?? '')
  }

  /** The number of connections held (pending, open and closing). */
  get size (): number {
    return this.#all.total(ALL)
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
    let host: string | undefined
    if (remoteIp !== undefined) {
      host = typeof remoteIp === 'string' ? canonicalIp(remoteIp) : undefined
      if (host === undefined) {
        throw new InvalidArgumentError('remoteIp', 'an IP address', remoteIp)
      }
    } else {
      let parsed: Multiaddr
      try {
        parsed = typeof remoteAddress === 'string' ? multiaddr(remoteAddress) : remoteAddress
      } catch (error) {
        throw new InvalidArgumentError('remoteAddress', 'a multiaddr or multiaddr text', remoteAddress, { cause: error })
      }
      const ip = ipFromMultiaddr(parsed)
      host = ip === undefined ? undefined : canonicalIp(ip)
    }
    const hostKey = host === undefined ? undefined : parsedHostKey
    if (peer !== undefined) {
      checkNonEmpty('peer', peer)
    }
    const id = this.#newId()
    const entry = new Entry<Metadata>(id, directionIndex, address, host, hostKey, peer, this.#clock.now(), metadata)
    this.#slots[id % ID_SLOTS] = entry
    this.#linkSlot(entry)
    this.#all.add(ALL, entry.slot, 1)
    if (hostKey !== undefined) {
      this.#joinHost(entry, hostKey)
    }
    if (peer !== undefined) {
      this.#joinPeer(entry, peer)
    }
    if (this.#listening('connection:pending')) {
      this.#enqueue('connection:pending', connectionDetail(entry, undefined))
    }
    this.#drain()
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
    if (this.#listening('connection:open')) {
      this.#enqueue('connection:open', connectionDetail(entry, 'pending'))
    }
    if (entry.peer !== undefined && this.#peerConnected(entry) === 1 && this.#listening('peer:connect')) {
      this.#enqueue('peer:connect', peerDetail(entry))
    }
    this.#drain()
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
    if (this.#listening('connection:closing')) {
      this.#enqueue('connection:closing', connectionDetail(entry, 'open'))
    }
    this.#drain()
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
    const entry = this.#lookup(id)
    if (entry === undefined) {
      if (this.#issued(id)) {
        return false
      }
      throw new UnknownConnectionError(id)
    }
    const previous = entry.state
    const wasConnected = previous === OPEN || previous === CLOSING
    entry.closedAt = this.#clock.now()
    entry.timeline = undefined
    if (entry.closeReason === undefined || (reason === 'timeout' && previous === CLOSING)) {
      entry.closeReason = reason
      entry.closeError = error
    } else if (entry.closeError === undefined && error !== undefined) {
      entry.closeError = error
    }
    const idSlot = id % ID_SLOTS
    this.#release(idSlot)
    this.#unlinkSlot(entry)
    const slot = entry.slot
    this.#all.add(ALL, slot, -1)
    entry.state = CLOSED
    if (entry.hostKey !== undefined) {
      leaveGroup(this.#hosts, this.#hostGroups, this.#hostLists, entry.hostGroup, entry.hostHash, idSlot, slot)
      entry.hostGroup = 0
    }
    let disconnected = false
    if (entry.peer !== undefined) {
      const group = entry.peerGroup
      // Its peer's other connections that opened and have not closed.
      const others = group === 0 ? 0 : this.#peerGroups.connected(group) - (wasConnected ? 1 : 0)
      leaveGroup(this.#peers, this.#peerGroups, this.#peerLists, group, entry.peerHash, idSlot, slot)
      disconnected = wasConnected && others === 0
      entry.peerGroup = 0
    }
    this.#streams -= entry.streams
    this.#closedTotal++
    this.#closedByReason[entry.closeReason]++
    this.#history?.push(entry.view)
    if (this.#listening('connection:close')) {
      this.#enqueue('connection:close', connectionDetail(entry, stateName(previous)))
    }
    if (disconnected && this.#listening('peer:disconnect')) {
      this.#enqueue('peer:disconnect', peerDetail(entry))
    }
    this.#drain()
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
    this.#joinPeer(entry, peer)
    if (entry.state !== PENDING && this.#peerConnected(entry) === 1 && this.#listening('peer:connect')) {
      this.#enqueue('peer:connect', peerDetail(entry))
    }
    this.#drain()
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
    if (typeof value !== 'number' || !Number.isFinite(value)) {
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
    if (!Object.hasOwn(entry.tags, name)) {
      return
    }
    const tags = Object.assign(Object.create(null) as Record<string, number>, entry.tags)
    delete tags[name]
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
    return this.#lookup(id)?.view
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
      const canonical = typeof host === 'string' ? canonicalIp(host) : undefined
      const group = canonical === undefined ? 0 : this.#peers.get(peer)
      let count = 0
      const lists = this.#peerLists
      for (let index = headOf(this.#peerGroups, group); index !== 0; index = lists.next(index)) {
        const entry = this.#slots[index]
        if (entry !== undefined && entry.host === canonical && matches(entry, state, direction)) count++
      }
      return count
    }
    if (host !== undefined) {
      return this.#countGroup(this.#hostGroups, this.#hostGroupOf(host), state, direction)
    }
    if (peer !== undefined) {
      return this.#countGroup(this.#peerGroups, this.#peers.get(peer), state, direction)
    }
    return this.#all.count(ALL, state, direction)
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
      for (let slot = 0; slot < 6; slot++) {
        if ((state >= 0 && slot >> 1 !== state) || (direction >= 0 && (slot & 1) !== direction)) continue
        for (let entry = this.#slotHeads[slot]; entry !== undefined; entry = entry.slotNext) {
          result.push(entry.view)
        }
      }
      return result
    }
    if (peer === undefined) {
      const group = this.#hostGroupOf(host)
      if (this.#countGroup(this.#hostGroups, group, state, direction) === 0) {
        return result
      }
      const lists = this.#hostLists
      for (let index = headOf(this.#hostGroups, group); index !== 0; index = lists.next(index)) {
        const entry = this.#slots[index]
        if (entry !== undefined && matches(entry, state, direction)) result.push(entry.view)
      }
      return result
    }
    const canonicalHost = typeof host === 'string' ? canonicalIp(host) : undefined
    if (host !== undefined && canonicalHost === undefined) {
      return result
    }
    const group = this.#peers.get(peer)
    if (this.#countGroup(this.#peerGroups, group, state, direction) === 0) {
      return result
    }
    const lists = this.#peerLists
    for (let index = headOf(this.#peerGroups, group); index !== 0; index = lists.next(index)) {
      const entry = this.#slots[index]
      if (entry !== undefined && matches(entry, state, direction) && (canonicalHost === undefined || entry.host === canonicalHost)) {
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
      count: (state, direction) => this.#all.count(ALL, state, direction),
      peers: this.#peerCounts(),
      hostCount: this.#hosts.size,
      slotHeads: this.#slotHeads,
      streams: this.#streams,
      closedTotal: this.#closedTotal,
      closedByReason: this.#closedByReason,
      history: this.history(),
      historySize: this.#historySize
    })
  }

  /** A new ID, in a free slot. */
  #newId (): number {
    const slot = this.#free.pop()
    if (slot === undefined) {
      const fresh = this.#slots.length
      if (fresh >= ID_SLOTS) {
        throw new TrackerFullError(ID_SLOTS - 1)
      }
      this.#slots.push(undefined)
      this.#generations.push(0)
      this.#peerLists.reserve(fresh)
      this.#hostLists.reserve(fresh)
      return fresh
    }
    const generation = (this.#generations[slot] ?? 0) + 1
    this.#generations[slot] = generation
    return generation * ID_SLOTS + slot
  }

  /** Frees the slot of a closed connection's ID for reuse, unless it is worn out. */
  #release (slot: number): void {
    this.#slots[slot] = undefined
    if ((this.#generations[slot] ?? MAX_GENERATION) < MAX_GENERATION) {
      this.#free.push(slot)
    }
  }

  /** The entry of a connection the tracker holds, by ID. */
  #lookup (id: number): Entry<Metadata> | undefined {
    if (typeof id !== 'number') {
      return undefined
    }
    const entry = this.#slots[id % ID_SLOTS]
    return entry !== undefined && entry.id === id ? entry : undefined
  }

  /** Whether `id` was issued by this tracker (so its connection is held or has closed). */
  #issued (id: number): boolean {
    if (!Number.isSafeInteger(id) || id < 1) {
      return false
    }
    const slot = id % ID_SLOTS
    const generation = (id - slot) / ID_SLOTS
    return slot >= 1 && slot < this.#generations.length && generation <= (this.#generations[slot] ?? -1)
  }

  /** The entry of a connection about to change state, or the right error. */
  #transitionable (id: number, to: number): Entry<Metadata> {
    const entry = this.#lookup(id)
    if (entry !== undefined) {
      return entry
    }
    if (this.#issued(id)) {
      throw new InvalidTransitionError(id, 'closed', stateName(to))
    }
    throw new UnknownConnectionError(id)
  }

  /** The entry of a connection about to be updated, or the right error. */
  #updatable (id: number, operation: string): Entry<Metadata> {
    const entry = this.#lookup(id)
    if (entry !== undefined) {
      return entry
    }
    if (this.#issued(id)) {
      throw new ConnectionClosedError(id, operation)
    }
    throw new UnknownConnectionError(id)
  }

  /** The value of a host in the host index (0: no connection from it, or not an IP address). */
  #hostGroupOf (host: unknown): number {
    const canonical = typeof host === 'string' ? canonicalIp(host) : undefined
    return canonical === undefined ? 0 : this.#hosts.get(parsedHostKey)
  }

  /**
   * How many connections of a group are in `state` and `direction` (-1: any), given the
   * group's value in its index.
   */
  #countGroup<Key> (groups: GroupRecords<Key>, group: number, state: number, direction: number): number {
    if (group > 0) {
      return groups.count(group, state, direction)
    }
    const entry = this.#slots[-group]
    return group !== 0 && entry !== undefined && matches(entry, state, direction) ? 1 : 0
  }

  /** How many connections of an identified connection's peer have opened and not closed. */
  #peerConnected (entry: Entry<Metadata>): number {
    if (entry.peerGroup !== 0) return this.#peerGroups.connected(entry.peerGroup)
    return entry.state === OPEN || entry.state === CLOSING ? 1 : 0
  }

  /** Every peer, with its connections' counts. */
  * #peerCounts (): Iterable<[string, GroupCount]> {
    const groups = this.#peerGroups
    for (const [peer, group] of this.#peers) {
      yield [peer, (state, direction) => this.#countGroup(groups, group, state, direction)]
    }
  }

  /** Puts a connection in its peer's group. */
  #joinPeer (entry: Entry<Metadata>, peer: string): void {
    entry.peerHash = this.#peers.hashOf(peer)
    joinGroup(this.#peers, this.#peerGroups, this.#peerLists, this.#slots, peer, entry.peerHash, entry, setPeerGroup)
  }

  /** Puts a connection in its host's group. */
  #joinHost (entry: Entry<Metadata>, hostKey: number | string): void {
    entry.hostHash = this.#hosts.hashOf(hostKey)
    joinGroup(this.#hosts, this.#hostGroups, this.#hostLists, this.#slots, hostKey, entry.hostHash, entry, setHostGroup)
  }

  /** Moves a held connection to another active state: its lists and every counter. */
  #move (entry: Entry<Metadata>, state: number): void {
    const from = entry.slot
    this.#unlinkSlot(entry)
    entry.state = state
    const to = entry.slot
    this.#linkSlot(entry)
    this.#all.move(ALL, from, to)
    if (entry.hostGroup !== 0) this.#hostGroups.move(entry.hostGroup, from, to)
    if (entry.peerGroup !== 0) this.#peerGroups.move(entry.peerGroup, from, to)
  }

  /** Appends a connection to the list of its slot (the newest last). */
  #linkSlot (entry: Entry<Metadata>): void {
    const slot = entry.slot
    const tail = this.#slotTails[slot]
    entry.slotPrevious = tail
    entry.slotNext = undefined
    if (tail === undefined) this.#slotHeads[slot] = entry
    else tail.slotNext = entry
    this.#slotTails[slot] = entry
  }

  #unlinkSlot (entry: Entry<Metadata>): void {
    const slot = entry.slot
    const { slotPrevious: previous, slotNext: next } = entry
    if (previous === undefined) this.#slotHeads[slot] = next
    else previous.slotNext = next
    if (next === undefined) this.#slotTails[slot] = previous
    else next.slotPrevious = previous
    entry.slotPrevious = undefined
    entry.slotNext = undefined
  }

  /** Whether an event of this type would reach a listener. */
  #listening (type: keyof ConnectionTrackerEvents): boolean {
    return !this.#countsListeners || this.events.listenerCount(type) > 0
  }

  #enqueue (type: keyof ConnectionTrackerEvents, detail: ConnectionEventDetail<Metadata> | PeerEventDetail<Metadata>): void {
    this.#queue.push(type, detail)
  }

  /**
   * Dispatches the queued events in order. A change made by a listener queues its events
   * behind the ones waiting, so they are dispatched in the order of the changes.
   */
  #drain (): void {
    if (this.#dispatching || this.#queue.length === 0) {
      return
    }
    this.#dispatching = true
    const queue = this.#queue
    try {
      for (let index = 0; index < queue.length; index += 2) {
        const event = new CustomEvent(queue[index] as string, { detail: queue[index + 1] })
        try {
          this.events.dispatchEvent(event)
        } catch (error) {
          this.#reportDispatchError(error, event)
        }
      }
    } finally {
      queue.length = 0
      this.#dispatching = false
    }
  }

  #reportDispatchError (error: unknown, event: Event): void {
    if (this.#onListenerError === undefined) {
      console.error(`@cm: dispatching "${event.type}" threw`, error)
      return
    }
    try {
      this.#onListenerError(error, event)
    } catch {
      // The handler of last resort failed: nothing is left to report to.
    }
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

/**
 * Puts a connection (in `slots`, under its ID's slot) in the group of `key`: as the index's
 * value, its ID slot negated, while it is the key's only connection; from the second one
 * on, in a group record (made then, with both connections).
 */
function joinGroup<Key extends number | string, Metadata> (
  index: HashIndex<Key>,
  groups: GroupRecords<Key>,
  lists: SlotLists,
  slots: ReadonlyArray<Entry<Metadata> | undefined>,
  key: Key,
  hash: number,
  entry: Entry<Metadata>,
  setGroup: (entry: Entry<Metadata>, group: number) => void
): void {
  const held = index.getOrSet(key, -(entry.id % ID_SLOTS), hash)
  if (held === 0) {
    return
  }
  let group = held
  if (held < 0) {
    const first = slots[-held] as Entry<Metadata>
    group = groups.create(key)
    pushToGroup(groups, lists, group, first)
    setGroup(first, group)
    index.replace(hash, held, group)
  }
  pushToGroup(groups, lists, group, entry)
  setGroup(entry, group)
}

/** Records the group of a connection's peer in its entry. */
function setPeerGroup<Metadata> (entry: Entry<Metadata>, group: number): void {
  entry.peerGroup = group
}

/** Records the group of a connection's host in its entry. */
function setHostGroup<Metadata> (entry: Entry<Metadata>, group: number): void {
  entry.hostGroup = group
}

/** Puts a connection at the head of a group's list and counts it. */
function pushToGroup<Key, Metadata> (groups: GroupRecords<Key>, lists: SlotLists, group: number, entry: Entry<Metadata>): void {
  groups.setHead(group, lists.push(groups.head(group), entry.id % ID_SLOTS))
  groups.add(group, entry.slot, 1)
}

/**
 * Takes a closing connection (in ID slot `idSlot`, counted in state-and-direction `slot`)
 * out of its group (`group`, 0 if it was the key's only connection) and out of the index
 * when it was the group's last.
 */
function leaveGroup<Key extends number | string> (index: HashIndex<Key>, groups: GroupRecords<Key>, lists: SlotLists, group: number, hash: number, idSlot: number, slot: number): void {
  if (group === 0) {
    index.remove(hash, -idSlot)
    return
  }
  groups.setHead(group, lists.remove(groups.head(group), idSlot))
  groups.add(group, slot, -1)
  if (groups.total(group) === 0) {
    index.remove(hash, group)
    groups.release(group)
  }
}

/** The ID slot of the first connection of a group's list, given the group's index value. */
function headOf<Key> (groups: GroupRecords<Key>, group: number): number {
  return group > 0 ? groups.head(group) : -group
}

/** Whether a connection is in `state` and `direction` (-1: any). */
function matches<Metadata> (entry: Entry<Metadata>, state: number, direction: number): boolean {
  return (state < 0 || entry.state === state) && (direction < 0 || entry.direction === direction)
}

function stateName (state: number): ConnectionState {
  return STATE_NAMES[state] ?? 'closed'
}

function stateFilter (state: ActiveState | undefined): number {
  if (state === undefined) return -1
  const index = STATE_INDEX[state]
  if (index === undefined || !Object.hasOwn(STATE_INDEX, state)) {
    throw new InvalidArgumentError('filter.state', `one of ${ACTIVE_STATES.map(name => `"${name}"`).join(', ')}`, state)
  }
  return index
}

function directionFilter (direction: Direction | undefined): number {
  if (direction === undefined) return -1
  if (direction === 'inbound') return 0
  if (direction === 'outbound') return 1
  throw new InvalidArgumentError('filter.direction', DIRECTIONS.map(name => `"${name}"`).join(' or '), direction)
}

function checkNonEmpty (argument: string, value: unknown): void {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(argument, 'a non-empty string', value)
  }
}

function checkReason (reason: unknown, error: unknown): void {
  if (typeof reason !== 'string' || !CLOSE_REASON_SET.has(reason)) {
    throw new InvalidArgumentError('reason', `one of ${CLOSE_REASONS.map(name => `"${name}"`).join(', ')}`, reason)
  }
  if (error !== undefined && !(error instanceof Error)) {
    throw new InvalidArgumentError('error', 'an Error', error)
  }
}

function connectionDetail<Metadata> (entry: Entry<Metadata>, previous: ConnectionState | undefined): ConnectionEventDetail<Metadata> {
  return { connection: entry.view, state: stateName(entry.state), previous }
}

function peerDetail<Metadata> (entry: Entry<Metadata>): PeerEventDetail<Metadata> {
  return { peer: entry.peer ?? '', connection: entry.view }
}
