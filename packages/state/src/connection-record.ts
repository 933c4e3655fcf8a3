import { slotOf } from './entry-table.ts'

/**
 * The direction of a connection: `inbound` (the remote dialled us) or `outbound` (we dialled).
 *
 * @example
 * ```ts
 * import { createConnectionTracker } from '@cm/state'
 * import type { Direction } from '@cm/state'
 *
 * const direction: Direction = 'outbound'
 * createConnectionTracker().add({ direction, remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
 * ```
 */
export type Direction = 'inbound' | 'outbound'

/**
 * The state of a connection. The allowed transitions are pending → open, pending → closed
 * (failed or refused), open → closing, open → closed (reset by the remote or an error) and
 * closing → closed.
 *
 * @example
 * ```ts
 * import { createConnectionTracker } from '@cm/state'
 * import type { ConnectionState } from '@cm/state'
 *
 * const record = createConnectionTracker().add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
 * const state: ConnectionState = record.state // 'pending'
 * ```
 */
export type ConnectionState = 'pending' | 'open' | 'closing' | 'closed'

/**
 * The states of connections the tracker holds, and the states a query can select: every
 * state but `closed` (closed connections leave the tracker).
 *
 * @example
 * ```ts
 * import { createConnectionTracker } from '@cm/state'
 * import type { ActiveState } from '@cm/state'
 *
 * const tracker = createConnectionTracker()
 * const busy: ActiveState[] = ['pending', 'closing']
 * busy.map(state => tracker.count({ state })) // [0, 0]
 * ```
 */
export type ActiveState = Exclude<ConnectionState, 'closed'>

/**
 * Why a connection closed.
 *
 * - `local`: this node closed it on purpose (a normal hang-up).
 * - `remote`: the remote end closed it.
 * - `error`: it failed: a transport or protocol error, a reset, a failed upgrade or dial.
 * - `timeout`: something took too long: the dial, the upgrade, an idle or a close timeout.
 * - `pruned`: the pruner closed it to bring the node back under a limit.
 * - `denied`: the gate refused it (deny list, exclusive allow list, a refused peer).
 * - `limit`: a connection limit refused it (`maxConnections`, per peer, pending inbound).
 * - `aborted`: the caller aborted it (an abort signal).
 * - `shutdown`: the node is stopping.
 *
 * @example
 * ```ts
 * import { createConnectionTracker } from '@cm/state'
 * import type { CloseReason } from '@cm/state'
 *
 * const tracker = createConnectionTracker()
 * const { id } = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
 * const reason: CloseReason = 'pruned'
 * tracker.close(id, reason)
 * ```
 */
export type CloseReason = 'local' | 'remote' | 'error' | 'timeout' | 'pruned' | 'denied' | 'limit' | 'aborted' | 'shutdown'

/**
 * Every {@link CloseReason}, in the order documented there.
 *
 * @example
 * ```ts
 * import { CLOSE_REASONS } from '@cm/state'
 * import type { CloseReason } from '@cm/state'
 *
 * function isCloseReason (value: string): value is CloseReason {
 *   return (CLOSE_REASONS as readonly string[]).includes(value)
 * }
 * isCloseReason('pruned') // true
 * ```
 */
export const CLOSE_REASONS: readonly CloseReason[] = Object.freeze(['local', 'remote', 'error', 'timeout', 'pruned', 'denied', 'limit', 'aborted', 'shutdown'])

/** Every {@link ActiveState}, in lifecycle order. */
export const ACTIVE_STATES: readonly ActiveState[] = Object.freeze(['pending', 'open', 'closing'])

/** Both directions. */
export const DIRECTIONS: readonly Direction[] = Object.freeze(['inbound', 'outbound'])

/**
 * When a connection entered each state, in milliseconds of the tracker's clock. A state not
 * (yet) reached is absent.
 */
export interface ConnectionTimeline {
  /** When it was added (pending). */
  readonly pending: number
  /** When it opened. */
  readonly open?: number
  /** When it started closing. */
  readonly closing?: number
  /** When it closed. */
  readonly closed?: number
}

/** A connection record in plain JSON form (no metadata), for logs and monitoring endpoints. */
export interface ConnectionRecordJson {
  /** See {@link ConnectionRecord.id}. */
  readonly id: number
  /** See {@link ConnectionRecord.direction}. */
  readonly direction: Direction
  /** See {@link ConnectionRecord.remoteAddress}. */
  readonly remoteAddress: string
  /** See {@link ConnectionRecord.remoteIp}. */
  readonly remoteIp?: string
  /** See {@link ConnectionRecord.peer}. */
  readonly peer?: string
  /** See {@link ConnectionRecord.state}. */
  readonly state: ConnectionState
  /** See {@link ConnectionRecord.timeline}. */
  readonly timeline: ConnectionTimeline
  /** See {@link ConnectionRecord.closeReason}. */
  readonly closeReason?: CloseReason
  /** The message of {@link ConnectionRecord.closeError}, if any. */
  readonly closeError?: string
  /** See {@link ConnectionRecord.streams}. */
  readonly streams: number
  /** See {@link ConnectionRecord.tags}. */
  readonly tags: Readonly<Record<string, number>>
}

