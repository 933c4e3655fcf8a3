import { multiaddr } from '@multiformats/multiaddr'
import { parseCidr } from 'cidr-tools'
import { CmError } from '../errors.ts'
import { describeValue, quoteInput } from '../validation/messages.ts'
import { MAX_MULTIADDR_LENGTH } from './limits.ts'
import { formatIp, MAX_PREFIX_LENGTH, parseIp } from './ip.ts'
import { parsePeerId } from './peer-id.ts'
import type { IpAddress, IpFamily } from './ip.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * An IP network: an address and a prefix length (a single address has the full length).
 */
export interface IpNetwork {
  /** 4 or 6. IPv4-mapped IPv6 networks of prefix 96 or more are IPv4 networks. */
  readonly family: IpFamily
  /** The network address (host bits zero) as unsigned 32-bit words, most significant first. */
  readonly words: readonly number[]
  /** 0-32 for IPv4, 0-128 for IPv6. */
  readonly prefixLength: number
  /** Canonical text: `10.0.0.0/8`, or `10.0.0.1` for a single address. */
  readonly text: string
}

/**
 * One parsed entry of an allow, deny or trusted list: a network, a peer ID, or both (from a
 * multiaddr such as `/ip4/1.2.3.4/p2p/12D3KooW…`).
 */
export interface AddressEntry {
  /** The text as given. */
  readonly input: string
  /** The IP network the entry names, if any. */
  readonly network?: IpNetwork
  /** The canonical peer ID the entry names, if any. */
  readonly peerId?: string
  /**
   * Canonical text of the whole entry, the same for every spelling of the same rule, and
   * itself an entry that parses back to the same rule: `10.0.0.0/8`, `2001:db8::1`, a peer
   * ID, or for an address with a peer ID the multiaddr `/ip4/10.0.0.0/ipcidr/8/p2p/<id>`
   * (`/ipcidr` left out for a single address).
   */
  readonly text: string
}

/** The result of {@link tryParseAddressEntry}: an entry, or the reason it is malformed. */
export type AddressEntryResult = AddressEntryParsed | AddressEntryRefused

/** A well-formed entry, from {@link tryParseAddressEntry}. */
export interface AddressEntryParsed {
  /** Always `true`. */
  readonly ok: true
  /** The parsed entry. */
  readonly entry: AddressEntry
}

/** A malformed entry, from {@link tryParseAddressEntry}. */
export interface AddressEntryRefused {
  /** Always `false`. */
  readonly ok: false
  /** Why the entry is malformed. */
  readonly reason: string
}

/**
 * Thrown when an allow, deny or trusted list entry is malformed.
 *
 * @example
 * ```ts
 * import { InvalidAddressError, parseAddressEntry } from '@cm/config/address'
 *
 * try {
 *   parseAddressEntry('1.2.3.4/33')
 * } catch (error) {
 *   if (InvalidAddressError.isInstance(error)) {
 *     error.input // '1.2.3.4/33'
 *     error.reason // 'the prefix length must be an integer from 0 to 32, got "33"'
 *   }
 * }
 * ```
 */
export class InvalidAddressError extends CmError {
  static override readonly name: string = 'InvalidAddressError'

  /** The entry as given. */
  readonly input: string
  /** Why it is malformed. */
  readonly reason: string

  /**
   * @param input - the entry as given
   * @param reason - why it is malformed
   */
  constructor (input: string, reason: string) {
    super(`Invalid address entry ${typeof input === 'string' ? quoteInput(input) : describeValue(input)}: ${reason}`)
    this.input = input
    this.reason = reason
  }
}

/**
 * Parses one allow, deny or trusted list entry.
 *
 * Accepted forms:
 * - an IPv4 or IPv6 address: `10.0.0.1`, `2001:db8::1`, `::ffff:10.0.0.1` (an IPv4
 *   address), `fe80::1%eth0` (the zone is ignored);
 * - a CIDR range of either family: `10.0.0.0/8`, `2001:db8::/32`. Host bits are cleared,
 *   so `192.168.1.5/24` is the network `192.168.1.0/24`. An IPv4-mapped range of prefix
 *   96 or more (`::ffff:10.0.0.0/104`) is the IPv4 range (`10.0.0.0/8`);
 * - a multiaddr whose first component is `/ip4` or `/ip6` (optionally after `/ip6zone`),
 *   optionally followed by `/ipcidr/<n>`, any transport components (ports are ignored:
 *   `/ip4/1.2.3.4/tcp/4001` names the address `1.2.3.4`), and optionally `/p2p/<peer ID>`;
 *   or a bare `/p2p/<peer ID>`;
 * - a libp2p peer ID (see {@link parsePeerId}).
 *
 * Refused, each with its reason: malformed or ambiguous addresses (`256.1.1.1`,
 * `010.0.0.1`, `1.2.3`), prefix lengths out of range (`1.2.3.4/33`), extra slashes,
 * surrounding white space, the empty string, hostnames and `/dns…` multiaddrs (names are
 * never resolved), relay (`/p2p-circuit`) addresses, and anything that is neither an
 * address nor a valid peer ID. Nothing is guessed.
 *
 * @param input - the entry text
 * @throws {@link InvalidAddressError} when the entry is malformed
 *
 * @example
 * ```ts
 * import { parseAddressEntry } from '@cm/config/address'
 *
 * parseAddressEntry('192.168.1.5/24').text // '192.168.1.0/24'
 * parseAddressEntry('/ip4/1.2.3.4/tcp/4001').text // '1.2.3.4'
 * parseAddressEntry('/ip6/2001:db8::/ipcidr/32').network?.prefixLength // 32
 * ```
 */
