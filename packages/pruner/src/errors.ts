import { CmError } from '@cm/config'
import type { CandidateId } from './candidate.ts'

/**
 * Thrown by {@link selectVictims} (and so by a pruning pass) when a candidate is malformed:
 * a missing id, a direction other than `'inbound'` or `'outbound'`, an `openedAt` or
 * `value` that is not a finite number, a stream count that is not an integer >= 0, or a
 * custom score that is `NaN`. A selection cannot be ordered with such a value, so it
 * refuses rather than guess.
 *
 * @example
 * ```ts
 * import { InvalidCandidateError, selectVictims } from '@cm/pruner'
 *
 * try {
 *   selectVictims([{ id: 1, direction: 'inbound', openedAt: 0, streams: 0, value: Number.NaN }], { count: 1 })
 * } catch (error) {
 *   if (InvalidCandidateError.isInstance(error)) {
 *     console.error(error.field) // 'value'
 *   }
 * }
 * ```
 */
export class InvalidCandidateError extends CmError {
  // Stryker disable next-line StringLiteral: a static initializer runs once, at load, before a mutant is switched on; a test checks the name
  static override readonly name: string = 'InvalidCandidateError'

  /** The id of the malformed candidate (`undefined` when the id itself is missing). */
  readonly candidateId: CandidateId | undefined
  /** The field at fault: `id`, `direction`, `openedAt`, `streams`, `value` or `score`. */
  readonly field: string

  /**
   * @param candidateId - the candidate's id, if it has a usable one
   * @param field - the field at fault
   * @param message - a sentence saying what was expected and what was given
   */
  constructor (candidateId: CandidateId | undefined, field: string, message: string) {
    super(message)
    this.candidateId = candidateId
    this.field = field
  }
}

/**
 * Thrown (as a rejection) by {@link Pruner.prune} when the pruner is stopped: for a call
 * made after {@link Pruner.stop}, and for calls waiting for a pass that `stop()` cancelled
 * before it began. Calls waiting for a pass already running get that pass's report.
 *
 * @example
 * ```ts
 * import { Pruner, PrunerStoppedError } from '@cm/pruner'
 *
 * const pruner = new Pruner({ connections: () => [], close: async () => true })
 * await pruner.stop()
 * try {
 *   await pruner.prune()
 * } catch (error) {
 *   PrunerStoppedError.isInstance(error) // true
 * }
 * ```
 */
export class PrunerStoppedError extends CmError {
  // Stryker disable next-line StringLiteral: a static initializer runs once, at load, before a mutant is switched on; a test checks the name
  static override readonly name: string = 'PrunerStoppedError'

  constructor () {
    super('The pruner is stopped')
  }
}
