import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import fc from 'fast-check'
import { base32 } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { beforeAll, describe, expect, it } from 'vitest'
import { parsePeerId } from '../../src/address/index.ts'

/** What @libp2p/peer-id makes of a string: its canonical text, or undefined. */
function reference (text: string): string | undefined {
  try {
    const peerId = peerIdFromString(text)
    return peerId.type === 'url' ? undefined : peerId.toString()
  } catch {
    return undefined
  }
}

describe('parsePeerId()', () => {
  const ids: Array<{ type: string, text: string, cid: string }> = []

  beforeAll(async () => {
    for (const type of ['Ed25519', 'Ed25519', 'secp256k1', 'secp256k1', 'RSA'] as const) {
      const key = type === 'RSA' ? await generateKeyPair('RSA', 1024) : await generateKeyPair(type)
      const peerId = peerIdFromPrivateKey(key)
      ids.push({ type, text: peerId.toString(), cid: peerId.toCID().toString() })
    }
  })

  it('accepts Ed25519, secp256k1 and RSA peer IDs as @libp2p/peer-id prints them', () => {
    for (const { text } of ids) {
      expect(parsePeerId(text)).toBe(text)
      expect(reference(text)).toBe(text)
    }
  })

  it('accepts the CID forms (base32 and base36) and returns the base58btc form', () => {
    for (const { text, cid } of ids) {
      expect(parsePeerId(cid)).toBe(text)
      const parsed = peerIdFromString(text).toCID()
      expect(parsePeerId(parsed.toString(base36))).toBe(text)
      expect(parsePeerId(parsed.toString(base32))).toBe(text)
    }
  })

  it.each([
    '', 'not-a-peer', 'Qm', '12D3KooW', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5', // one character short
    'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi', // a CID, but not libp2p-key
    '10.0.0.1', '/ip4/1.2.3.4'
  ])('refuses %j', text => {
    expect(parsePeerId(text)).toBeUndefined()
  })

  it('agrees with @libp2p/peer-id on corrupted peer IDs', () => {
    const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
    fc.assert(fc.property(
      fc.nat(ids.length - 1), fc.nat(60), fc.constantFrom(...alphabet), fc.constantFrom('replace', 'insert', 'delete', 'truncate'),
      (which, at, character, edit) => {
        const original = ids[which]?.text ?? ''
        const position = at % original.length
        const text = edit === 'replace'
          ? original.slice(0, position) + character + original.slice(position + 1)
          : edit === 'insert'
            ? original.slice(0, position) + character + original.slice(position)
            : edit === 'delete'
              ? original.slice(0, position) + original.slice(position + 1)
              : original.slice(0, position)
        const ours = parsePeerId(text)
        const theirs = reference(text)
        // We check the key's encoding, not that a secp256k1 point is on the curve, so we may
        // accept a few strings @libp2p/peer-id refuses, never the other way round.
        if (theirs !== undefined) {
          expect(ours).toBe(theirs)
        } else if (ours !== undefined) {
          expect(ids[which]?.type).toBe('secp256k1')
        }
      }), { numRuns: 2000 })
  })
})

describe('parsePeerId() - the key inside', () => {
  /** A libp2p-key CID (base32) of a multihash of this code over these bytes. */
  function keyCid (code: number, bytes: number[]): string {
    return CID.createV1(0x72, Digest.create(code, Uint8Array.from(bytes))).toString()
  }
  const ed25519 = [0x08, 0x01, 0x12, 0x20]
  const secp256k1 = [0x08, 0x02, 0x12, 0x21]
  const filled = (length: number, first = 7): number[] => Array.from({ length }, (_, index) => index === 0 ? first : index)

  it('accepts a well-formed key of each kind, whatever its bytes', () => {
    expect(parsePeerId(keyCid(0x12, filled(32)))).toBeDefined()
    expect(parsePeerId(keyCid(0x00, [...ed25519, ...filled(32)]))).toBeDefined()
    expect(parsePeerId(keyCid(0x00, [...secp256k1, ...filled(33, 0x02)]))).toBeDefined()
    expect(parsePeerId(keyCid(0x00, [...secp256k1, ...filled(33, 0x03)]))).toBeDefined()
  })

  it.each([
    ['a sha2-256 digest of 31 bytes', 0x12, filled(31)],
    ['a sha2-256 digest of 33 bytes', 0x12, filled(33)],
    ['a sha2-512 digest', 0x13, filled(64)],
    ['an Ed25519 key under a code other than identity', 0x13, [...ed25519, ...filled(32)]],
    ['an Ed25519 key of 31 bytes', 0x00, [...ed25519, ...filled(31)]],
    ['an Ed25519 key of 33 bytes', 0x00, [...ed25519, ...filled(33)]],
    ['a secp256k1 key of 32 bytes', 0x00, [...secp256k1, ...filled(32, 0x02)]],
    ['a secp256k1 key of 34 bytes', 0x00, [...secp256k1, ...filled(34, 0x02)]],
    ['an uncompressed secp256k1 point (prefix 4)', 0x00, [...secp256k1, ...filled(33, 0x04)]],
    ['a key of another type', 0x00, [0x08, 0x03, 0x12, 0x20, ...filled(32)]],
    ['a header one byte off', 0x00, [0x08, 0x01, 0x12, 0x21, ...filled(32)]]
  ])('refuses %s', (_name, code, bytes) => {
    expect(parsePeerId(keyCid(code, bytes))).toBeUndefined()
  })
})
