import { formatIp, parseIpInto } from '@cm/config/address'

/**
 * @internal
 * The key of a remote host in the host index: an IPv4 address as its int32 (a number key
 * costs the index far less than a string key), an IPv6 address as its canonical text.
 */
export type HostKey = number | string

/** Scratch space for parsing IP text without allocating; read only within one call. */
const WORDS = new Uint32Array(4)

/** @internal The host key of IP text, or `undefined` if `text` is not an IP address. */
export function hostKeyOf (text: string): HostKey | undefined {
  const family = parseIpInto(text, WORDS)
  if (family === 0) {
    return undefined
  }
  return family === 4 ? (WORDS[0] ?? 0) | 0 : formatIp(6, WORDS)
}

/**
 * @internal
 * The canonical IP text of a host key, given the text it was read from (returned as it is
 * when it is already canonical, so that a dotted quad allocates nothing).
 */
export function hostText (key: HostKey, text: string): string {
  if (typeof key === 'string') {
    return key
  }
  // A dotted quad that the strict parser accepts is already canonical.
  // Stryker disable next-line ConditionalExpression,StringLiteral,BlockStatement: a fast path; formatIp() gives the same text
  if (!text.includes(':')) {
    return text
  }
  WORDS[0] = key >>> 0
  return formatIp(4, WORDS)
}
