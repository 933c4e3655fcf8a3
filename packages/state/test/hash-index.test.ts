import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashKey, HashIndex } from '../src/hash-index.ts'
import type { KeyHash } from '../src/hash-index.ts'

/** Three hash values for every key: long runs, and keys whose whole hash is equal. */
const poorHash: KeyHash = key => 1 + (typeof key === 'number' ? Math.abs(key) % 3 : key.length % 3)

/** One hash value for every key: a single run holds everything. */
const constantHash: KeyHash = () => 7

describe('hashKey', () => {
  it('is never 0, and depends on the seed', () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.string()), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (key, seed) => {
      expect(hashKey(key, seed)).not.toBe(0)
      expect(Number.isInteger(hashKey(key, seed))).toBe(true)
    }), { numRuns: 2_000 })
    const keys = ['12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA', 'a', '', 0x0a000001, -1]
    for (const key of keys) {
      expect(hashKey(key, 1)).toBe(hashKey(key, 1))
    }
    expect(keys.map(key => hashKey(key, 1))).not.toEqual(keys.map(key => hashKey(key, 2)))
  })

  it('tells apart strings of odd and even length and strings that differ in one code unit', () => {
    expect(hashKey('ab', 5)).not.toBe(hashKey('abc', 5))
    expect(hashKey('', 5)).not.toBe(hashKey('\u0000', 5))
    expect(hashKey('peer-a', 5)).not.toBe(hashKey('peer-b', 5))
  })
})

/**
 * Values and their keys, as the tracker's group IDs and ID slots have them: each value is
 * held by one key only, and the index finds a value's key through `keyOf`.
 */
class Values<Key> {
  readonly #keys = new Map<number, Key>()
  #last = 0

  /** A new value (never 0, positive or negative in turn) for `key`. */
  next (key: Key): number {
    this.#last++
    const value = this.#last % 2 === 0 ? this.#last : -this.#last
    this.#keys.set(value, key)
    return value
  }

  readonly keyOf = (value: number): Key => {
    const key = this.#keys.get(value)
    if (key === undefined) throw new Error(`value ${value} was never made`)
    return key
  }
}

