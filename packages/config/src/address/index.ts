/**
 * Strict parsing of the addresses connection management meets: IP addresses (IPv4, IPv6,
 * IPv4-mapped IPv6 read as IPv4), CIDR ranges, multiaddrs and libp2p peer IDs, for the
 * gate, the rate limiter and config validation alike. Nothing is guessed (`010.0.0.1` and
 * `1.2.3` are refused, names are never resolved), and every parser checks the length of its
 * input before anything else, so hostile input costs a comparison.
 *
 * @example
 * ```ts
 * import { parseAddressEntry, parseIp, parsePeerId, readMultiaddr } from '@cm/config/address'
 *
 * parseIp('::ffff:10.0.0.1')?.text // '10.0.0.1': an IPv4-mapped address is IPv4
 * parseIp('010.0.0.1') // undefined: ambiguous text is refused
 * parseAddressEntry('192.168.1.5/24').text // '192.168.1.0/24'
 * readMultiaddr('/ip4/10.0.0.1/tcp/4001')?.ip // '10.0.0.1'
 * parsePeerId('not-a-peer') // undefined
 * ```
 *
 * @packageDocumentation
 */

export { ipFromMultiaddr, InvalidAddressError, parseAddressEntry, readMultiaddr, tryParseAddressEntry } from './address-entry.ts'
export type { AddressEntry, AddressEntryParsed, AddressEntryRefused, AddressEntryResult, IpNetwork, MultiaddrTarget } from './address-entry.ts'
export { formatIp, MAX_PREFIX_LENGTH, maskIp, parseIp, parseIpInto } from './ip.ts'
export type { IpAddress, IpFamily } from './ip.ts'
export { MAX_IP_TEXT_LENGTH, MAX_MULTIADDR_LENGTH, MAX_PEER_ID_LENGTH } from './limits.ts'
export { parsePeerId } from './peer-id.ts'
