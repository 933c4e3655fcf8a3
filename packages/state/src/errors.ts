import { CmError } from '@cm/config'
import { describeValue } from '@cm/config/validation'
import type { ConnectionState } from './connection-record.ts'

/**
 * Thrown when an operation names a connection ID this tracker never issued.
 *
 * An ID the tracker did issue but whose connection has closed is not unknown: `close()` of
 * it is a no-op, and other operations throw {@link InvalidTransitionError} or
 * {@link ConnectionClosedError}.
 *
 * @example
 * ```ts
 * import { createConnectionTracker, UnknownConnectionError } from '@cm/state'
 *
 * const tracker = createConnectionTracker()
 * try {
 *   tracker.open(42)
 * } catch (error) {
 *   if (UnknownConnectionError.isInstance(error)) {
 *     error.id // 42
 *   }
 * }
 * ```
 */
export class UnknownConnectionError extends CmError {
  static override readonly name: string = 'UnknownConnectionError'

  /** The ID given. */
  readonly id: unknown

  /**
   * @param id - the ID given
   */
  constructor (id: unknown) {
    super(`No connection with ID ${describeValue(id)} was added to this tracker`)
    this.id = id
  }
}

/**
 * Thrown when a state change is not one of the allowed transitions (pending → open,
 * pending → closed, open → closing, open → closed, closing → closed). Nothing is changed.
 *
 * @example
 * ```ts
 * import { createConnectionTracker, InvalidTransitionError } from '@cm/state'
 *
 * const tracker = createConnectionTracker()
 * const connection = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
 * try {
 *   tracker.closing(connection.id, 'local') // a pending connection cannot start closing
 * } catch (error) {
 *   if (InvalidTransitionError.isInstance(error)) {
 *     console.error(error.from, error.to) // 'pending' 'closing'
 *   }
 * }
 * ```
 */
export class InvalidTransitionError extends CmError {
  static override readonly name: string = 'InvalidTransitionError'

  /** The connection's ID. */
  readonly id: number
  /** The state the connection is in. */
  readonly from: ConnectionState
  /** The state asked for. */
  readonly to: ConnectionState

  /**
   * @param id - the connection's ID
   * @param from - its state
   * @param to - the state asked for
   */
  constructor (id: number, from: ConnectionState, to: ConnectionState) {
    super(`Connection ${id} cannot go from ${from} to ${to}; the allowed transitions are pending → open, pending → closed, open → closing, open → closed and closing → closed`)
    this.id = id
    this.from = from
    this.to = to
  }
}

/**
 * Thrown when a closed connection is identified, tagged or has its stream count set.
 * Nothing is changed.
 *
 * @example
 * ```ts
 * import { ConnectionClosedError, createConnectionTracker } from '@cm/state'
 *
 * const tracker = createConnectionTracker()
 * const { id } = tracker.add({ direction: 'outbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001' })
 * tracker.close(id, 'error')
 * try {
 *   tracker.tag(id, 'keep-alive', 1)
 * } catch (error) {
 *   if (ConnectionClosedError.isInstance(error)) {
 *     error.operation // 'tag'
 *   }
 * }
 * ```
 */
export class ConnectionClosedError extends CmError {
  static override readonly name: string = 'ConnectionClosedError'

  /** The connection's ID. */
  readonly id: number
  /** The operation refused: `identify`, `setStreamCount`, `tag` or `untag`. */
  readonly operation: string

  /**
   * @param id - the connection's ID
   * @param operation - the operation refused
   */
  constructor (id: number, operation: string) {
    super(`Connection ${id} is closed: ${operation}() changes only connections that are pending, open or closing`)
    this.id = id
    this.operation = operation
  }
}

/**
 * Thrown when a connection already identified as one peer is identified as another.
 * Nothing is changed.
 *
 * @example
 * ```ts
 * import { createConnectionTracker, PeerMismatchError } from '@cm/state'
 *
 * const tracker = createConnectionTracker()
 * const { id } = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001', peer: 'peer-a' })
 * try {
 *   tracker.identify(id, 'peer-b')
 * } catch (error) {
 *   if (PeerMismatchError.isInstance(error)) {
 *     error.peer // 'peer-a'
 *   }
 * }
 * ```
 */
export class PeerMismatchError extends CmError {
  static override readonly name: string = 'PeerMismatchError'

  /** The connection's ID. */
  readonly id: number
  /** The peer the connection belongs to. */
  readonly peer: string
  /** The other peer given. */
  readonly given: string

  /**
   * @param id - the connection's ID
   * @param peer - its peer
   * @param given - the peer given
   */
  constructor (id: number, peer: string, given: string) {
    super(`Connection ${id} belongs to peer ${peer}; it cannot be identified as ${given}`)
    this.id = id
    this.peer = peer
    this.given = given
  }
}

/**
 * Thrown when an argument is malformed: an unknown direction, state or close reason, an
 * address that is not an IP, a negative stream count, a tag value that is not finite.
 * Nothing is changed.
 *
 * @example
 * ```ts
 * import { createConnectionTracker, InvalidArgumentError } from '@cm/state'
 *
 * const tracker = createConnectionTracker()
 * try {
 *   tracker.add({ direction: 'sideways' as 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/1' })
 * } catch (error) {
 *   if (InvalidArgumentError.isInstance(error)) {
 *     error.argument // 'direction'
 *   }
 * }
 * ```
 */
export class InvalidArgumentError extends CmError {
  static override readonly name: string = 'InvalidArgumentError'

  /** The argument's name, such as `direction` or `filter.state`. */
  readonly argument: string
  /** What it must be. */
  readonly expected: string
  /** A description of the value given. */
  readonly received: string

  /**
   * @param argument - the argument's name
   * @param expected - what it must be
   * @param value - the value given
   * @param options - `cause`, the error that led to this one, if any
   */
  constructor (argument: string, expected: string, value: unknown, options?: { cause?: unknown }) {
    const received = describeValue(value)
    super(`Expected \`${argument}\` to be ${expected}, got ${received}`, options)
    this.argument = argument
    this.expected = expected
    this.received = received
  }
}

/**
 * Thrown by `add()` when the tracker already holds as many connections as it can
 * (8,388,607 at once: far beyond what one process can keep open). Nothing is added.
 *
 * @example
 * ```ts
 * import { TrackerFullError } from '@cm/state'
 *
 * const error: unknown = new TrackerFullError(8_388_607)
 * if (TrackerFullError.isInstance(error)) {
 *   error.capacity // 8388607
 * }
 * ```
 */
export class TrackerFullError extends CmError {
  static override readonly name: string = 'TrackerFullError'

  /** The most connections a tracker holds at once. */
  readonly capacity: number

  /**
   * @param capacity - the most connections a tracker holds at once
   */
  constructor (capacity: number) {
    super(`The tracker holds ${capacity} connections, as many as it can; close some before adding more`)
    this.capacity = capacity
  }
}
