import { CmError } from '../errors.ts'
import { describeValue } from './messages.ts'

/**
 * One problem found in a configuration: which option, what was expected, what was given.
 */
export interface ConfigProblem {
  /** The option's path, such as `maxConnections` or `denyList[2]`. */
  readonly path: string
  /** What the option must be, such as `an integer >= 1`. */
  readonly expected: string
  /** A description of the value given, such as `-1 (number)`. */
  readonly received: string
  /** More detail on why the value is wrong, if any (for list entries: the parser's reason). */
  readonly detail?: string
  /** The whole sentence: ``Expected `maxConnections` to be an integer >= 1, got -1 (number)``. */
  readonly message: string
}

/**
 * Thrown when a configuration is invalid. It reports every problem found, not only the
 * first: `problems` holds up to {@link MAX_PROBLEMS} of them (`problemCount` says how many
 * there were), and the message lists the first 20, then how many more.
 *
 * @example
 * ```ts
 * import { InvalidConfigError, resolveConfig } from '@cm/config'
 *
 * try {
 *   resolveConfig({ maxConnections: -1, maxConection: 5 } as never)
 * } catch (error) {
 *   if (InvalidConfigError.isInstance(error)) {
 *     for (const problem of error.problems) {
 *       console.error(problem.message)
 *     }
 *     // Unknown option `maxConection` (did you mean `maxConnections`?) ...
 *     // Expected `maxConnections` to be an integer >= 1, got -1 (number)
 *   }
 * }
 * ```
 */
export class InvalidConfigError extends CmError {
  static override readonly name: string = 'InvalidConfigError'

  /**
   * The problems found, in the order the options are checked: at least one, and at most
   * {@link MAX_PROBLEMS} (the first ones, when there were more).
   */
  readonly problems: readonly ConfigProblem[]
  /** How many problems were found, including any beyond {@link MAX_PROBLEMS}. */
  readonly problemCount: number
  /** The path of the first problem, for quick checks. */
  readonly path: string

  /**
   * @param problems - the problems found (at least one)
   * @param problemCount - how many were found, if more than `problems` holds
   */
  constructor (problems: readonly ConfigProblem[], problemCount: number = problems.length) {
    super(problemsMessage('Invalid configuration', problems, problemCount))
    this.problems = Object.freeze(problems.slice(0, MAX_PROBLEMS))
    this.problemCount = Math.max(problemCount, problems.length)
    this.path = problems[0]?.path ?? ''
  }
}

/**
 * The message of an error that lists problems: the subject and how many problems there
 * were, then the first 20 problems, one a line, then how many more. It stays small however
 * many problems there are.
 *
 * @param subject - what is wrong, such as `Invalid configuration`
 * @param problems - the problems kept (the first ones)
 * @param problemCount - how many were found, if more than `problems` holds
 *
 * @example
 * ```ts
 * import { ProblemCollector, problemsMessage } from '@cm/config/validation'
 *
 * const problems = new ProblemCollector()
 * problems.add('limit', 'an integer >= 1', 0)
 * problemsMessage('Invalid options', problems.problems, problems.count)
 * // 'Invalid options (1 problem):\n  - Expected `limit` to be an integer >= 1, got 0 (number)'
 * ```
 */
export function problemsMessage (subject: string, problems: readonly ConfigProblem[], problemCount: number = problems.length): string {
  const count = Math.max(problemCount, problems.length)
  const lines = problems.slice(0, LISTED_PROBLEMS).map(problem => `  - ${problem.message}`)
  if (count > lines.length) {
    lines.push(`  - and ${count - lines.length} more`)
  }
  return `${subject} (${count} ${count === 1 ? 'problem' : 'problems'}):\n${lines.join('\n')}`
}

/**
 * The most problems an {@link InvalidConfigError} holds; more are counted, not kept, so that
 * a list of a million bad entries does not make a million problem records.
 */
export const MAX_PROBLEMS = 1000

/** The most problems an {@link InvalidConfigError}'s message lists. */
const LISTED_PROBLEMS = 20

/**
 * Collects configuration problems, then throws them all at once as one
 * {@link InvalidConfigError}. Used by every `@cm` package to validate its options in the
 * same style.
 *
 * @example
 * ```ts
 * import { ProblemCollector } from '@cm/config/validation'
 *
 * const problems = new ProblemCollector()
 * problems.add('window', 'a duration in milliseconds > 0', -5)
 * problems.throwIfAny() // throws InvalidConfigError
 * ```
 */
export class ProblemCollector {
  readonly #problems: ConfigProblem[] = []
  #count = 0

  /** The problems collected so far (at most {@link MAX_PROBLEMS}: the first ones). */
  get problems (): readonly ConfigProblem[] {
    return this.#problems
  }

  /** How many problems were recorded, including those beyond {@link MAX_PROBLEMS}. */
  get count (): number {
    return this.#count
  }

  /**
   * Records a problem.
   *
   * @param path - the option's path
   * @param expected - what it must be
   * @param value - what was given
   * @param detail - more detail, if any
   */
  add (path: string, expected: string, value: unknown, detail?: string): void {
    if (++this.#count > MAX_PROBLEMS) {
      return
    }
    const received = describeValue(value)
    const message = `Expected \`${path}\` to be ${expected}, got ${received}${detail === undefined ? '' : `: ${detail}`}`
    this.#problems.push(detail === undefined
      ? { path, expected, received, message }
      : { path, expected, received, detail, message })
  }

  /**
   * Records a problem with a message of its own (for unknown options and contradictions).
   *
   * @param problem - the problem
   */
  addProblem (problem: ConfigProblem): void {
    if (++this.#count <= MAX_PROBLEMS) {
      this.#problems.push(problem)
    }
  }

  /**
   * Throws every problem collected as one {@link InvalidConfigError}; does nothing if there
   * are none.
   *
   * @throws {@link InvalidConfigError} when any problem was collected
   */
  throwIfAny (): void {
    if (this.#count > 0) {
      throw new InvalidConfigError(this.#problems, this.#count)
    }
  }
}

/**
 * Runs `resolve` (a `resolveConfig`, an `updateConfig`, a constructor that validates) and,
 * when it throws an {@link InvalidConfigError}, moves its problems into `problems`, so that
 * they are thrown with the caller's own, all at once. Any other error is thrown on.
 *
 * @param problems - receives the problems
 * @param resolve - the validating call
 * @returns what `resolve` returned, or `undefined` if it threw an `InvalidConfigError`
 *
 * @example
 * ```ts
 * import { resolveConfig } from '@cm/config'
 * import { collectProblems, ProblemCollector } from '@cm/config/validation'
 *
 * const problems = new ProblemCollector()
 * const config = collectProblems(problems, () => resolveConfig({ maxConnections: 0 }))
 * config // undefined
 * problems.count // 1
 * ```
 */
export function collectProblems<T> (problems: ProblemCollector, resolve: () => T): T | undefined {
  try {
    return resolve()
  } catch (error) {
    if (!InvalidConfigError.isInstance(error)) {
      throw error
    }
    for (const problem of error.problems) {
      problems.addProblem(problem)
    }
    return undefined
  }
}