export function parseAddressEntry (input: string): AddressEntry {
  const result = tryParseAddressEntry(input)
  if (!result.ok) {
    throw new InvalidAddressError(input, result.reason)
  }
  return result.entry
}

/**
 * Parses one list entry like {@link parseAddressEntry}, returning the reason instead of
 * throwing when it is malformed.
 *
 * @param input - the entry text
 *
 * @example
 * ```ts
 * import { tryParseAddressEntry } from '@cm/config/address'
 *
 * const result = tryParseAddressEntry('example.com')
 * if (!result.ok) {
 *   console.log(result.reason) // 'hostnames are not resolved; give an IP address, a CIDR range, a multiaddr or a peer ID'
 * }
 * ```
 */
export function tryParseAddressEntry (input: unknown): AddressEntryResult {
  if (typeof input !== 'string') {
    return failure(`expected a string, got ${typeof input}`)
  }
  if (input.length === 0) {
    return failure('the entry is empty')
  }
  if (input.length > MAX_MULTIADDR_LENGTH) {
    return failure(`the entry is ${input.length} characters long; entries are at most ${MAX_MULTIADDR_LENGTH}`)
  }
  if (input.trim() !== input) {
    return failure('the entry has white space around it')
  }
  if (input.startsWith('/')) {
    return parseMultiaddrEntry(input)
  }
  const slash = input.indexOf('/')
  if (slash !== -1) {
    return parseCidrEntry(input, input.slice(0, slash), input.slice(slash + 1))
  }
  const ip = parseIp(input)
  if (ip !== undefined) {
    return parseCidrEntry(input, input, undefined, ip)
  }
  const peerId = parsePeerId(input)
  if (peerId !== undefined) {
    return success({ input, peerId, text: peerId })
  }
  return failure(explainNonAddress(input))
}

function parseCidrEntry (input: string, ipText: string, prefixText: string | undefined, parsed?: IpAddress): AddressEntryResult {
  const ip = parsed ?? parseIp(ipText)
  if (ip === undefined) {
    return failure(explainNonAddress(ipText))
  }
  // An IPv4-mapped address is IPv4; its prefix is counted in IPv6 bits if written as IPv6.
  const writtenAsIpv6 = ipText.includes(':')
  const writtenMax = writtenAsIpv6 ? 128 : 32
  let prefixLength = writtenMax
  if (prefixText !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > writtenMax) {
      const detail = prefixText.includes('/') ? 'an entry has at most one "/"' : `the prefix length must be an integer from 0 to ${writtenMax}, got ${quoteInput(prefixText)}`
      return failure(detail)
    }
    prefixLength = Number(prefixText)
  }
  if (writtenAsIpv6 && ip.family === 4) {
    if (prefixLength < 96) {
      return failure(`an IPv4-mapped range must have a prefix length of 96 or more to name IPv4 addresses, got ${prefixLength}`)
    }
    return networkEntry(input, 4, `${ip.text}/${prefixLength - 96}`)
  }
  return networkEntry(input, ip.family, `${ip.text}/${prefixLength}`)
}

/** Builds a network entry from canonical `ip/prefix` text, normalised by cidr-tools. */
function networkEntry (input: string, family: IpFamily, cidr: string, peerId?: string): AddressEntryResult {
  const parsed = parseCidr(cidr)
  const prefixLength = Number(parsed.prefix)
  const words = family === 4
    ? [Number(parsed.start)]
    : [0, 1, 2, 3].map(index => Number((parsed.start >> BigInt(96 - index * 32)) & 0xffffffffn))
  const address = formatIp(family, words)
  const text = prefixLength === MAX_PREFIX_LENGTH[family] ? address : `${address}/${prefixLength}`
  const network: IpNetwork = { family, words, prefixLength, text }
  if (peerId === undefined) {
    return success({ input, network, text })
  }
  const cidrPart = prefixLength === MAX_PREFIX_LENGTH[family] ? '' : `/ipcidr/${prefixLength}`
  return success({ input, network, peerId, text: `/ip${family}/${address}${cidrPart}/p2p/${peerId}` })
}

