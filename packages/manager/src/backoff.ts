/** How reconnect delays grow. */
export interface BackoffOptions {
  /** Milliseconds before the first retry. */
  readonly interval: number
  /** Each delay is this many times the one before (>= 1). */
  readonly factor: number
  /** The longest delay, milliseconds. */
  readonly maxDelay: number
  /**
   * Random spread, 0 to 1: a delay d becomes a value in `[d × (1 - jitter), d]`, so retries of
   * many peers do not arrive together. 0 keeps delays exact.
   */
  readonly jitter: number
}

/**
 * The delay before retry `attempt` (1 for the first retry):
 * `min(maxDelay, interval × factor^(attempt - 1))`, less up to `jitter` of it at random.
 *
 * @param attempt - the retry's number, from 1
 * @param options - interval, factor, maximum and jitter
 * @param random - a source of numbers in [0, 1); `Math.random` by default
 *
 * @example
 * ```ts
 * import { backoffDelay } from '@cm/manager'
 *
 * const options = { interval: 1_000, factor: 2, maxDelay: 60_000, jitter: 0 }
 * ;[1, 2, 3, 4, 5].map(attempt => backoffDelay(attempt, options)) // [1000, 2000, 4000, 8000, 16000]
 * ```
 */
export function backoffDelay (attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exact = Math.min(options.maxDelay, options.interval * options.factor ** (attempt - 1))
  // Stryker disable next-line ConditionalExpression,BlockStatement: a fast path; with jitter 0 the general case gives exact × (1 - 0) = exact
  if (options.jitter === 0) {
    return exact
  }
  return exact * (1 - options.jitter * random())
}
