import { CmError } from '@cm/config'
import { MAX_PROBLEMS, problemsMessage } from '@cm/config/validation'
import type { ConfigProblem } from '@cm/config'

/**
 * Thrown when a gate snapshot given to {@link DefaultGate.load} or
 * {@link DefaultGate.fromJSON} is malformed. It reports every problem found (the message
 * lists the first 20), each with its
 * path in the snapshot (`deny[2].entry`), what was expected and what was given. Nothing is
 * loaded when it is thrown.
 *
 * @example
 * ```ts
 * import { createGate, InvalidSnapshotError } from '@cm/gate'
 *
 * const gate = createGate()
 * try {
 *   gate.load({ version: 1, savedAt: 0, deny: [{ entry: '1.2.3.4/33' }], allow: [], trusted: [] })
 * } catch (error) {
 *   if (InvalidSnapshotError.isInstance(error)) {
 *     error.problems[0]?.path // 'deny[0].entry'
 *   }
 * }
 * ```
 */
export class InvalidSnapshotError extends CmError {
  // Stryker disable next-line StringLiteral: a static initializer runs once, at load, before a mutant is switched on; a test checks the name
  static override readonly name: string = 'InvalidSnapshotError'

  /** The problems found: at least one, at most `MAX_PROBLEMS` (from `@cm/config`). */
  readonly problems: readonly ConfigProblem[]
  /** How many problems were found, including any beyond `MAX_PROBLEMS`. */
  readonly problemCount: number

  /**
   * @param problems - the problems found (at least one)
   * @param problemCount - how many were found, if more than `problems` holds
   */
  constructor (problems: readonly ConfigProblem[], problemCount: number = problems.length) {
    super(problemsMessage('Invalid gate snapshot', problems, problemCount))
    this.problems = Object.freeze(problems.slice(0, MAX_PROBLEMS))
    this.problemCount = Math.max(problemCount, problems.length)
  }
}
