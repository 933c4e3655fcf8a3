import { tryParseAddressEntry } from '../address/address-entry.ts'
import type { OptionRule } from './rules.ts'
import type { ProblemCollector } from './problems.ts'
import type { AddressEntry } from '../address/address-entry.ts'

const ENTRY_EXPECTED = 'an IP address, CIDR range, multiaddr or peer ID'
const LIST_EXPECTED = 'an array of IP addresses, CIDR ranges, multiaddrs or peer IDs'

/**
 * A rule for one allow, deny or trusted list entry: a string that `parseAddressEntry` (from
 * `@cm/config/address`) accepts. A malformed entry is reported with its text and the reason.
 *
 * @example
 * ```ts
 * import { addressEntryRule, ProblemCollector } from '@cm/config/validation'
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
 * import { forEachAddressEntry, ProblemCollector } from '@cm/config/validation'
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
 * import { parseAddressList, ProblemCollector } from '@cm/config/validation'
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
 * `parseAddressEntry` accepts. Every malformed entry is reported with its index, its
 * text and the reason.
 *
 * @example
 * ```ts
 * import { addressListRule } from '@cm/config/validation'
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