const CODE_IP4 = 4
const CODE_IP6 = 41
const CODE_IP6ZONE = 42
const CODE_IPCIDR = 43
const CODE_P2P = 421
const CODE_P2P_CIRCUIT = 290
const NAME_CODES = new Set([53, 54, 55, 56]) // dns, dns4, dns6, dnsaddr

function parseMultiaddrEntry (input: string): AddressEntryResult {
  let components
  try {
    components = multiaddr(input).getComponents()
  } catch (error) {
    return failure(`not a valid multiaddr (${quoteInput(String((error as Error).message))})`)
  }
  if (components.some(component => component.code === CODE_P2P_CIRCUIT)) {
    return failure('relay (/p2p-circuit) addresses have no remote IP of their own; list the relay\'s address or the peer ID instead')
  }
  const first = components[0]
  if (first === undefined) {
    return failure('the multiaddr is empty')
  }
  if (NAME_CODES.has(first.code)) {
    return failure(`/${first.name} names are not resolved; give an /ip4 or /ip6 address`)
  }
  const last = components[components.length - 1]
  // Stryker disable next-line OptionalChaining: the empty multiaddr was refused above, so there is a last component
  const peerText = last?.code === CODE_P2P ? last.value : undefined
  // Stryker disable next-line ConditionalExpression: parsePeerId() gives undefined for undefined too
  const peerId = peerText === undefined ? undefined : parsePeerId(peerText)
  if (peerText !== undefined && peerId === undefined) {
    return failure(`${quoteInput(peerText)} is not a valid peer ID`)
  }
  if (components.slice(0, -1).some(component => component.code === CODE_P2P)) {
    return failure('/p2p may only appear once, at the end')
  }
  if (first.code === CODE_P2P) {
    return success({ input, peerId: peerId as string, text: peerId as string })
  }
  let index = first.code === CODE_IP6ZONE ? 1 : 0
  const ipComponent = components[index]
  if (ipComponent === undefined || (ipComponent.code !== CODE_IP4 && ipComponent.code !== CODE_IP6) || (index === 1 && ipComponent.code !== CODE_IP6)) {
    return failure('a multiaddr entry must start with /ip4, /ip6 or /p2p (optionally /ip6zone before /ip6)')
  }
  // Stryker disable next-line StringLiteral: an /ip4 or /ip6 component always has a value
  const ipText = ipComponent.value ?? ''
  const ip = parseIp(ipText)
  // Stryker disable next-line ConditionalExpression,BlockStatement: multiaddr() has already refused /ip4 and /ip6 values that are not addresses; kept in case it stops
  if (ip === undefined) {
    return failure(explainNonAddress(ipText))
  }
  index++
  let prefixLength = ipComponent.code === CODE_IP4 ? 32 : 128
  const cidrComponent = components[index]
  if (cidrComponent?.code === CODE_IPCIDR) {
    const max = prefixLength
    // Stryker disable next-line StringLiteral: an /ipcidr component always has a value
    const value = cidrComponent.value ?? ''
    if (!/^(0|[1-9][0-9]{0,2})$/.test(value) || Number(value) > max) {
      return failure(`the /ipcidr prefix length must be an integer from 0 to ${max}, got ${quoteInput(value)}`)
    }
    prefixLength = Number(value)
    index++
  }
  if (components.slice(index).some(component => component.code === CODE_IPCIDR || component.code === CODE_IP4 || component.code === CODE_IP6 || component.code === CODE_IP6ZONE || NAME_CODES.has(component.code))) {
    return failure('a multiaddr entry names one address: /ipcidr may only follow it directly, and no second address may follow')
  }
  if (ipComponent.code === CODE_IP6 && ip.family === 4) {
    if (prefixLength < 96) {
      return failure(`an IPv4-mapped range must have a prefix length of 96 or more to name IPv4 addresses, got ${prefixLength}`)
    }
    return networkEntry(input, 4, `${ip.text}/${prefixLength - 96}`, peerId)
  }
  return networkEntry(input, ip.family, `${ip.text}/${prefixLength}`, peerId)
}

/**
 * What a multiaddr says about the remote end: its IP address, if it names a directly
 * reachable IP host, and its peer ID, if it ends with one. From {@link readMultiaddr}.
 */
