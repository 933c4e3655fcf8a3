import { describe, expect, it } from 'vitest'
import { compareIds, compareLeastValuable, compareNewest, compareOldest, selectVictims } from '../src/index.ts'
import { candidate, ids, libp2pTable, shuffled } from './fixtures.ts'

describe('compareLeastValuable()', () => {
  it('orders js-libp2p\'s table from untagged idle inbound new to tagged busy outbound old', () => {
    const table = libp2pTable()
    expect(ids(table)[0]).toBe('untagged-idle-inbound-new')
    expect(ids(table).at(-1)).toBe('tagged-busy-outbound-old')
    for (const seed of [1, 2, 3, 4, 5]) {
      expect(ids(shuffled(table, seed).sort(compareLeastValuable))).toEqual(ids(table))
    }
  })

  it('ranks value first, then streams, then direction, then the newest first, then the id', () => {
    expect(compareLeastValuable(candidate(1, { value: 1 }), candidate(2, { value: 2, streams: 0 }))).toBeLessThan(0)
    expect(compareLeastValuable(candidate(1, { value: 5, streams: 0, direction: 'outbound' }), candidate(2, { value: 5, streams: 1 }))).toBeLessThan(0)
    expect(compareLeastValuable(candidate(1, { direction: 'inbound', openedAt: 0 }), candidate(2, { direction: 'outbound', openedAt: 10 }))).toBeLessThan(0)
    expect(compareLeastValuable(candidate(1, { openedAt: 10 }), candidate(2, { openedAt: 5 }))).toBeLessThan(0)
    expect(compareLeastValuable(candidate(1), candidate(2))).toBeLessThan(0)
    expect(compareLeastValuable(candidate(2), candidate(2))).toBe(0)
  })

  it('treats negative values as less valuable than untagged', () => {
    expect(ids([candidate('zero'), candidate('negative', { value: -10 })].sort(compareLeastValuable))).toEqual(['negative', 'zero'])
  })
})

describe('compareOldest() and compareNewest()', () => {
  const connections = [
    candidate('b', { openedAt: 20, value: 100, streams: 5 }),
    candidate('a', { openedAt: 20, direction: 'outbound' }),
    candidate('c', { openedAt: 10 }),
    candidate('d', { openedAt: 30, value: -5 })
  ]

  it('.oldest - by opening time alone, earliest first, ties by id', () => {
    expect(ids([...connections].sort(compareOldest))).toEqual(['c', 'a', 'b', 'd'])
  })

  it('.newest - by opening time alone, latest first, ties by id', () => {
    expect(ids([...connections].sort(compareNewest))).toEqual(['d', 'a', 'b', 'c'])
  })
})

describe('compareIds()', () => {
  it('puts numbers first in numeric order, then strings in code-unit order', () => {
    expect([10, 'b', 2, 'a', 'B', -1].sort(compareIds)).toEqual([-1, 2, 10, 'B', 'a', 'b'])
    expect(compareIds('x', 'x')).toBe(0)
  })
})

describe('selectVictims() - strategies', () => {
  it('least-valuable (the default) selects the head of js-libp2p\'s table, in order', () => {
    const table = libp2pTable()
    expect(ids(selectVictims(shuffled(table), { count: 5 }).victims)).toEqual(ids(table.slice(0, 5)))
    expect(ids(selectVictims(shuffled(table, 7), { count: 16, strategy: 'least-valuable' }).victims)).toEqual(ids(table))
  })

  it('oldest and newest select by age alone', () => {
    const table = libp2pTable()
    const oldest = selectVictims(shuffled(table), { count: 8, strategy: 'oldest' }).victims
    expect(oldest.every(victim => victim.openedAt === 1_000)).toBe(true)
    expect(ids(oldest)).toEqual(ids(table.filter(entry => entry.openedAt === 1_000)).sort(compareIds))
    const newest = selectVictims(shuffled(table), { count: 3, strategy: 'newest' }).victims
    expect(ids(newest)).toEqual(ids(table.filter(entry => entry.openedAt === 9_000)).sort(compareIds).slice(0, 3))
  })

  it('a custom comparison decides the order, ties broken by id', () => {
    const busiestFirst = { compare: (a: { streams: number }, b: { streams: number }) => b.streams - a.streams }
    const connections = [candidate('x', { streams: 1 }), candidate('b', { streams: 4 }), candidate('a', { streams: 4 }), candidate('y', { streams: 0 })]
    expect(ids(selectVictims(connections, { count: 3, strategy: busiestFirst }).victims)).toEqual(['a', 'b', 'x'])
  })

  it('a custom comparison that returns NaN is a tie', () => {
    const connections = [candidate(3), candidate(1), candidate(2)]
    expect(ids(selectVictims(connections, { count: 3, strategy: { compare: () => Number.NaN } }).victims)).toEqual([1, 2, 3])
  })

  it('a custom score selects the lowest first, computed once per eligible candidate', () => {
    let calls = 0
    const score = (entry: { value: number, streams: number }): number => {
      calls++
      return entry.value * 10 + entry.streams
    }
    const connections = [candidate('a', { value: 1 }), candidate('b', { value: 0, streams: 9 }), candidate('c', { value: 0, streams: 3 }), candidate('d', { protected: true })]
    expect(ids(selectVictims(connections, { count: 2, strategy: { score } }).victims)).toEqual(['c', 'b'])
    expect(calls).toBe(3)
  })

  it('a custom score accepts infinities and ties by id', () => {
    const connections = [candidate('b'), candidate('a'), candidate('c', { value: 1 })]
    const strategy = { score: (entry: { value: number }) => entry.value === 0 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY }
    expect(ids(selectVictims(connections, { count: 3, strategy }).victims)).toEqual(['a', 'b', 'c'])
  })

  it('a custom comparison may read the caller\'s own fields', () => {
    const connections = [{ ...candidate(1), rtt: 80 }, { ...candidate(2), rtt: 300 }, { ...candidate(3), rtt: 20 }]
    const slowest = selectVictims(connections, { count: 1, strategy: { compare: (a, b) => b.rtt - a.rtt } }).victims
    expect(slowest[0]?.rtt).toBe(300)
  })
})

describe('resolveStrategy() - what is a strategy', () => {
  const refusedStrategies: Array<[string, unknown]> = [
    ['null', null],
    ['a name in an array', ['oldest']],
    ['a compare that is not a function', { compare: 5 }],
    ['a score that is not a function', { score: 'value' }],
    ['a function, even one carrying a compare', Object.assign(() => 0, { compare: () => 0 })]
  ]
  it.each(refusedStrategies)('refuses %s', (_name, strategy) => {
    expect(() => selectVictims([candidate(1)], { count: 1, strategy: strategy as never })).toThrow(/Expected `strategy` to be one of/)
  })

  it('a custom comparison that finds every pair equal selects by id, whatever the input order', () => {
    const connections = [3, 1, 4, 2, 5].map(id => candidate(id))
    for (let seed = 1; seed <= 5; seed++) {
      expect(ids(selectVictims(shuffled(connections, seed), { count: 2, strategy: { compare: () => 0 } }).victims)).toEqual([1, 2])
    }
  })
})
