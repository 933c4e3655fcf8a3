/**
 * A source of time, injected wherever time matters so that tests can use fake time.
 *
 * @example
 * ```ts
 * import type { Clock } from '@cm/config'
 *
 * let now = 0
 * const fakeClock: Clock = { now: () => now }
 * now += 1_000 // one second later
 * ```
 */
export interface Clock {
  /** The current time in milliseconds. Only differences between readings are used. */
  now(): number
}

/**
 * The default clock: `performance.now()`, monotonic and unaffected by changes to the
 * wall clock. Under `vi.useFakeTimers()` it follows fake time.
 *
 * @example
 * ```ts
 * import { systemClock } from '@cm/config'
 *
 * const start = systemClock.now()
 * const elapsedMs = systemClock.now() - start
 * ```
 */
export const systemClock: Clock = Object.freeze({
  now: (): number => performance.now()
})
