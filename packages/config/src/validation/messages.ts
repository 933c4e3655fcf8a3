/**
 * How inputs are quoted in messages: cut short, with their length, so that an error is never
 * as large as its input.
 */

/** The most characters of an input quoted in a message. */
const QUOTED_LENGTH = 80

/**
 * Quotes an input for a message: as JSON text, cut to about 80 characters with its length
 * shown when it is longer, so that a message stays small whatever it quotes.
 *
 * @param text - the input
 *
 * @example
 * ```ts
 * import { quoteInput } from '@cm/config/validation'
 *
 * quoteInput('1.2.3.4/33') // '"1.2.3.4/33"'
 * quoteInput('x'.repeat(100_000)) // '"xxx…xxx…" (100000 characters)', about 90 characters in all
 * ```
 */
export function quoteInput (text: string): string {
  return text.length <= QUOTED_LENGTH ? JSON.stringify(text) : `${quoteStart(text)} (${text.length} characters)`
}

/** Whether {@link quoteInput} cuts `text`. */
function isCut (text: string): boolean {
  return text.length > QUOTED_LENGTH
}

/** The start of a long input as JSON text, ending in an ellipsis (for {@link quoteInput}). */
function quoteStart (text: string): string {
  return JSON.stringify(`${text.slice(0, QUOTED_LENGTH - 3)}…`)
}

/**
 * Describes a value for an error message: `-1 (number)`, `"abc" (string)`, `NaN (number)`,
 * `an array of 3`, `null`. A string longer than 80 characters is cut, with its length
 * shown (`"xxx…" (string of 100000 characters)`), so that a message stays small.
 *
 * @param value - any value
 *
 * @example
 * ```ts
 * import { describeValue } from '@cm/config/validation'
 *
 * describeValue(Number.NaN) // 'NaN (number)'
 * describeValue('3') // '"3" (string)'
 * ```
 */
export function describeValue (value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (Array.isArray(value)) return `an array of ${value.length}`
  switch (typeof value) {
    case 'string': return isCut(value) ? `${quoteStart(value)} (string of ${value.length} characters)` : `${JSON.stringify(value)} (string)`
    case 'number': return `${Object.is(value, -0) ? '-0' : String(value)} (number)`
    case 'bigint': return `${value}n (bigint)`
    case 'boolean': return `${value} (boolean)`
    case 'function': return 'a function'
    case 'symbol': return `${String(value)} (symbol)`
    default: return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`
  }
}
