/**
 * Strict IP address text parsing for the hot path.
 *
 * Entries of allow and deny lists are parsed with `cidr-tools` and
 * `@multiformats/multiaddr` (see `address-entry.ts`), once, when a list is built. The
 * addresses of connecting peers are parsed here, once per connection, by a hand-written
 * scanner: it is strict where `cidr-tools` guesses (it reads `010.0.0.1` as `10.0.0.1`), it
 * allocates nothing, and it costs a fraction of Node's own `net.isIP()` for IPv6. Its
 * verdicts are checked against `net.isIP()` and `ipaddr.js` by property tests.
 */

import { MAX_IP_TEXT_LENGTH } from './limits.ts'

/** The address family: 4 for IPv4, 6 for IPv6. */
export type IpFamily = 4 | 6

/**
 * A parsed IP address.
 *
 * IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, or `::ffff:a00:1`) are IPv4 addresses: they
 * come from IPv4 hosts on dual-stack sockets, so they parse with family 4. A zone ID
 * (`fe80::1%eth0`) is kept in `zone` but is not part of the address bits.
 */
export interface IpAddress {
  /** 4 or 6. */
  readonly family: IpFamily
  /**
   * The address bits as unsigned 32-bit words, most significant first: one word for IPv4,
   * four for IPv6.
   */
  readonly words: readonly number[]
  /** The canonical text: dotted quad for IPv4, RFC 5952 for IPv6 (zone not included). */
  readonly text: string
  /** The zone ID of a scoped IPv6 address (`eth0` in `fe80::1%eth0`), if any. */
  readonly zone?: string
}

/** The largest prefix length of each family. */
export const MAX_PREFIX_LENGTH: Readonly<Record<IpFamily, number>> = Object.freeze({ 4: 32, 6: 128 })

const DOT = 46
const COLON = 58

/**
 * Parses IP address text into `out` without allocating, for hot paths.
 *
 * Accepts a dotted-quad IPv4 address (four decimal parts 0-255, no leading zeros) or any
 * RFC 4291 textual form of an IPv6 address (compressed or not, upper or lower case, with an
 * embedded dotted quad, with a `%zone` suffix). Anything else, including `010.0.0.1`,
 * `1.2.3`, hostnames, surrounding white space, brackets, prefixes and text longer than
 * {@link MAX_IP_TEXT_LENGTH} (refused before it is scanned), gives 0.
 *
 * @param text - the address text
 * @param out - receives the address as unsigned 32-bit words: `out[0]` for IPv4,
 *   `out[0..3]` for IPv6; at least four words long
 * @returns 4 or 6, the family (4 for IPv4-mapped IPv6 addresses), or 0 if `text` is not an
 *   IP address; `out` is unspecified when 0 is returned
 *
 * @example
 * ```ts
 * import { parseIpInto } from '@cm/config/address'
 *
 * const words = new Uint32Array(4)
 * parseIpInto('10.0.0.1', words) // 4, words[0] === 0x0a000001
 * parseIpInto('::ffff:10.0.0.1', words) // 4, the same address
 * parseIpInto('2001:db8::1', words) // 6
 * parseIpInto('010.0.0.1', words) // 0: ambiguous text is refused
 * ```
 */
export function parseIpInto (text: string, out: Uint32Array): 0 | IpFamily {
  // A value, never a throw, whatever a caller passes at run time.
  if (typeof text !== 'string' || text.length > MAX_IP_TEXT_LENGTH) {
    return 0
  }
  // The family shows in the first five characters: an IPv6 address has a ':' there (groups
  // have at most four digits), an IPv4 address a '.' and no ':' anywhere. Anything else is
  // refused by the parser it is handed to.
  // Stryker disable next-line MethodExpression: a group has at most four digits, so text whose first ':' comes later fails either parser
  const scan = Math.min(text.length, 5)
  // Stryker disable next-line EqualityOperator: as above, a ':' at index 5 ends a five-digit group that either parser refuses
  for (let index = 0; index < scan; index++) {
    const code = text.charCodeAt(index)
    if (code === COLON) {
      const length = zoneStart(text)
      return length === 0 ? 0 : parseIpv6(text, length, out)
    }
    // Stryker disable next-line ConditionalExpression,BlockStatement: text with a '.' before its first ':' fails the IPv6 parser too (a dotted quad needs six groups or '::' before it)
    if (code === DOT) {
      break
    }
  }
  // No zone on an IPv4 address: a '%' is refused like any other character.
  const value = parseIpv4(text, 0, text.length)
  if (value < 0) {
    return 0
  }
  out[0] = value
  return 4
}

/**
 * Parses IP address text, returning `undefined` for anything that is not an IP address.
 * The rules are those of {@link parseIpInto}; this form allocates a result object with the
 * canonical text.
 *
 * @param text - the address text
 *
 * @example
 * ```ts
 * import { parseIp } from '@cm/config/address'
 *
 * parseIp('::ffff:10.0.0.1')?.text // '10.0.0.1'
 * parseIp('2001:DB8:0:0::1')?.text // '2001:db8::1'
 * parseIp('1.2.3') // undefined
 * ```
 */
