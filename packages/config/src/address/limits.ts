/**
 * Length caps checked before any parsing, so that hostile input costs a length comparison.
 */

/**
 * The longest IP address text accepted: 45 characters for the longest IPv6 form (eight
 * groups ending in a dotted quad), with room for a `%zone`. Longer text is not an address,
 * and is refused before it is scanned.
 */
export const MAX_IP_TEXT_LENGTH = 128

/**
 * The longest peer ID text accepted. The longest valid one is 67 characters (a CIDv1 of an
 * inlined secp256k1 key in base32); longer text is refused before it is decoded, whose cost
 * grows with the square of the length.
 */
export const MAX_PEER_ID_LENGTH = 128

/**
 * The longest multiaddr text accepted, and so the longest allow, deny or trusted list entry.
 * Real multiaddrs, with certificate hashes, a DNS name and a relay hop, stay under half of it.
 */
export const MAX_MULTIADDR_LENGTH = 1024
