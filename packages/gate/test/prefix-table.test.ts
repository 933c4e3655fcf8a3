import { maskIp } from '@cm/config/address'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PrefixTable } from '../src/prefix-table.ts'

type Family = 4 | 6

interface Network {
  readonly family: Family
  readonly words: number[]
  readonly prefixLength: number
}

const maxLength = (family: Family): number => family === 4 ? 32 : 128

function key (network: Network): string {
  return `${network.family}/${network.prefixLength}/${maskIp([...network.words], network.prefixLength).join('.')}`
}

function contains (network: Network, family: Family, words: readonly number[]): boolean {
  if (network.family !== family) {
    return false
  }
  const masked = maskIp([...words], network.prefixLength)
  return masked.every((word, index) => word === maskIp([...network.words], network.prefixLength)[index])
}

/**
 * Networks and addresses drawn near a few base addresses, so that networks overlap and
 * addresses fall inside them; prefix lengths are any from 0 to the family's maximum.
 */
const word = fc.integer({ min: 0, max: 0xffffffff })
const base = fc.record({ family: fc.constantFrom<Family>(4, 6), words: fc.array(word, { minLength: 4, maxLength: 4 }) })
const near = (bases: ReadonlyArray<{ family: Family, words: number[] }>): fc.Arbitrary<{ family: Family, words: number[] }> =>
  fc.tuple(fc.nat(bases.length - 1), fc.nat(128), fc.array(word, { minLength: 4, maxLength: 4 })).map(([index, keep, noise]) => {
    const origin = bases[index] ?? { family: 4 as Family, words: [0, 0, 0, 0] }
    const length = origin.family === 4 ? 1 : 4
    const kept = Math.min(keep, maxLength(origin.family))
    // The first `kept` bits from the base, the rest from the noise.
    const words = origin.words.slice(0, length).map((value, position) => {
      const bits = kept - position * 32
      if (bits >= 32) return value >>> 0
      if (bits <= 0) return (noise[position] ?? 0) >>> 0
      const mask = (0xffffffff << (32 - bits)) >>> 0
      return ((value & mask) | ((noise[position] ?? 0) & ~mask)) >>> 0
    })
    return { family: origin.family, words }
  })

type Operation =
  | { readonly kind: 'set', readonly network: Network, readonly value: number }
  | { readonly kind: 'delete', readonly network: Network }
  | { readonly kind: 'lookup', readonly family: Family, readonly words: number[] }

const operations = fc.array(base, { minLength: 1, maxLength: 4 }).chain(bases => {
  // Mostly two prefix lengths per family, so that tables get crowded and runs collide.
  const network = near(bases).chain(({ family, words }) => fc.oneof(
    { weight: 1, arbitrary: fc.nat(maxLength(family)) },
    { weight: 6, arbitrary: fc.constantFrom(maxLength(family), maxLength(family) - 8) }
  ).map(prefixLength => ({ family, words, prefixLength })))
  return fc.array(fc.oneof(
    { weight: 5, arbitrary: fc.tuple(network, fc.nat()).map(([network, value]): Operation => ({ kind: 'set', network, value })) },
    { weight: 3, arbitrary: network.map((network): Operation => ({ kind: 'delete', network })) },
    { weight: 4, arbitrary: near(bases).map(({ family, words }): Operation => ({ kind: 'lookup', family, words })) }
  ), { maxLength: 400 })
})

