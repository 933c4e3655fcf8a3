import { CmError } from '@cm/config'

/**
 * Thrown when the manager is asked to dial or listen while it is not started.
 *
 * @example
 * ```ts
 * import { NotStartedError } from '@cm/manager'
 *
 * NotStartedError.isInstance(new NotStartedError('dial')) // true
 * ```
 */
export class NotStartedError extends CmError {
  // Stryker disable next-line StringLiteral: a static initializer runs once, at load, before any mutant is active; test/errors-messages.test.ts checks it
  static override readonly name: string = 'NotStartedError'

  /** What was asked. */
  readonly operation: string

  /**
   * @param operation - what was asked (`dial`, `listen`, ...)
   */
  constructor (operation: string) {
    super(`The connection manager is not started: cannot ${operation}`)
    this.operation = operation
  }
}

/**
 * Thrown (as a rejection) when a dial is refused before any socket is opened: the gate
 * denies the address or the peer, or the address is not one the gate can read.
 *
 * @example
 * ```ts
 * import { DialDeniedError } from '@cm/manager'
 *
 * function reasonOf (error: unknown): string | undefined {
 *   return DialDeniedError.isInstance(error) ? error.reason : undefined
 * }
 * ```
 */
export class DialDeniedError extends CmError {
  // Stryker disable next-line StringLiteral: a static initializer runs once, at load, before any mutant is active; test/errors-messages.test.ts checks it
  static override readonly name: string = 'DialDeniedError'

  /** The address dialled. */
  readonly address: string
  /** Why: `'deny-list'`, `'not-allow-listed'`, `'invalid-address'`. */
  readonly reason: string
  /** The rule that matched, if any. */
  readonly rule: string | undefined

  /**
   * @param address - the address dialled
   * @param reason - why it was refused
   * @param rule - the rule that matched
   */
  constructor (address: string, reason: string, rule?: string) {
    super(`Dial to ${address} refused: ${reason}${rule === undefined ? '' : ` (${rule})`}`)
    this.address = address
    this.reason = reason
    this.rule = rule
  }
}

/**
 * Thrown (as a rejection) when a dial does not produce an open connection within
 * `dialTimeout`.
 *
 * @example
 * ```ts
 * import { DialTimeoutError } from '@cm/manager'
 *
 * const error = new DialTimeoutError('/ip4/127.0.0.1/tcp/4001', 10_000)
 * error.timeoutMs // 10000
 * ```
 */
export class DialTimeoutError extends CmError {
  // Stryker disable next-line StringLiteral: a static initializer runs once, at load, before any mutant is active; test/errors-messages.test.ts checks it
  static override readonly name: string = 'DialTimeoutError'

  /** The address dialled. */
  readonly address: string
  /** The timeout that ran out, milliseconds. */
  readonly timeoutMs: number

  /**
   * @param address - the address dialled
   * @param timeoutMs - the timeout, milliseconds
   */
  constructor (address: string, timeoutMs: number) {
    super(`Dial to ${address} timed out after ${timeoutMs} ms`)
    this.address = address
    this.timeoutMs = timeoutMs
  }
}

/**
 * Thrown (as a rejection) when a dialled connection opened but was then closed by the
 * manager's own rules before it was handed over: the peer is denied, or the peer already
 * holds `maxConnectionsPerPeer` connections and this one was the one pruned.
 *
 * @example
 * ```ts
 * import { ConnectionRefusedError } from '@cm/manager'
 *
 * const error = new ConnectionRefusedError('/ip4/127.0.0.1/tcp/4001', 'peer-denied')
 * error.reason // 'peer-denied'
 * ```
 */
export class ConnectionRefusedError extends CmError {
  // Stryker disable next-line StringLiteral: a static initializer runs once, at load, before any mutant is active; test/errors-messages.test.ts checks it
  static override readonly name: string = 'ConnectionRefusedError'

  /** The address dialled. */
  readonly address: string
  /** Why the connection was closed. */
  readonly reason: string

  /**
   * @param address - the address dialled
   * @param reason - why it was closed
   */
  constructor (address: string, reason: string) {
    super(`Connection to ${address} was closed by the manager: ${reason}`)
    this.address = address
    this.reason = reason
  }
}

/**
 * The reason a connection is closed when the manager stops, and the rejection of dials
 * pending at that moment.
 *
 * @example
 * ```ts
 * import { ManagerStoppedError } from '@cm/manager'
 *
 * ManagerStoppedError.isInstance(new ManagerStoppedError()) // true
 * ```
 */
export class ManagerStoppedError extends CmError {
  static override readonly name: string = 'ManagerStoppedError'

  constructor () {
    super('The connection manager stopped')
  }
}
