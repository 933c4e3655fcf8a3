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
// Stryker disable next-line ObjectLiteral: a module-level initializer runs once, at load, before any mutant is active
export const systemClock: Clock = Object.freeze({
  // Stryker disable next-line ArrowFunction: as above (the clock tests check it)
  now: (): number => performance.now()
})
