import { CmError } from '@cm/config'

/**
 * Thrown (as a rejection) by an awaited fleet operation that cannot finish because the
 * fleet was stopped: a pending `start()`, or a rule write still queued for Redis.
 *
 * @example
 * ```ts
 * import { FleetStoppedError } from '@cm/fleet'
 *
 * const error: unknown = new FleetStoppedError('start')
 * FleetStoppedError.isInstance(error) // true
 * ```
 */
export class FleetStoppedError extends CmError {
  static override readonly name: string = 'FleetStoppedError'

  /** The operation that was cut short, such as `'start'` or `'deny'`. */
  readonly operation: string

  /**
   * @param operation - the operation that was cut short
   */
  constructor (operation: string) {
    super(`The fleet was stopped before ${operation}() finished`)
    this.operation = operation
  }
}

/**
 * Thrown (as a rejection) by a rule write when the queue of writes waiting for Redis is
 * full (`maxQueuedWrites`): Redis has been away for long and the node has already queued
 * that many rules. The rule is still enforced by this node; it is not sent to the fleet.
 *
 * @example
 * ```ts
 * import { FleetQueueFullError } from '@cm/fleet'
 *
 * const error = new FleetQueueFullError(1_000)
 * error.limit // 1000
 * ```
 */
export class FleetQueueFullError extends CmError {
  static override readonly name: string = 'FleetQueueFullError'

  /** The most writes that may wait. */
  readonly limit: number

  /**
   * @param limit - the most writes that may wait
   */
  constructor (limit: number) {
    super(`${limit} rule writes are already waiting for Redis; this one is enforced locally only`)
    this.limit = limit
  }
}

/**
 * Thrown (as a rejection) by {@link FleetAdmin} operations when Redis cannot be reached or
 * refuses the command (wrong password, missing ACL permission). `cause` holds the client's
 * error.
 *
 * @example
 * ```ts
 * import { FleetUnavailableError } from '@cm/fleet'
 *
 * const error = new FleetUnavailableError('deny', new Error('connect ECONNREFUSED 127.0.0.1:6379'))
 * error.message // 'Redis is unavailable for deny(): connect ECONNREFUSED 127.0.0.1:6379'
 * ```
 */
export class FleetUnavailableError extends CmError {
  static override readonly name: string = 'FleetUnavailableError'

  /** The operation that failed. */
  readonly operation: string

  /**
   * @param operation - the operation that failed
   * @param cause - the Redis client's error
   */
  constructor (operation: string, cause: unknown) {
    super(`Redis is unavailable for ${operation}(): ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.operation = operation
  }
}