describe('PrefixTable', () => {
  it('.set() / .get() / .delete() - store values under the network, host bits cleared', () => {
    const table = new PrefixTable<string>()
    expect(table.set(4, Uint32Array.from([0x0a010203]), 8, 'ten')).toBeUndefined()
    expect(table.get(4, Uint32Array.from([0x0aff0000]), 8)).toBe('ten')
    expect(table.get(4, Uint32Array.from([0x0a000000]), 16)).toBeUndefined()
    expect(table.set(4, Uint32Array.from([0x0a000000]), 8, 'TEN')).toBe('ten')
    expect(table.size).toBe(1)
    expect(table.delete(4, Uint32Array.from([0x0a000001]), 8)).toBe('TEN')
    expect(table.delete(4, Uint32Array.from([0x0a000001]), 8)).toBeUndefined()
    expect(table.size).toBe(0)
  })

  it('.longest() - finds the longest network containing the address, in its family only', () => {
    const table = new PrefixTable<string>()
    table.set(4, Uint32Array.from([0]), 0, 'everything')
    table.set(4, Uint32Array.from([0x0a000000]), 8, '10/8')
    table.set(4, Uint32Array.from([0x0a010000]), 16, '10.1/16')
    table.set(6, Uint32Array.from([0x20010db8, 0, 0, 0]), 32, '2001:db8::/32')
    table.set(6, Uint32Array.from([0x20010db8, 0, 0, 1]), 128, '2001:db8::1')
    expect(table.longest(4, Uint32Array.from([0x0a010203]))).toBe('10.1/16')
    expect(table.longest(4, Uint32Array.from([0x0a020203]))).toBe('10/8')
    expect(table.longest(4, Uint32Array.from([0x0b000000]))).toBe('everything')
    expect(table.longest(6, Uint32Array.from([0x20010db8, 0, 0, 1]))).toBe('2001:db8::1')
    expect(table.longest(6, Uint32Array.from([0x20010db8, 0, 0, 2]))).toBe('2001:db8::/32')
    expect(table.longest(6, Uint32Array.from([0x20010db9, 0, 0, 0]))).toBeUndefined()
  })

  it('.longestWhere() - skips networks whose value fails the test', () => {
    const table = new PrefixTable<number>()
    table.set(4, Uint32Array.from([0x0a000000]), 8, 1)
    table.set(4, Uint32Array.from([0x0a010000]), 16, 2)
    expect(table.longestWhere(4, Uint32Array.from([0x0a010203]), (value, limit: number) => value < limit, 2)).toBe(1)
    expect(table.longestWhere(4, Uint32Array.from([0x0a010203]), (value, limit: number) => value < limit, 1)).toBeUndefined()
  })

  it('.delete() - keeps every other key reachable in a crowded table (backward shift)', () => {
    const table = new PrefixTable<number>()
    for (let index = 0; index < 5_000; index++) {
      table.set(4, Uint32Array.from([index * 2_654_435_761 >>> 0]), 32, index)
    }
    for (let index = 0; index < 5_000; index += 2) {
      expect(table.delete(4, Uint32Array.from([index * 2_654_435_761 >>> 0]), 32)).toBe(index)
    }
    for (let index = 0; index < 5_000; index++) {
      expect(table.get(4, Uint32Array.from([index * 2_654_435_761 >>> 0]), 32)).toBe(index % 2 === 0 ? undefined : index)
    }
    expect(table.size).toBe(2_500)
  })

  it('.set() / .delete() - keys of two, three and four words grow and shrink their tables, every other key still found', () => {
    // IPv6 /40, /96 and /128: keys of 2, 3 and 4 words, each word different per key.
    const words = (index: number): Uint32Array => Uint32Array.from([0x20010000 + index, index * 2_654_435_761 >>> 0, index * 40_503 >>> 0, index * 7 + 1])
    for (const prefixLength of [40, 96, 128]) {
      const table = new PrefixTable<number>()
      for (let index = 0; index < 3_000; index++) {
        expect(table.set(6, words(index), prefixLength, index)).toBeUndefined()
      }
      // Drop nine in ten: the table shrinks back, and the others move with it.
      for (let index = 0; index < 3_000; index++) {
        if (index % 10 !== 0) expect(table.delete(6, words(index), prefixLength)).toBe(index)
      }
      for (let index = 0; index < 3_000; index++) {
        expect(table.get(6, words(index), prefixLength)).toBe(index % 10 === 0 ? index : undefined)
        expect(table.longest(6, words(index))).toBe(index % 10 === 0 ? index : undefined)
      }
      expect(table.size).toBe(300)
    }
  })

  it('.values() - lists every value once', () => {
    const table = new PrefixTable<number>()
    table.set(4, Uint32Array.from([0x0a000000]), 8, 1)
    table.set(6, Uint32Array.from([0x20010db8, 0, 0, 0]), 32, 2)
    table.set(4, Uint32Array.from([0x0a000000]), 16, 3)
    expect([...table.values()].sort()).toEqual([1, 2, 3])
  })

  it('agrees with a linear scan over any sequence of sets, deletes and lookups', () => {
    fc.assert(fc.property(operations, ops => {
      const table = new PrefixTable<number>()
      const reference = new Map<string, { network: Network, value: number }>()
      for (const op of ops) {
        if (op.kind === 'set') {
          const previous = reference.get(key(op.network))?.value
          expect(table.set(op.network.family, Uint32Array.from(op.network.words), op.network.prefixLength, op.value)).toBe(previous)
          reference.set(key(op.network), { network: op.network, value: op.value })
        } else if (op.kind === 'delete') {
          expect(table.delete(op.network.family, Uint32Array.from(op.network.words), op.network.prefixLength)).toBe(reference.get(key(op.network))?.value)
          reference.delete(key(op.network))
        } else {
          const matches = [...reference.values()].filter(item => contains(item.network, op.family, op.words))
          matches.sort((a, b) => b.network.prefixLength - a.network.prefixLength)
          expect(table.longest(op.family, Uint32Array.from(op.words))).toBe(matches[0]?.value)
        }
        expect(table.size).toBe(reference.size)
      }
      for (const { network, value } of reference.values()) {
        expect(table.get(network.family, Uint32Array.from(network.words), network.prefixLength)).toBe(value)
      }
    }), { numRuns: 500 })
  }, 120_000)
})