export interface MultiaddrTarget {
  /**
   * The IP address text, when the first component is `/ip4` or `/ip6` (after an optional
   * `/ip6zone`) and the address is not relayed; `undefined` for DNS names, Unix sockets,
   * relayed (`/p2p-circuit`) addresses and a bare `/p2p/…`.
   */
  readonly ip: string | undefined
  /**
   * The peer ID of the final `/p2p` component, in canonical form (as {@link parsePeerId}
   * gives it; as written if it is not a libp2p peer ID), or `undefined` when the multiaddr
   * does not end with `/p2p/…`. For a relayed address this is the peer behind the relay.
   */
  readonly peerId: string | undefined
  /** Whether the address goes through a relay (`/p2p-circuit`). */
  readonly relayed: boolean
}

/**
 * Reads the remote IP address and peer ID of a multiaddr, or returns `undefined` when the
 * multiaddr is malformed (or, as text, longer than {@link MAX_MULTIADDR_LENGTH}). A relayed connection's IP is its relay's, so it is not reported
 * as the peer's: `ip` is `undefined` for a `/p2p-circuit` address, while `peerId` names
 * the peer behind the relay.
 *
 * @param address - a multiaddr object or string
 *
 * @example
 * ```ts
 * import { readMultiaddr } from '@cm/config/address'
 *
 * readMultiaddr('/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')
 * // { ip: '10.0.0.1', peerId: '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA', relayed: false }
 * readMultiaddr('/dns4/example.com/tcp/443') // { ip: undefined, peerId: undefined, relayed: false }
 * readMultiaddr('not a multiaddr') // undefined
 * ```
 */
export function readMultiaddr (address: Multiaddr | string): MultiaddrTarget | undefined {
  // Stryker disable next-line ConditionalExpression: a Multiaddr object has no length, so the cap reads only strings either way
  if (typeof address === 'string' && address.length > MAX_MULTIADDR_LENGTH) {
    return undefined
  }
  let components
  try {
    // Stryker disable next-line ConditionalExpression: multiaddr() of a Multiaddr has the same components
    components = (typeof address === 'string' ? multiaddr(address) : address).getComponents()
  } catch {
    return undefined
  }
  let relayed = false
  for (const component of components) {
    if (component.code === CODE_P2P_CIRCUIT) {
      relayed = true
    }
  }
  const last = components[components.length - 1]
  const peerText = last?.code === CODE_P2P ? last.value : undefined
  // Stryker disable next-line ConditionalExpression: parsePeerId() gives undefined for undefined too
  const peerId = peerText === undefined ? undefined : parsePeerId(peerText) ?? peerText
  let first = components[0]
  if (first?.code === CODE_IP6ZONE) {
    first = components[1]
    if (first?.code !== CODE_IP6) {
      return { ip: undefined, peerId, relayed }
    }
  }
  const ip = relayed || first === undefined || (first.code !== CODE_IP4 && first.code !== CODE_IP6) ? undefined : first.value
  return { ip, peerId, relayed }
}

/**
 * Returns the IP address text of a multiaddr that names a directly reachable IP host (its
 * first component is `/ip4` or `/ip6`, after an optional `/ip6zone`), or `undefined` for
 * any other multiaddr: DNS names, Unix sockets, relayed (`/p2p-circuit`) addresses, a bare
 * `/p2p/…`. A relayed connection's IP is its relay's, so it is not reported as the peer's.
 * {@link readMultiaddr} also gives the peer ID.
 *
 * @param address - a multiaddr object or string; a malformed string gives `undefined`
 *
 * @example
 * ```ts
 * import { ipFromMultiaddr } from '@cm/config/address'
 *
 * ipFromMultiaddr('/ip4/10.0.0.1/tcp/4001') // '10.0.0.1'
 * ipFromMultiaddr('/dns4/example.com/tcp/443') // undefined
 * ```
 */
export function ipFromMultiaddr (address: Multiaddr | string): string | undefined {
  return readMultiaddr(address)?.ip
}

function explainNonAddress (text: string): string {
  if (/^[0-9.]+$/.test(text)) {
    const parts = text.split('.')
    if (parts.length !== 4) {
      return `an IPv4 address has four decimal parts, got ${parts.length}`
    }
    if (parts.some(part => part.length > 1 && part.startsWith('0'))) {
      return 'leading zeros are ambiguous (octal or decimal) and are not accepted'
    }
    return 'each part of an IPv4 address must be an integer from 0 to 255'
  }
  if (text.includes(':')) {
    return 'not a valid IPv6 address'
  }
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(text)) {
    return 'hostnames are not resolved; give an IP address, a CIDR range, a multiaddr or a peer ID'
  }
  return 'not an IP address, CIDR range, multiaddr or valid peer ID'
}

function success (entry: AddressEntry): AddressEntryResult {
  return { ok: true, entry }
}

function failure (reason: string): AddressEntryResult {
  return { ok: false, reason }
}
