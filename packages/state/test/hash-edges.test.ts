import { describe, expect, it } from 'vitest'
import { hashKey, HashIndex } from '../src/hash-index.ts'
import { heapUsed } from './heap.ts'

// The hash index's edges that random keys do not reach: the one input whose mixed hash is 0
// (0 marks an empty bucket), the seed of each index, and the memory a table gives back.

describe('hashKey - the input that mixes to 0', () => {
  it('an integer key equal to the seed (key ^ seed = 0, and the mix maps 0 to 0) still hashes to a non-zero value', () => {
    for (const seed of [0, 1, -1, 123_456_789, -(2 ** 31), 2 ** 31 - 1]) {
      expect(hashKey(seed, seed)).not.toBe(0)
    }
  })

  it('a key equal to the seed is held and found like any other', () => {
    const index = new HashIndex<number>(value => value, key => hashKey(key, 5))
    for (const key of [4, 5, 6]) expect(index.getOrSet(key, key)).toBe(0)
    for (const key of [4, 5, 6]) expect(index.get(key)).toBe(key)
    expect([...index].map(([key]) => key).sort()).toEqual([4, 5, 6])
  })
})

describe('HashIndex - the seed', () => {
  it('each index draws its own seed, so two indexes hash the same keys differently', () => {
    const keys = ['peer-a', 'peer-b', 17, -4]
    const first = new HashIndex<number | string>(() => 0)
    const second = new HashIndex<number | string>(() => 0)
    expect(keys.map(key => first.hashOf(key))).not.toEqual(keys.map(key => second.hashOf(key)))
  })
})

describe('HashIndex - memory given back (heap after GC)', () => {
  it('a table that held 200,000 keys shrinks back when they leave', () => {
    // Values are the keys themselves (never 0): no side table to measure.
    const index = new HashIndex<number>(value => value)
    const before = heapUsed()
    for (let key = 1; key <= 200_000; key++) index.getOrSet(key, key)
    let removed = 0
    for (let key = 1; key <= 200_000; key++) if (index.remove(index.hashOf(key), key)) removed++
    expect(removed).toBe(200_000)
    expect(index.size).toBe(0)
    // A table that kept its peak capacity would hold 262,144 buckets of 8 bytes: 2 MB.
    expect(heapUsed() - before).toBeLessThan(500_000)
    index.getOrSet(7, 7)
    expect(index.get(7)).toBe(7)
  })

  it('a table emptied again and again still holds and finds keys', () => {
    const index = new HashIndex<number>(value => value)
    for (let round = 1; round <= 10; round++) {
      index.getOrSet(round, round)
      expect(index.remove(index.hashOf(round), round)).toBe(true)
    }
    for (const key of [11, 12, 13]) index.getOrSet(key, key)
    for (const key of [11, 12, 13]) expect(index.get(key)).toBe(key)
  })
})