export function parseIp (text: string): IpAddress | undefined {
  const out = new Uint32Array(4)
  const family = parseIpInto(text, out)
  if (family === 0) {
    return undefined
  }
  const words = family === 4 ? [out[0] ?? 0] : Array.from(out)
  const zoneIndex = zoneStart(text)
  const address: IpAddress = { family, words, text: formatIp(family, words) }
  // Stryker disable next-line ConditionalExpression: static (it also runs at load, where Stryker's vitest runner cannot switch a mutant on); the tests kill it when it is written in by hand
  if (family === 6 && zoneIndex < text.length) {
    return { ...address, zone: text.slice(zoneIndex + 1) }
  }
  return address
}

/**
 * Formats address words as canonical text: a dotted quad for IPv4, RFC 5952 for IPv6
 * (lower case, no leading zeros, the longest run of two or more zero groups written `::`).
 *
 * @param family - 4 or 6
 * @param words - one word for IPv4, four for IPv6 (see {@link IpAddress.words})
 *
 * @example
 * ```ts
 * import { formatIp } from '@cm/config/address'
 *
 * formatIp(4, [0x0a000001]) // '10.0.0.1'
 * formatIp(6, [0x20010db8, 0, 0, 1]) // '2001:db8::1'
 * ```
 */
export function formatIp (family: IpFamily, words: ArrayLike<number>): string {
  if (family === 4) {
    const value = words[0] ?? 0
    return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`
  }
  const groups: number[] = []
  // Stryker disable next-line EqualityOperator: a fifth word would add groups past the eight that are printed
  for (let index = 0; index < 4; index++) {
    const word = words[index] ?? 0
    groups.push(word >>> 16, word & 0xffff)
  }
  // Find the longest run of zero groups (the first one on a tie), of length 2 or more.
  let bestStart = -1
  let bestLength = 1
  // Stryker disable next-line EqualityOperator: groups[8] is undefined, not 0, so the loop ends there either way
  for (let start = 0; start < 8;) {
    if (groups[start] !== 0) {
      start++
      continue
    }
    let end = start
    // Stryker disable next-line ConditionalExpression,EqualityOperator: groups[8] is undefined, not 0, so the run ends there either way
    while (end < 8 && groups[end] === 0) {
      end++
    }
    if (end - start > bestLength) {
      bestStart = start
      bestLength = end - start
    }
    start = end
  }
  const hex = (from: number, to: number): string => groups.slice(from, to).map(group => group.toString(16)).join(':')
  if (bestStart === -1) {
    return hex(0, 8)
  }
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`
}

/**
 * Sets every bit after the first `prefixLength` bits of `words` to zero, in place.
 *
 * @param words - the address words (one for IPv4, four for IPv6)
 * @param prefixLength - 0 to 32 (IPv4) or 0 to 128 (IPv6)
 * @returns `words`
 *
 * @example
 * ```ts
 * import { maskIp } from '@cm/config/address'
 *
 * maskIp([0x0a010203], 8) // [0x0a000000]
 * ```
 */
export function maskIp<T extends number[] | Uint32Array> (words: T, prefixLength: number): T {
  for (let index = 0; index < words.length; index++) {
    const bits = prefixLength - index * 32
    // Stryker disable next-line EqualityOperator: at exactly 32 bits the mask keeps the whole word
    if (bits >= 32) {
      continue
    }
    words[index] = bits <= 0 ? 0 : ((words[index] ?? 0) & (0xffffffff << (32 - bits))) >>> 0
  }
  return words
}

/** The index of the `%` that starts a zone ID, or the text's length if there is none. */
function zoneStart (text: string): number {
  const index = text.indexOf('%')
  if (index === -1) {
    return text.length
  }
  // A zone ID is one or more of letters, digits, '-', '_' and '.' (interface names or indexes).
  if (index === text.length - 1) {
    return 0
  }
  for (let position = index + 1; position < text.length; position++) {
    const code = text.charCodeAt(position)
    const ok = (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 45 || code === 95 || code === DOT
    if (!ok) {
      return 0
    }
  }
  return index
}

/** Parses a strict dotted quad in text[start, end); returns the value or -1. */
function parseIpv4 (text: string, start: number, end: number): number {
  let value = 0
  let parts = 0
  let position = start
  while (parts < 4) {
    const partStart = position
    let part = 0
    while (position < end) {
      const code = text.charCodeAt(position)
      if (code < 48 || code > 57) {
        break
      }
      part = part * 10 + (code - 48)
      position++
    }
    const digits = position - partStart
    if (digits === 0 || part > 255 || (digits > 1 && text.charCodeAt(partStart) === 48)) {
      return -1
    }
    value = value * 256 + part
    parts++
    if (parts < 4) {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: static (it also runs at load, where Stryker's vitest runner cannot switch a mutant on); the tests kill it when it is written in by hand
      if (position >= end || text.charCodeAt(position) !== DOT) {
        return -1
      }
      position++
    }
  }
  return position === end ? value : -1
}

/**
 * The value of each ASCII character as a hexadecimal digit, or -1. A table, not three range
 * tests: the digits of real addresses mix 0-9 and a-f at random, and the branches of range
 * tests mispredict often enough to double the cost of parsing an IPv6 address.
 */
const HEX_VALUES = new Int8Array(128).fill(-1)
for (let code = 48; code <= 57; code++) HEX_VALUES[code] = code - 48
for (let code = 97; code <= 102; code++) HEX_VALUES[code] = code - 87
for (let code = 65; code <= 70; code++) HEX_VALUES[code] = code - 55

/** The value of a hexadecimal digit, or -1. */
function hexValue (code: number): number {
  return HEX_VALUES[code] ?? -1 // undefined past the table: every code of 128 or more
}

const groupsScratch = new Uint16Array(8)

/** Parses IPv6 text in text[0, end) into out; returns 6, 4 (mapped) or 0. */
function parseIpv6 (text: string, end: number, out: Uint32Array): 0 | IpFamily {
  const groups = groupsScratch
  let count = 0 // groups written
  let gap = -1 // index in groups where '::' stands
  let position = 0
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) {
      return 0
    }
    gap = 0
    position = 2
    // Stryker disable next-line ConditionalExpression,BlockStatement: the general path below writes the same eight zero groups
    if (position === end) {
      groups.fill(0)
      return finishIpv6(groups, out)
    }
  }
  // Stryker disable next-line EqualityOperator: the body breaks at the end, so the test never sees position === end
  while (position < end) {
    // Stryker disable next-line ConditionalExpression,BlockStatement: a ninth group is refused by the count checks after the loop
    if (count === 8) {
      return 0
    }
    const groupStart = position
    let value = 0
    let code = text.charCodeAt(position)
    let digit = hexValue(code)
    while (digit >= 0) {
      value = (value << 4) | digit
      // Stryker disable next-line BlockStatement: past the end charCodeAt gives NaN, not a digit, and the loop ends by itself
      if (++position === end) {
        break
      }
      code = text.charCodeAt(position)
      digit = hexValue(code)
    }
    const digits = position - groupStart
    if (code === DOT) {
      // An embedded dotted quad: the last 32 bits. (A group that ran to the end ended on a digit.)
      // Stryker disable next-line ConditionalExpression,LogicalOperator,BlockStatement: refuses early what the count checks after the loop refuse
      if (count > 6 || (gap === -1 && count !== 6)) {
        return 0
      }
      const ipv4 = parseIpv4(text, groupStart, end)
      if (ipv4 < 0) {
        return 0
      }
      groups[count++] = ipv4 >>> 16
      groups[count++] = ipv4 & 0xffff
      break
    }
    if (digits === 0 || digits > 4) {
      return 0
    }
    groups[count++] = value
    if (position === end) {
      break
    }
    if (code !== COLON) {
      return 0
    }
    position++
    if (text.charCodeAt(position) === COLON) { // NaN past the end
      if (gap !== -1) {
        return 0 // a second '::'
      }
      gap = count
      position++
      // Stryker disable next-line ConditionalExpression,BlockStatement: the loop's own test ends it at the end
      if (position === end) {
        break
      }
    } else if (position === end) {
      return 0 // a trailing single ':'
    }
  }
  if (gap === -1) {
    if (count !== 8) {
      return 0
    }
  } else {
    if (count > 7) {
      return 0 // '::' must stand for at least one group
    }
    const shift = 8 - count
    // Stryker disable next-line ArithmeticOperator: from count + 1 the copies land at groups 8 and 9, past the eight there are
    for (let index = count - 1; index >= gap; index--) {
      groups[index + shift] = groups[index] ?? 0
    }
    for (let index = gap; index < gap + shift; index++) {
      groups[index] = 0
    }
  }
  return finishIpv6(groups, out)
}

function finishIpv6 (groups: Uint16Array, out: Uint32Array): IpFamily {
  const w0 = (((groups[0] ?? 0) << 16) | (groups[1] ?? 0)) >>> 0
  const w1 = (((groups[2] ?? 0) << 16) | (groups[3] ?? 0)) >>> 0
  const w2 = (((groups[4] ?? 0) << 16) | (groups[5] ?? 0)) >>> 0
  const w3 = (((groups[6] ?? 0) << 16) | (groups[7] ?? 0)) >>> 0
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
    out[0] = w3
    return 4
  }
  out[0] = w0
  out[1] = w1
  out[2] = w2
  out[3] = w3
  return 6
}
