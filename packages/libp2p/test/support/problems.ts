import { InvalidConfigError } from '@cm/config'

/** The messages of the `InvalidConfigError` that `setUp` throws (fails if it throws none). */
export function problemsOf (setUp: () => unknown): string[] {
  try {
    setUp()
  } catch (error) {
    if (InvalidConfigError.isInstance(error)) return error.problems.map(problem => problem.message)
    throw error
  }
  throw new Error('nothing was refused')
}