/** @internal The index of each state (a direction's is 0 inbound, 1 outbound); see lanes.ts. */
export const PENDING = 0
/** @internal */
export const OPEN = 1
/** @internal */
export const CLOSING = 2
/** @internal */
export const CLOSED = 3
const STATE_NAMES: readonly ConnectionState[] = ['pending', 'open', 'closing', 'closed']

/** @internal The name of a state's index. */
export function stateName (state: number): ConnectionState {
  // Stryker disable next-line StringLiteral: states are 0 to 3; the fallback narrows the type
  return STATE_NAMES[state] ?? 'closed'
}

/** @internal A shared, frozen, empty tag set. */
export const NO_TAGS: Readonly<Record<string, number>> = Object.freeze(Object.create(null) as Record<string, number>)

/**
 * @internal
 * The tracker's own mutable record of one connection, with the links of its lane's list and
 * its places in the peer and host indexes. Never handed out: users see it through a
 * {@link ConnectionRecord}.
 */
export class Entry<Metadata> {
  readonly id: number
  /** The ID slot of `id`, where the tracker's tables hold the connection (see entry-table.ts). */
  readonly slot: number
  /** 0 inbound, 1 outbound. */
  readonly direction: 0 | 1
  readonly remoteAddress: string
  /** The canonical IP text. */
  readonly host: string | undefined
  /** The key of the host index: the IPv4 address as an int32, or the IPv6 canonical text. */
  readonly hostKey: number | string | undefined
  peer: string | undefined
  /** PENDING, OPEN, CLOSING or CLOSED. */
  state: number
  readonly pendingAt: number
  openAt: number | undefined = undefined
  closingAt: number | undefined = undefined
  closedAt: number | undefined = undefined
  /** The frozen timeline last handed out, until the next transition (made when first read). */
  timeline: ConnectionTimeline | undefined = undefined
  closeReason: CloseReason | undefined = undefined
  closeError: Error | undefined = undefined
  streams = 0
  tags: Readonly<Record<string, number>> = NO_TAGS
  readonly metadata: Metadata | undefined
  readonly view: ConnectionRecord<Metadata>

  // Links of the list of the connections in the same lane (see Lanes).
  lanePrevious: Entry<Metadata> | undefined = undefined
  laneNext: Entry<Metadata> | undefined = undefined
  /**
   * The record ID of the peer's group in the peer index; 0 while that group is a solo (the
   * peer's first connection, alone so far: see GroupIndex), or without a peer.
   */
  peerGroup = 0
  /** The peer's hash in the peer index (kept so that closing does not hash it again). */
  peerHash = 0
  /** The same for the host index. */
  hostGroup = 0
  /** The host key's hash in the host index. */
  hostHash = 0

  constructor (id: number, direction: 0 | 1, remoteAddress: string, host: string | undefined, hostKey: number | string | undefined, peer: string | undefined, now: number, metadata: Metadata | undefined) {
    this.id = id
    this.slot = slotOf(id)
    this.direction = direction
    this.remoteAddress = remoteAddress
    this.host = host
    this.hostKey = hostKey
    this.peer = peer
    this.state = PENDING
    this.pendingAt = now
    this.metadata = metadata
    this.view = createView(this)
  }

  /** The lane of the connection: `state * 2 + direction` (see lanes.ts). */
  get lane (): number {
    return this.state * 2 + this.direction
  }

  /** Whether the connection is in `state` and `direction` (-1: any). */
  matches (state: number, direction: number): boolean {
    return (state < 0 || this.state === state) && (direction < 0 || this.direction === direction)
  }
}

let createView: <Metadata>(entry: Entry<Metadata>) => ConnectionRecord<Metadata>
const CONSTRUCTING = Symbol('ConnectionRecord')

/**
 * One connection as the tracker sees it: a read-only, live view. Its properties follow the
 * connection as it changes state; nothing can be changed through it (the tracker's indexes
 * cannot be corrupted by a user), and it cannot be constructed outside the tracker.
 *
 * A closed connection's record no longer changes; it stays readable for as long as a
 * reference to it is kept (the history keeps the most recent ones).
 *
 * @example
 * ```ts
 * import { createConnectionTracker } from '@cm/state'
 *
 * const tracker = createConnectionTracker()
 * const record = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
 * record.state // 'pending'
 * tracker.open(record.id)
 * record.state // 'open': the same object, up to date
 * record.remoteIp // '10.0.0.1'
 * JSON.stringify(record) // plain JSON, through toJSON()
 * ```
 */
