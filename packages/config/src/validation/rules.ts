import type { ProblemCollector } from './problems.ts'
import type { Clock } from '../clock.ts'

/**
 * A validation rule for one option: a description of what is expected and a check that
 * reports problems.
 *
 * @example
 * ```ts
 * import { integerRule, ProblemCollector } from '@cm/config/validation'
 *
 * const rule = integerRule({ min: 1 })
 * const problems = new ProblemCollector()
 * rule.check(0, 'maxPeers', problems) // false; one problem recorded
 * ```
 */
export interface OptionRule<T> {
  /** What the option must be, such as `an integer >= 1`. */
  readonly expected: string
  /**
   * Checks a value, recording every problem in `problems`.
   *
   * @returns whether the value is valid
   */
  check(value: unknown, path: string, problems: ProblemCollector): value is T
  /**
   * Builds the resolved value from a value that passed `check`, given the value it replaces
   * (the default, or the current value on update). A nested section uses it to fill in its
   * own defaults, so that a partial section keeps the rest. Without it, a valid value is kept
   * as given (an array is copied and frozen).
   */
  resolve?(value: unknown, current: T): T
}

/** Bounds for numeric rules. */
export interface NumberBounds {
  /** The smallest value accepted. */
  readonly min?: number
  /** The largest value accepted. */
  readonly max?: number
  /** Whether `min` itself is excluded (a value must be greater than it). */
  readonly exclusiveMin?: boolean
}

/**
 * The largest delay, in milliseconds, that Node's timers accept (about 24.8 days); a larger
 * one would fire at once.
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647

function boundsText (bounds: NumberBounds): string {
  const parts: string[] = []
  if (bounds.min !== undefined) parts.push(`${bounds.exclusiveMin === true ? '>' : '>='} ${bounds.min}`)
  if (bounds.max !== undefined) parts.push(`<= ${bounds.max}`)
  return parts.join(' and ')
}

function numberRule (kind: string, bounds: NumberBounds, integer: boolean): OptionRule<number> {
  const range = boundsText(bounds)
  const expected = range === '' ? kind : `${kind} ${range}`
  return {
    expected,
    check (value, path, problems): value is number {
      // Stryker disable next-line ConditionalExpression: Number.isFinite() is false for every non-number (it does not coerce)
      const ok = typeof value === 'number' &&
        Number.isFinite(value) &&
        (!integer || Number.isInteger(value)) &&
        (bounds.min === undefined || (bounds.exclusiveMin === true ? value > bounds.min : value >= bounds.min)) &&
        (bounds.max === undefined || value <= bounds.max)
      if (!ok) {
        problems.add(path, expected, value)
      }
      return ok
    }
  }
}

/**
 * A rule for counts: a finite integer within the bounds (no NaN, no Infinity, no
 * fractions).
 *
 * @param bounds - the range accepted
 *
 * @example
 * ```ts
 * import { integerRule } from '@cm/config/validation'
 *
 * integerRule({ min: 0 }).expected // 'an integer >= 0'
 * ```
 */
export function integerRule (bounds: NumberBounds = {}): OptionRule<number> {
  return numberRule('an integer', bounds, true)
}

/**
 * A rule for finite numbers within the bounds (no NaN, no Infinity).
 *
 * @param bounds - the range accepted
 *
 * @example
 * ```ts
 * import { finiteNumberRule } from '@cm/config/validation'
 *
 * finiteNumberRule({ min: 1 }).expected // 'a finite number >= 1'
 * ```
 */
export function finiteNumberRule (bounds: NumberBounds = {}): OptionRule<number> {
  return numberRule('a finite number', bounds, false)
}

/**
 * A rule for durations in milliseconds: a finite number greater than zero (unless `min`
 * says otherwise) and at most {@link MAX_TIMER_DELAY_MS}, the largest delay timers accept.
 *
 * @param bounds - the range accepted; `max` defaults to {@link MAX_TIMER_DELAY_MS}
 *
 * @example
 * ```ts
 * import { durationRule } from '@cm/config/validation'
 *
 * durationRule().expected // 'a duration in milliseconds > 0 and <= 2147483647'
 * ```
 */
