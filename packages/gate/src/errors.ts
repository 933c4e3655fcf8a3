import { CmError } from '@cm/config'
import type { ConfigProblem } from '@cm/config'

/**
 * Thrown when a gate snapshot given to {@link DefaultGate.load} or
 * {@link DefaultGate.fromJSON} is malformed. It lists every problem found, each with its
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
  static override readonly name: string = 'InvalidSnapshotError'

  /** Every problem found. At least one. */
  readonly problems: readonly ConfigProblem[]

  /**
   * @param problems - every problem found (at least one)
   */
  constructor (problems: readonly ConfigProblem[]) {
    const count = problems.length
    const lines = problems.map(problem => `  - ${problem.message}`).join('\n')
    super(`Invalid gate snapshot (${count} ${count === 1 ? 'problem' : 'problems'}):\n${lines}`)
    this.problems = Object.freeze([...problems])
  }
}
