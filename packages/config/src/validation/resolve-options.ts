import { describeValue, quoteInput } from './messages.ts'
import type { ProblemCollector } from './problems.ts'
import type { OptionRule } from './rules.ts'

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
 * import { integerRule, ProblemCollector, resolveOptions } from '@cm/config/validation'
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
  // Stryker disable next-line ConditionalExpression: static (it also runs at load, where Stryker's vitest runner cannot switch a mutant on); the tests kill it when it is written in by hand (DEFAULT_CONFIG)
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