export function durationRule (bounds: NumberBounds = { min: 0, exclusiveMin: true }): OptionRule<number> {
  return numberRule('a duration in milliseconds', { max: MAX_TIMER_DELAY_MS, ...bounds }, false)
}

/**
 * A rule for one of a fixed set of strings.
 *
 * @param values - the strings accepted
 *
 * @example
 * ```ts
 * import { oneOfRule } from '@cm/config/validation'
 *
 * oneOfRule(['oldest', 'newest']).expected // 'one of "oldest", "newest"'
 * ```
 */
export function oneOfRule<T extends string> (values: readonly T[]): OptionRule<T> {
  const expected = `one of ${values.map(value => JSON.stringify(value)).join(', ')}`
  return {
    expected,
    check (value, path, problems): value is T {
      // Stryker disable next-line ConditionalExpression: includes() finds no non-string among the strings
      const ok = typeof value === 'string' && (values as readonly string[]).includes(value)
      if (!ok) {
        problems.add(path, expected, value)
      }
      return ok
    }
  }
}

/**
 * A rule for booleans.
 *
 * @example
 * ```ts
 * import { booleanRule } from '@cm/config/validation'
 *
 * booleanRule.expected // 'a boolean'
 * ```
 */
export const booleanRule: OptionRule<boolean> = {
  // Stryker disable next-line StringLiteral: a module-level initializer runs once, at load, before any mutant is active (a test checks it)
  expected: 'a boolean',
  check (value, path, problems): value is boolean {
    const ok = typeof value === 'boolean'
    if (!ok) {
      problems.add(path, 'a boolean', value)
    }
    return ok
  }
}

/**
 * A rule for an injected clock: an object with a `now()` method (see {@link Clock}).
 *
 * @example
 * ```ts
 * import { clockRule } from '@cm/config/validation'
 *
 * clockRule.expected // 'a clock (an object with a now() method)'
 * ```
 */
export const clockRule: OptionRule<Clock> = {
  // Stryker disable next-line StringLiteral: a module-level initializer runs once, at load, before any mutant is active (a test checks it)
  expected: 'a clock (an object with a now() method)',
  check (value, path, problems): value is Clock {
    // Stryker disable next-line ConditionalExpression: a primitive has no now() function of its own
    const ok = (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { now?: unknown }).now === 'function'
    if (!ok) {
      problems.add(path, 'a clock (an object with a now() method)', value)
    }
    return ok
  }
}

/**
 * A rule for a function option (a callback).
 *
 * @param expected - what to call it in a message
 *
 * @example
 * ```ts
 * import { functionRule } from '@cm/config/validation'
 * import type { ListenerErrorHandler } from '@cm/config/events'
 *
 * const rule = functionRule<ListenerErrorHandler>()
 * rule.expected // 'a function'
 * ```
 */
export function functionRule<T> (expected = 'a function'): OptionRule<T> {
  return {
    expected,
    check (value, path, problems): value is T {
      const ok = typeof value === 'function'
      if (!ok) {
        problems.add(path, expected, value)
      }
      return ok
    }
  }
}

/**
 * A rule for a part passed in as an object: one with every method named (a gate, a rate
 * limiter, an event target), checked by shape so that a second copy of a package passes.
 *
 * @param expected - what to call it in a message, such as `a gate (an object with a check() method)`
 * @param methods - the methods it must have
 *
 * @example
 * ```ts
 * import { objectRule } from '@cm/config/validation'
 *
 * const eventTarget = objectRule<EventTarget>('an EventTarget', ['addEventListener', 'dispatchEvent'])
 * eventTarget.expected // 'an EventTarget'
 * ```
 */
export function objectRule<T> (expected: string, methods: readonly string[]): OptionRule<T> {
  return {
    expected,
    check (value, path, problems): value is T {
      const ok = typeof value === 'object' && value !== null && methods.every(method => typeof (value as Record<string, unknown>)[method] === 'function')
      if (!ok) {
        problems.add(path, expected, value)
      }
      return ok
    }
  }
}