export class ConnectionRecord<Metadata = unknown> {
  readonly #entry: Entry<Metadata>

  static {
    createView = <M>(entry: Entry<M>): ConnectionRecord<M> => new ConnectionRecord(CONSTRUCTING, entry)
  }

  private constructor (token: symbol, entry: Entry<Metadata>) {
    if (token !== CONSTRUCTING) {
      throw new TypeError('A ConnectionRecord is made by a ConnectionTracker, not constructed directly')
    }
    this.#entry = entry
  }

  /**
   * The connection's ID: a positive safe integer, unique within its tracker and never
   * reused. IDs are not sequential: the first connections get 1, 2, 3, ...; later ones
   * reuse the array slot of a closed connection under a new, larger ID.
   */
  get id (): number {
    return this.#entry.id
  }

  /** Whether the remote dialled us (`inbound`) or we dialled it (`outbound`). */
  get direction (): Direction {
    return this.#entry.direction === 0 ? 'inbound' : 'outbound'
  }

  /** The remote address as multiaddr text (`/ip4/10.0.0.1/tcp/4001`), as given to `add()`. */
  get remoteAddress (): string {
    return this.#entry.remoteAddress
  }

  /**
   * The remote host's IP address in canonical text (`10.0.0.1`, `2001:db8::1`; an
   * IPv4-mapped IPv6 address as IPv4), or `undefined` when the address names no directly
   * reachable IP host (DNS names, relayed addresses).
   */
  get remoteIp (): string | undefined {
    return this.#entry.host
  }

  /** The remote peer's ID, once known (given to `add()` or `identify()`). */
  get peer (): string | undefined {
    return this.#entry.peer
  }

  /** The connection's state. */
  get state (): ConnectionState {
    return stateName(this.#entry.state)
  }

  /**
   * When the connection entered each state so far. A frozen object: the same one until the
   * connection changes state (made on first read, so reading it costs nothing afterwards).
   */
  get timeline (): ConnectionTimeline {
    const entry = this.#entry
    if (entry.timeline === undefined) {
      const timeline: { -readonly [K in keyof ConnectionTimeline]: ConnectionTimeline[K] } = { pending: entry.pendingAt }
      if (entry.openAt !== undefined) timeline.open = entry.openAt
      if (entry.closingAt !== undefined) timeline.closing = entry.closingAt
      if (entry.closedAt !== undefined) timeline.closed = entry.closedAt
      entry.timeline = Object.freeze(timeline)
    }
    return entry.timeline
  }

  /**
   * Why the connection closed (or is closing): the reason given to `closing()`, or to
   * `close()` if it did not go through closing; `'timeout'` when a graceful close ran out
   * of time (`close(id, 'timeout')` of a closing connection). `undefined` while pending or
   * open.
   */
  get closeReason (): CloseReason | undefined {
    return this.#entry.closeReason
  }

  /** The error given with the close reason, if any. */
  get closeError (): Error | undefined {
    return this.#entry.closeError
  }

  /** The number of streams open on the connection, as last set with `setStreamCount()`. */
  get streams (): number {
    return this.#entry.streams
  }

  /**
   * The connection's tags: name to numeric value (for pruning). A frozen object, replaced
   * (not changed) by `tag()` and `untag()`.
   */
  get tags (): Readonly<Record<string, number>> {
    return this.#entry.tags
  }

  /** The metadata given to `add()`, stored by reference (not copied), if any. */
  get metadata (): Metadata | undefined {
    return this.#entry.metadata
  }

  /**
   * The record as plain JSON, without metadata (which may hold anything, such as a socket)
   * and with the close error reduced to its message.
   *
   * @example
   * ```ts
   * import { createConnectionTracker } from '@cm/state'
   *
   * const tracker = createConnectionTracker()
   * const record = tracker.add({ direction: 'outbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
   * record.toJSON().state // 'pending'
   * ```
   */
  toJSON (): ConnectionRecordJson {
    const entry = this.#entry
    const json: { -readonly [K in keyof ConnectionRecordJson]: ConnectionRecordJson[K] } = {
      id: entry.id,
      direction: this.direction,
      remoteAddress: entry.remoteAddress,
      state: this.state,
      timeline: this.timeline,
      streams: entry.streams,
      tags: entry.tags
    }
    if (entry.host !== undefined) json.remoteIp = entry.host
    if (entry.peer !== undefined) json.peer = entry.peer
    if (entry.closeReason !== undefined) json.closeReason = entry.closeReason
    if (entry.closeError !== undefined) json.closeError = entry.closeError.message
    return json
  }
}
