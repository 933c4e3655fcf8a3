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

/** A value that carries its key, as the tracker's groups do. */
interface Item<Key> {
  readonly key: Key
  readonly value: number
}

function item<Key> (key: Key, value: number): Item<Key> {
  return { key, value }
}

function keyOf<Key> (value: Item<Key>): Key {
  return value.key
}

describe('HashIndex', () => {
  it('gets, sets, replaces and deletes int32 and string keys', () => {
    const index = new HashIndex<number | string, Item<number | string>>(keyOf)
    const one = item(1, 1)
    const textOne = item('1', 2)
    const minusOne = item(-1, 3)
    expect(index.size).toBe(0)
    expect(index.get(1)).toBeUndefined()
    index.set(1, one)
    index.set('1', textOne)
    index.set(-1, minusOne)
    expect(index.size).toBe(3)
    expect(index.get(1)).toBe(one)
    expect(index.get('1')).toBe(textOne)
    expect(index.get(-1)).toBe(minusOne)
    const uno = item(1, 4)
    index.set(1, uno)
    expect(index.size).toBe(3)
    expect(index.get(1)).toBe(uno)
    expect(index.delete(1)).toBe(true)
    expect(index.delete(1)).toBe(false)
    expect(index.get(1)).toBeUndefined()
    expect(index.get('1')).toBe(textOne)
    expect(index.size).toBe(2)
    expect(new Map(index)).toEqual(new Map<number | string, Item<number | string>>([['1', textOne], [-1, minusOne]]))
  })

  it('getOrSet returns the value held, or sets the one given', () => {
    const index = new HashIndex<string, Item<string>>(keyOf)
    const first = item('a', 1)
    expect(index.getOrSet('a', first)).toBeUndefined()
    expect(index.getOrSet('a', item('a', 2))).toBe(first)
    expect(index.get('a')).toBe(first)
    expect(index.size).toBe(1)
  })

  it('grows and shrinks as keys come and go', () => {
    const index = new HashIndex<number, Item<number>>(keyOf)
    for (let key = 1; key <= 10_000; key++) index.set(key, item(key, key * 2))
    expect(index.size).toBe(10_000)
    for (let key = 1; key <= 10_000; key++) expect(index.get(key)?.value).toBe(key * 2)
    for (let key = 1; key <= 9_990; key++) expect(index.delete(key)).toBe(true)
    expect(index.size).toBe(10)
    expect([...index].map(([key]) => key).sort((a, b) => a - b)).toEqual([9_991, 9_992, 9_993, 9_994, 9_995, 9_996, 9_997, 9_998, 9_999, 10_000])
  })

  it('keeps every key reachable when all keys share one hash', () => {
    const index = new HashIndex<number, Item<number>>(keyOf, constantHash)
    for (let key = 0; key < 100; key++) index.set(key, item(key, key))
    for (let key = 0; key < 100; key += 2) index.delete(key)
    for (let key = 0; key < 100; key++) expect(index.get(key)?.value).toBe(key % 2 === 0 ? undefined : key)
  })

  // The reference model is a Map; operations run on a small key space so that keys come back
  // after their deletion, with a poor hash so that runs are long and whole hashes collide.
  const keyArbitrary = fc.oneof(fc.integer({ min: -40, max: 40 }), fc.constantFrom('a', 'b', 'c', 'peer-a', 'peer-b', '10', ''))
  const commandArbitrary = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: keyArbitrary, value: fc.integer() }),
    fc.record({ kind: fc.constant('getOrSet' as const), key: keyArbitrary, value: fc.integer() }),
    fc.record({ kind: fc.constant('delete' as const), key: keyArbitrary }),
    fc.record({ kind: fc.constant('get' as const), key: keyArbitrary })
  )

  for (const [name, hash] of [['the seeded hash', hashKey], ['a poor hash', poorHash]] as const) {
    it(`behaves as a Map under any sequence of operations, with ${name}`, () => {
      fc.assert(fc.property(fc.array(commandArbitrary, { maxLength: 300 }), commands => {
        const index = new HashIndex<number | string, Item<number | string>>(keyOf, hash)
        const model = new Map<number | string, Item<number | string>>()
        for (const command of commands) {
          switch (command.kind) {
            case 'set': {
              const value = item(command.key, command.value)
              index.set(command.key, value)
              model.set(command.key, value)
              break
            }
            case 'getOrSet': {
              const held = model.get(command.key)
              const value = item(command.key, command.value)
              expect(index.getOrSet(command.key, value)).toBe(held)
              if (held === undefined) model.set(command.key, value)
              break
            }
            case 'delete':
              expect(index.delete(command.key)).toBe(model.delete(command.key))
              break
            case 'get':
              expect(index.get(command.key)).toBe(model.get(command.key))
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
