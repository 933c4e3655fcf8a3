import { tryParseAddressEntry } from './address-entry.ts'
import { CmError } from './errors.ts'
import { describeValue, quoteInput } from './input-limits.ts'
import type { AddressEntry } from './address-entry.ts'
import type { Clock } from './clock.ts'

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
 * import { ProblemCollector, problemsMessage } from '@cm/config'
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
 * import { ProblemCollector } from '@cm/config'
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
 * A validation rule for one option: a description of what is expected and a check that
 * reports problems.
 *
 * @example
 * ```ts
 * import { integerRule, ProblemCollector } from '@cm/config'
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
 * import { integerRule } from '@cm/config'
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
 * import { finiteNumberRule } from '@cm/config'
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
 * import { durationRule } from '@cm/config'
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
 * import { oneOfRule } from '@cm/config'
 *
 * oneOfRule(['oldest', 'newest']).expected // 'one of "oldest", "newest"'
 * ```
 */
export function oneOfRule<T extends string> (values: readonly T[]): OptionRule<T> {
  const expected = `one of ${values.map(value => JSON.stringify(value)).join(', ')}`
  return {
    expected,
    check (value, path, problems): value is T {
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
 * import { booleanRule } from '@cm/config'
 *
 * booleanRule.expected // 'a boolean'
 * ```
 */
export const booleanRule: OptionRule<boolean> = {
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
 * import { clockRule } from '@cm/config'
 *
 * clockRule.expected // 'a clock (an object with a now() method)'
 * ```
 */
export const clockRule: OptionRule<Clock> = {
  expected: 'a clock (an object with a now() method)',
  check (value, path, problems): value is Clock {
    const ok = (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { now?: unknown }).now === 'function'
    if (!ok) {
      problems.add(path, 'a clock (an object with a now() method)', value)
    }
    return ok
  }
}

const ENTRY_EXPECTED = 'an IP address, CIDR range, multiaddr or peer ID'
const LIST_EXPECTED = 'an array of IP addresses, CIDR ranges, multiaddrs or peer IDs'

/**
 * A rule for one allow, deny or trusted list entry: a string that {@link parseAddressEntry}
 * accepts. A malformed entry is reported with its text and the reason.
 *
 * @example
 * ```ts
 * import { addressEntryRule, ProblemCollector } from '@cm/config'
 *
 * const problems = new ProblemCollector()
 * addressEntryRule.check('1.2.3.4/33', 'entry', problems) // false
 * problems.problems[0]?.detail // 'the prefix length must be an integer from 0 to 32, got "33"'
 * ```
 */
export const addressEntryRule: OptionRule<string> = {
  expected: ENTRY_EXPECTED,
  check (value, path, problems): value is string {
    const result = tryParseAddressEntry(value)
    if (!result.ok) {
      problems.add(path, ENTRY_EXPECTED, value, result.reason)
    }
    return result.ok
  }
}

/**
 * Parses an allow, deny or trusted list entry by entry, handing each well-formed entry to
 * `onEntry` as soon as it is parsed and recording every malformed one (with its index, its
 * text and the reason) in `problems`. It fails closed: a hole in a sparse array is a problem
 * at its index, like a malformed entry, and a list of more than {@link MAX_LIST_LENGTH}
 * entries is refused whole. For callers that build something from a long list: no array of
 * parsed entries is kept. Whatever `onEntry` built must be thrown away when this returns
 * `false`.
 *
 * @param value - the list given
 * @param path - the option's path, such as `denyList`
 * @param problems - receives every problem found
 * @param onEntry - called with each well-formed entry, in order
 * @returns whether the list and every entry are well formed
 *
 * @example
 * ```ts
 * import { forEachAddressEntry, ProblemCollector } from '@cm/config'
 *
 * const problems = new ProblemCollector()
 * const texts: string[] = []
 * forEachAddressEntry(['10.1.2.3/8', '2001:db8::1'], 'denyList', problems, entry => { texts.push(entry.text) })
 * problems.throwIfAny()
 * texts // ['10.0.0.0/8', '2001:db8::1']
 * ```
 */
export function forEachAddressEntry (value: unknown, path: string, problems: ProblemCollector, onEntry: (entry: AddressEntry) => void): boolean {
  if (!Array.isArray(value)) {
    problems.add(path, LIST_EXPECTED, value)
    return false
  }
  if (value.length > MAX_LIST_LENGTH) {
    problems.add(path, LIST_EXPECTED, value, `a list has at most ${MAX_LIST_LENGTH} entries`)
    return false
  }
  let ok = true
  // An index loop, not forEach: forEach skips the holes of a sparse array, which would
  // leave a list shorter than given (an allow list emptied of its entries admits everyone).
  for (let index = 0; index < value.length; index++) {
    if (!(index in value)) {
      ok = false
      problems.add(`${path}[${index}]`, ENTRY_EXPECTED, undefined, 'the array has a hole here (an empty slot of a sparse array)')
      continue
    }
    const entry: unknown = value[index]
    const result = tryParseAddressEntry(entry)
    if (result.ok) {
      onEntry(result.entry)
    } else {
      ok = false
      problems.add(`${path}[${index}]`, ENTRY_EXPECTED, entry, result.reason)
    }
  }
  return ok
}

/**
 * The most entries an allow, deny or trusted list may have: ten times the million rules the
 * gate is built for, and a bound on the work a list given by mistake (`new Array(2 ** 32 -
 * 1)`) can cause.
 */
export const MAX_LIST_LENGTH = 10_000_000

/**
 * Parses an allow, deny or trusted list, recording every malformed entry (with its index,
 * its text and the reason) in `problems`. This is {@link addressListRule}'s check, for
 * callers that need the parsed entries too: each entry is parsed once.
 *
 * @param value - the list given
 * @param path - the option's path, such as `denyList`
 * @param problems - receives every problem found
 * @returns the parsed entries, or `undefined` if the list or any entry is malformed
 *
 * @example
 * ```ts
 * import { parseAddressList, ProblemCollector } from '@cm/config'
 *
 * const problems = new ProblemCollector()
 * const entries = parseAddressList(['10.1.2.3/8'], 'denyList', problems)
 * problems.throwIfAny()
 * entries?.[0]?.text // '10.0.0.0/8'
 * ```
 */
export function parseAddressList (value: unknown, path: string, problems: ProblemCollector): AddressEntry[] | undefined {
  const entries: AddressEntry[] = []
  return forEachAddressEntry(value, path, problems, entry => { entries.push(entry) }) ? entries : undefined
}

/**
 * A rule for allow, deny and trusted lists: an array of entry strings, each of which
 * {@link parseAddressEntry} accepts. Every malformed entry is reported with its index, its
 * text and the reason.
 *
 * @example
 * ```ts
 * import { addressListRule } from '@cm/config'
 *
 * addressListRule.expected // 'an array of IP addresses, CIDR ranges, multiaddrs or peer IDs'
 * ```
 */
export const addressListRule: OptionRule<readonly string[]> = {
  expected: LIST_EXPECTED,
  check (value, path, problems): value is readonly string[] {
    return parseAddressList(value, path, problems) !== undefined
  }
}

/** The schema of an options object: for each option, its default and its rule. */
export type OptionsSchema<T> = {
  readonly [K in keyof T]-?: {
    /** The value used when the option is not given. */
    readonly default: T[K]
    /** The rule the option's value must satisfy. */
    readonly rule: OptionRule<T[K]>
  }
}

/**
 * Resolves options against a schema: fills in defaults (or the values of `base`), checks
 * every given option, and reports unknown options (with a suggestion for near misses, so a
 * typo is never silently ignored). `undefined` means "not given". Problems are recorded in
 * `problems`; the caller throws them.
 *
 * @param schema - the options and their rules
 * @param input - the user's options object
 * @param problems - receives every problem found
 * @param context - `path`, a prefix for option paths (for nested sections), and `base`,
 *   values to use instead of the defaults (for updates)
 * @returns the resolved options (where a value was invalid, the default stands in)
 *
 * @example
 * ```ts
 * import { integerRule, ProblemCollector, resolveOptions } from '@cm/config'
 *
 * const schema = { limit: { default: 10, rule: integerRule({ min: 1 }) } }
 * const problems = new ProblemCollector()
 * const options = resolveOptions(schema, { limit: 5 }, problems)
 * problems.throwIfAny()
 * options.limit // 5
 * ```
 */
export function resolveOptions<T extends object> (
  schema: OptionsSchema<T>,
  input: unknown,
  problems: ProblemCollector,
  context: { readonly path?: string, readonly base?: T } = {}
): T {
  const prefix = context.path === undefined || context.path === '' ? '' : `${context.path}.`
  const names = Object.keys(schema) as Array<keyof T & string>
  const result: Record<string, unknown> = {}
  for (const name of names) {
    result[name] = context.base === undefined ? schema[name].default : context.base[name]
  }
  if (input === undefined || input === null) {
    return result as T
  }
  if (typeof input !== 'object' || Array.isArray(input)) {
    problems.add(context.path === undefined || context.path === '' ? 'options' : context.path, 'an object', input)
    return result as T
  }
  const given = input as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(schema, key)) {
      // A name far longer than any option is no typo: no suggestion (the edit distance costs
      // the product of the lengths), and it is quoted cut short.
      const plausible = key.length <= MAX_SUGGESTED_LENGTH
      const suggestion = plausible ? closest(key, names) : undefined
      const path = `${prefix}${key}`
      problems.addProblem({
        path,
        expected: 'a known option',
        received: describeValue(given[key]),
        message: `Unknown option ${plausible ? `\`${path}\`` : quoteInput(path)}${suggestion === undefined ? '' : ` (did you mean \`${prefix}${suggestion}\`?)`}; known options are ${names.map(name => `\`${name}\``).join(', ')}`
      })
    }
  }
  for (const name of names) {
    const value = given[name]
    if (value === undefined) {
      continue
    }
    const rule = schema[name].rule
    if (rule.check(value, `${prefix}${name}`, problems)) {
      result[name] = rule.resolve !== undefined
        ? rule.resolve(value, result[name] as T[typeof name])
        : Array.isArray(value) ? Object.freeze([...value]) : value
    }
  }
  return result as T
}

/** The longest unknown option name for which a near known name is looked for. */
const MAX_SUGGESTED_LENGTH = 64

/** The known name closest to `name` by edit distance, if it is a plausible typo. */
function closest (name: string, names: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const candidate of names) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
