import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { MAX_PEER_ID_LENGTH } from './limits.ts'

const IDENTITY_CODE = 0x00
const SHA2_256_CODE = 0x12
const LIBP2P_KEY_CODE = 0x72

/** Protobuf `PublicKey { Type = 1 (Ed25519); Data = 32 bytes }` header. */
const ED25519_HEADER = [0x08, 0x01, 0x12, 0x20]
/** Protobuf `PublicKey { Type = 2 (secp256k1); Data = 33 bytes }` header (compressed point). */
const SECP256K1_HEADER = [0x08, 0x02, 0x12, 0x21]

/**
 * Validates a libp2p peer ID in its text form and returns its canonical form (the base58btc
 * multihash, as js-libp2p's `peerId.toString()` prints it), or `undefined` if `text` is not
 * a peer ID.
 *
 * Accepted: base58btc multihashes (`12D3KooW…` Ed25519 and `16Uiu2…` secp256k1 keys inlined
 * with the identity hash, `Qm…` SHA-256 hashes of RSA or ECDSA keys) and CIDv1 with the
 * `libp2p-key` codec in any multibase (`bafz…`, `k51…`). An inlined key must be a
 * well-formed Ed25519 or compressed secp256k1 public key; the curve point itself is not
 * checked. URL peer IDs are not accepted, nor is text longer than {@link MAX_PEER_ID_LENGTH}
 * (checked before any decoding).
 *
 * @param text - the peer ID text
 *
 * @example
 * ```ts
 * import { parsePeerId } from '@cm/config/address'
 *
 * parsePeerId('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA') // the same string
 * parsePeerId('not-a-peer') // undefined
 * ```
 */
export function parsePeerId (text: string): string | undefined {
  // Checked first: base58 decoding costs the square of the length.
  // Stryker disable next-line EqualityOperator: no valid peer ID is as long as the cap; the cap bounds the work
  if (typeof text !== 'string' || text.length > MAX_PEER_ID_LENGTH) {
    return undefined
  }
  try {
    let bytes: Uint8Array
    const first = text.charAt(0)
    if (first === '1' || first === 'Q') {
      bytes = base58btc.decode(`z${text}`)
    } else {
      const cid = CID.parse(text)
      // Stryker disable next-line ConditionalExpression: CID.parse() gives version 1 here (a CIDv0 is base58 text starting with 'Q', read above)
      if (cid.version !== 1 || cid.code !== LIBP2P_KEY_CODE) {
        return undefined
      }
      bytes = cid.multihash.bytes
    }
    const digest = Digest.decode(bytes)
    if (!isPeerMultihash(digest.code, digest.digest)) {
      return undefined
    }
    return base58btc.encode(digest.bytes).slice(1)
  } catch {
    // Malformed base58, CID or multihash: not a peer ID.
  }
  return undefined
}

function isPeerMultihash (code: number, digest: Uint8Array): boolean {
  if (code === SHA2_256_CODE) {
    return digest.length === 32
  }
  if (code !== IDENTITY_CODE) {
    return false
  }
  if (startsWith(digest, ED25519_HEADER)) {
    return digest.length === ED25519_HEADER.length + 32
  }
  if (startsWith(digest, SECP256K1_HEADER)) {
    const prefix = digest[SECP256K1_HEADER.length]
    return digest.length === SECP256K1_HEADER.length + 33 && (prefix === 0x02 || prefix === 0x03)
  }
  return false
}

function startsWith (bytes: Uint8Array, header: readonly number[]): boolean {
  return header.every((value, index) => bytes[index] === value)
}