describe('HashIndex', () => {
  it('gets, sets, replaces and removes int32 and string keys', () => {
    const values = new Values<number | string>()
    const index = new HashIndex<number | string>(values.keyOf)
    const one = values.next(1)
    const textOne = values.next('1')
    const minusOne = values.next(-1)
    expect(index.size).toBe(0)
    expect(index.get(1)).toBe(0)
    expect(index.getOrSet(1, one)).toBe(0)
    expect(index.getOrSet('1', textOne)).toBe(0)
    expect(index.getOrSet(-1, minusOne)).toBe(0)
    expect(index.size).toBe(3)
    expect(index.get(1)).toBe(one)
    expect(index.get('1')).toBe(textOne)
    expect(index.get(-1)).toBe(minusOne)
    expect(index.getOrSet(1, values.next(1))).toBe(one)
    const uno = values.next(1)
    expect(index.replace(index.hashOf(1), one, uno)).toBe(true)
    expect(index.replace(index.hashOf(1), one, uno)).toBe(false)
    expect(index.size).toBe(3)
    expect(index.get(1)).toBe(uno)
    expect(index.remove(index.hashOf(1), one)).toBe(false)
    expect(index.remove(index.hashOf(1), uno)).toBe(true)
    expect(index.remove(index.hashOf(1), uno)).toBe(false)
    expect(index.get(1)).toBe(0)
    expect(index.get('1')).toBe(textOne)
    expect(index.size).toBe(2)
    expect(new Map(index)).toEqual(new Map<number | string, number>([['1', textOne], [-1, minusOne]]))
  })

  it('finds by value without reading keys when replacing and removing', () => {
    // Both keys share one hash; once they are in, keyOf throws: replace and remove must not
    // call it.
    let reading = true
    const keyOf = (value: number): string => {
      if (!reading) throw new Error('keyOf called')
      return value === 5 ? 'a' : 'b'
    }
    const index = new HashIndex<string>(keyOf, constantHash)
    expect(index.getOrSet('a', 5)).toBe(0)
    expect(index.getOrSet('b', 6)).toBe(0)
    reading = false
    expect(index.replace(7, 6, 8)).toBe(true)
    expect(index.remove(7, 5)).toBe(true)
    expect(index.remove(7, 6)).toBe(false)
    expect(index.remove(7, 8)).toBe(true)
    expect(index.size).toBe(0)
  })

  it('grows and shrinks as keys come and go', () => {
    const values = new Values<number>()
    const index = new HashIndex<number>(values.keyOf)
    const held = new Map<number, number>()
    for (let key = 1; key <= 10_000; key++) {
      held.set(key, values.next(key))
      index.getOrSet(key, held.get(key) ?? 0)
    }
    expect(index.size).toBe(10_000)
    for (let key = 1; key <= 10_000; key++) expect(index.get(key)).toBe(held.get(key))
    for (let key = 1; key <= 9_990; key++) expect(index.remove(index.hashOf(key), held.get(key) ?? 0)).toBe(true)
    expect(index.size).toBe(10)
    expect([...index].map(([key]) => key).sort((a, b) => a - b)).toEqual([9_991, 9_992, 9_993, 9_994, 9_995, 9_996, 9_997, 9_998, 9_999, 10_000])
    for (let key = 9_991; key <= 10_000; key++) expect(index.get(key)).toBe(held.get(key))
  })

  it('keeps every key reachable when all keys share one hash', () => {
    const values = new Values<number>()
    const index = new HashIndex<number>(values.keyOf, constantHash)
    const held: number[] = []
    for (let key = 0; key < 100; key++) {
      held.push(values.next(key))
      index.getOrSet(key, held[key] ?? 0)
    }
    for (let key = 0; key < 100; key += 2) index.remove(7, held[key] ?? 0)
    for (let key = 0; key < 100; key++) expect(index.get(key)).toBe(key % 2 === 0 ? 0 : held[key])
  })

  // The reference model is a Map; operations run on a small key space so that keys come back
  // after their removal, with a poor hash so that runs are long and whole hashes collide.
  const keyArbitrary = fc.oneof(fc.integer({ min: -40, max: 40 }), fc.constantFrom('a', 'b', 'c', 'peer-a', 'peer-b', '10', ''))
  const commandArbitrary = fc.oneof(
    fc.record({ kind: fc.constant('getOrSet' as const), key: keyArbitrary }),
    fc.record({ kind: fc.constant('replace' as const), key: keyArbitrary }),
    fc.record({ kind: fc.constant('remove' as const), key: keyArbitrary }),
    fc.record({ kind: fc.constant('get' as const), key: keyArbitrary })
  )

  for (const [name, hash] of [['the seeded hash', hashKey], ['a poor hash', poorHash]] as const) {
    it(`behaves as a Map under any sequence of operations, with ${name}`, () => {
      fc.assert(fc.property(fc.array(commandArbitrary, { maxLength: 300 }), commands => {
        const values = new Values<number | string>()
        const index = new HashIndex<number | string>(values.keyOf, hash)
        const model = new Map<number | string, number>()
        for (const command of commands) {
          const held = model.get(command.key)
          switch (command.kind) {
            case 'getOrSet': {
              const value = values.next(command.key)
              expect(index.getOrSet(command.key, value)).toBe(held ?? 0)
              if (held === undefined) model.set(command.key, value)
              break
            }
            case 'replace': {
              // By a value the key holds, if any; else by a value no key holds.
              const value = values.next(command.key)
              expect(index.replace(index.hashOf(command.key), held ?? values.next(command.key), value)).toBe(held !== undefined)
              if (held !== undefined) model.set(command.key, value)
              break
            }
            case 'remove':
              expect(index.remove(index.hashOf(command.key), held ?? values.next(command.key))).toBe(held !== undefined)
              model.delete(command.key)
              break
            case 'get':
              expect(index.get(command.key)).toBe(held ?? 0)
              break
          }
          expect(index.size).toBe(model.size)
        }
        expect(new Map(index)).toEqual(model)
        for (const [key, value] of model) expect(index.get(key)).toBe(value)
      }), { numRuns: 1_000 })
    })
  }
})
