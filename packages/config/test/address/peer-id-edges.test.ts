import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { describe, expect, it } from 'vitest'
import { parsePeerId } from '../../src/address/index.ts'

/** A peer ID whose multihash is the identity of `key` (how small public keys are inlined). */
function inlined (key: number[]): string {
  return base58btc.encode(Digest.create(0x00, new Uint8Array(key)).bytes).slice(1)
}

const SECP256K1 = [0x08, 0x02, 0x12, 0x21, 0x02, ...Array<number>(32).fill(7)]

// Peer IDs at the edges the mutation run found untested (TESTING.md).
describe('parsePeerId at its edges', () => {
  it('takes an inlined secp256k1 key only under its own key header', () => {
    const valid = inlined(SECP256K1)
    expect(parsePeerId(valid)).toBe(valid)
    // Same length and key prefix, another key type's header: not a secp256k1 key.
    for (const header of [[0x08, 0x09, 0x12, 0x21], [0x08, 0x00, 0x12, 0x21], [0x08, 0x02, 0x12, 0x20]]) {
      expect(parsePeerId(inlined([...header, ...SECP256K1.slice(4)])), header.join(',')).toBeUndefined()
    }
  })

  it('takes a CIDv1 only with the libp2p-key codec', () => {
    const multihash = Digest.create(0x12, new Uint8Array(32).fill(9))
    expect(parsePeerId(CID.createV1(0x72, multihash).toString())).toBeDefined()
    for (const codec of [0x55, 0x70, 0x71]) {
      expect(parsePeerId(CID.createV1(codec, multihash).toString()), String(codec)).toBeUndefined()
    }
  })

  it('answers undefined for a value that is not a string, without throwing', () => {
    const values: unknown[] = [undefined, null, 42, {}, ['Qm']]
    for (const value of values) {
      expect(parsePeerId(value as string)).toBeUndefined()
    }
  })

  it('refuses a huge base58 text at once (decoding it would cost the square of its length)', () => {
    // Without the length cap this call runs for minutes: the test would time out.
    expect(parsePeerId(`Qm${'z'.repeat(400_000)}`)).toBeUndefined()
    expect(parsePeerId(`1${'z'.repeat(400_000)}`)).toBeUndefined()
  })
})
