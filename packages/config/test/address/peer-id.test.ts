import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import fc from 'fast-check'
import { base32 } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
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
