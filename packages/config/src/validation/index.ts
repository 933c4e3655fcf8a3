/**
 * The toolkit every `@cm` package validates its own options with, so that every error reads
 * the same: rules that record every problem (`integerRule`, `durationRule`,
 * `addressListRule`, …), `resolveOptions` over a schema (defaults, unknown options refused
 * with a suggestion), a `ProblemCollector` that throws them all at once as one
 * `InvalidConfigError` (from `@cm/config`), and messages that quote an input cut short.
 *
 * @example
 * ```ts
 * import { durationRule, integerRule, ProblemCollector, resolveOptions } from '@cm/config/validation'
 *
 * const schema = {
 *   limit: { default: 10, rule: integerRule({ min: 1 }) },
 *   windowMs: { default: 1_000, rule: durationRule() }
 * }
 * const problems = new ProblemCollector()
 * const options = resolveOptions(schema, { limit: 5 }, problems)
 * problems.throwIfAny() // InvalidConfigError, listing every problem, if there were any
 * options.windowMs // 1000
 * ```
 *
 * @packageDocumentation
 */

export { addressEntryRule, addressListRule, forEachAddressEntry, MAX_LIST_LENGTH, parseAddressList } from './address-rules.ts'
export { describeValue, quoteInput } from './messages.ts'
export { collectProblems, MAX_PROBLEMS, ProblemCollector, problemsMessage } from './problems.ts'
export { resolveOptions } from './resolve-options.ts'
export type { OptionsSchema } from './resolve-options.ts'
export { booleanRule, clockRule, durationRule, finiteNumberRule, functionRule, integerRule, MAX_TIMER_DELAY_MS, objectRule, oneOfRule } from './rules.ts'
export type { NumberBounds, OptionRule } from './rules.ts'
