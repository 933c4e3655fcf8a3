import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidConfigError } from '@cm/config'
import { InvalidCandidateError, ProtectionRegistry, selectVictims } from '../src/index.ts'
import { candidate, ids, shuffled } from './fixtures.ts'
import type { CandidateId, PruneCandidate, SelectVictimsOptions } from '../src/index.ts'

/** The problems' messages that selectVictims throws for these options. */
function problemsOf (options: unknown, candidates: PruneCandidate[] = []): string[] {
  try {
    selectVictims(candidates, options as SelectVictimsOptions)
  } catch (error) {
    if (InvalidConfigError.isInstance(error)) {
      return error.problems.map(problem => problem.message)
    }
    throw error
  }
  return []
}

describe('selectVictims() - how many', () => {
  const connections = [candidate(1), candidate(2), candidate(3), candidate(4)]

  it('selects `count` victims', () => {
    expect(ids(selectVictims(connections, { count: 2 }).victims)).toEqual([1, 2])
    expect(selectVictims(connections, { count: 0 })).toEqual({
      victims: [], wanted: 0, eligible: 4, shortfall: 0, exempt: { trusted: 0, protected: 0, inGracePeriod: 0, excluded: 0 }
    })
  })

  it('selects down to `target`, counting the candidates unless `current` is given', () => {
    expect(selectVictims(connections, { target: 1 }).wanted).toBe(3)
    expect(selectVictims(connections, { target: 4 }).victims).toEqual([])
    expect(selectVictims(connections, { target: 10 }).wanted).toBe(0)
    expect(ids(selectVictims(connections, { target: 3, current: 5 }).victims)).toEqual([1, 2])
  })

  it('selects every eligible candidate and reports the shortfall when too few are eligible', () => {
    const selection = selectVictims([...connections, candidate(5, { protected: true })], { count: 7 })
    expect(ids(selection.victims)).toEqual([1, 2, 3, 4])
    expect(selection.eligible).toBe(4)
    expect(selection.shortfall).toBe(3)
  })

  it('accepts any iterable and returns the very objects given', () => {
    const map = new Map(connections.map(entry => [entry.id, entry]))
    const [victim] = selectVictims(map.values(), { count: 1 }).victims
    expect(victim).toBe(connections[0])
  })
})

describe('selectVictims() - exemptions', () => {
  it('never selects a trusted or protected candidate, and counts each exemption once', () => {
    const connections = [
      candidate('trusted', { trusted: true, protected: true }),
      candidate('flagged', { protected: true }),
      candidate('by-peer', { peer: 'QmProtected' }),
      candidate('other', { peer: 'QmOther', value: 100 })
    ]
    const protection = new ProtectionRegistry()
    protection.protect('QmProtected', 'relay')
    const selection = selectVictims(connections, { count: 4, protection })
    expect(ids(selection.victims)).toEqual(['other'])
    expect(selection.exempt).toEqual({ trusted: 1, protected: 2, inGracePeriod: 0, excluded: 0 })
    expect(selection.shortfall).toBe(3)
  })

  it('a protection by peer follows the peer to its new connections (reconnects)', () => {
    const protection = new ProtectionRegistry()
    protection.protect('QmPeer', 'sync')
    expect(selectVictims([candidate('first', { peer: 'QmPeer' })], { count: 1, protection }).victims).toEqual([])
    expect(selectVictims([candidate('after-reconnect', { peer: 'QmPeer', openedAt: 500 })], { count: 1, protection }).victims).toEqual([])
    protection.unprotect('QmPeer', 'sync')
    expect(ids(selectVictims([candidate('after-reconnect', { peer: 'QmPeer' })], { count: 1, protection }).victims)).toEqual(['after-reconnect'])
  })

  it('an unidentified connection is not covered by protections by peer', () => {
    const protection = { isProtected: () => true }
    expect(ids(selectVictims([candidate('anonymous')], { count: 1, protection }).victims)).toEqual(['anonymous'])
  })

  it('the grace period exempts candidates younger than it, measured against `now`', () => {
    const connections = [candidate('old', { openedAt: 0, value: 100 }), candidate('edge', { openedAt: 40_000 }), candidate('young', { openedAt: 40_001 })]
    const selection = selectVictims(connections, { count: 3, gracePeriod: 60_000, now: 100_000 })
    // 'edge' is exactly 60 s old: no longer in its grace period.
    expect(ids(selection.victims)).toEqual(['edge', 'old'])
    expect(selection.exempt.inGracePeriod).toBe(1)
    expect(ids(selectVictims(connections, { count: 3, gracePeriod: 60_000, now: 100_001 }).victims)).toEqual(['young', 'edge', 'old'])
    expect(ids(selectVictims(connections, { count: 3, gracePeriod: 0, now: 0 }).victims)).toEqual(['young', 'edge', 'old'])
  })

  it('never selects an excluded id', () => {
    const selection = selectVictims([candidate(1), candidate(2), candidate(3)], { count: 2, exclude: new Set<CandidateId>([1]) })
    expect(ids(selection.victims)).toEqual([2, 3])
    expect(selection.exempt.excluded).toBe(1)
  })
})

describe('selectVictims() - validation', () => {
  it('refuses both `count` and `target`, or neither', () => {
    expect(problemsOf({ count: 1, target: 1 })).toEqual(['Expected either `count` (victims wanted) or `target` (connections to keep), not both'])
    expect(problemsOf({})).toEqual(['Expected `count` (victims wanted) or `target` (connections to keep), got neither'])
    expect(problemsOf({ count: 1, current: 3 })).toEqual(['Expected `current` to be undefined when `count` is given (it goes with `target`), got 3 (number)'])
  })

  it('lists every malformed option at once', () => {
    expect(problemsOf({ target: -1, current: 1.5, strategy: 'random', gracePeriod: -5, protection: {}, exclude: [] })).toEqual([
      'Expected `target` to be an integer >= 0, got -1 (number)',
      'Expected `current` to be an integer >= 0, got 1.5 (number)',
      'Expected `strategy` to be one of "least-valuable", "oldest", "newest", or an object with a `compare` or a `score` function, got "random" (string)',
      'Expected `gracePeriod` to be a duration in milliseconds >= 0 and <= 2147483647, got -5 (number)',
      'Expected `protection` to be an object with an `isProtected(peer)` method, got an object (Object)',
      'Expected `exclude` to be a Set of candidate ids, got an array of 0'
    ])
    expect(problemsOf({ count: 1, strategy: { compare: () => 0, score: () => 0 } })[0]).toMatch(/^Expected `strategy` to be one of/)
  })

  it('requires `now` with a grace period, and a finite one whenever given', () => {
    expect(problemsOf({ count: 1, gracePeriod: 1_000 })).toEqual(['Expected `now` to be a finite number of milliseconds (required when `gracePeriod` is above 0), got undefined'])
    expect(problemsOf({ count: 1, now: Number.NaN })).toEqual(['Expected `now` to be a finite number of milliseconds, got NaN (number)'])
  })

  it('refuses options that are not an object', () => {
    expect(problemsOf(null)).toEqual(['Expected `options` to be an object, got null'])
  })

  it.each([
    ['id', { id: undefined }, 'Expected a candidate\'s `id` to be a string or a number, got undefined'],
    ['direction', { direction: 'sideways' }, 'Expected `direction` of candidate 7 to be "inbound" or "outbound", got "sideways" (string)'],
    ['openedAt', { openedAt: Number.NaN }, 'Expected `openedAt` of candidate 7 to be a finite number of milliseconds, got NaN (number)'],
    ['streams', { streams: -1 }, 'Expected `streams` of candidate 7 to be an integer >= 0, got -1 (number)'],
    ['value', { value: Number.POSITIVE_INFINITY }, 'Expected `value` of candidate 7 to be a finite number, got Infinity (number)']
  ])('refuses a candidate with a malformed %s, even an exempt one', (field, change, message) => {
    const bad = { ...candidate(7, { protected: true }), ...change } as PruneCandidate
    let caught: unknown
    try {
      selectVictims([candidate(1), bad], { count: 1 })
    } catch (error) {
      caught = error
    }
    expect(InvalidCandidateError.isInstance(caught)).toBe(true)
    expect((caught as InvalidCandidateError).field).toBe(field)
    expect((caught as InvalidCandidateError).message).toBe(message)
  })

  it('refuses a custom score that is NaN', () => {
    expect(() => selectVictims([candidate('a')], { count: 1, strategy: { score: () => Number.NaN } }))
      .toThrow('Expected the custom score of candidate "a" to be a number other than NaN, got NaN (number)')
  })
})

// ---------------------------------------------------------------------------------------
// Property: the heap selection agrees with a reference that sorts the whole array.

type StrategyName = 'least-valuable' | 'oldest' | 'newest' | 'score'

interface Scenario {
  readonly candidates: PruneCandidate[]
  readonly protectedPeers: string[]
  readonly excluded: CandidateId[]
  readonly gracePeriod: number
  readonly now: number
  readonly strategy: StrategyName
  readonly ask: { readonly count: number } | { readonly target: number }
}

const byId = (a: PruneCandidate, b: PruneCandidate): number => {
  if (typeof a.id !== typeof b.id) return typeof a.id === 'number' ? -1 : 1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
const score = (entry: PruneCandidate): number => entry.value * 3 - entry.streams

/**
 * The reference: filter the exempt candidates out, sort the whole array, take the head.
 * least-valuable is sorted as js-libp2p does, by chained stable sorts (the last is the
 * primary key), after a first sort by id for the final tie-break.
 */
function reference (scenario: Scenario): PruneCandidate[] {
  const { candidates, protectedPeers, excluded, gracePeriod, now, strategy, ask } = scenario
  const eligible = candidates.filter(entry =>
    entry.trusted !== true &&
    entry.protected !== true &&
    (entry.peer === undefined || !protectedPeers.includes(entry.peer)) &&
    !(gracePeriod > 0 && now - entry.openedAt < gracePeriod) &&
    !excluded.includes(entry.id))
  const sorted = [...eligible].sort(byId)
  if (strategy === 'least-valuable') {
    sorted
      .sort((a, b) => b.openedAt - a.openedAt)
      .sort((a, b) => (a.direction === 'inbound' ? 0 : 1) - (b.direction === 'inbound' ? 0 : 1))
      .sort((a, b) => a.streams - b.streams)
      .sort((a, b) => a.value - b.value)
  } else if (strategy === 'oldest') {
    sorted.sort((a, b) => a.openedAt - b.openedAt)
  } else if (strategy === 'newest') {
    sorted.sort((a, b) => b.openedAt - a.openedAt)
  } else {
    sorted.sort((a, b) => score(a) - score(b))
  }
  const wanted = 'count' in ask ? ask.count : Math.max(0, candidates.length - ask.target)
  return sorted.slice(0, wanted)
}

const scenarios: fc.Arbitrary<Scenario> = fc.record({
  candidates: fc.uniqueArray(fc.record({
    id: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.string({ maxLength: 3 })),
    peer: fc.option(fc.constantFrom('QmA', 'QmB', 'QmC', 'QmD'), { nil: undefined }),
    direction: fc.constantFrom('inbound' as const, 'outbound' as const),
    openedAt: fc.integer({ min: 0, max: 30 }),
    streams: fc.integer({ min: 0, max: 3 }),
    value: fc.integer({ min: -1, max: 3 }),
    protected: fc.option(fc.boolean(), { nil: undefined, freq: 3 }),
    trusted: fc.option(fc.boolean(), { nil: undefined, freq: 3 })
  }, { requiredKeys: ['id', 'direction', 'openedAt', 'streams', 'value'] }), { maxLength: 40, selector: entry => entry.id }),
  protectedPeers: fc.subarray(['QmA', 'QmB', 'QmC']),
  excluded: fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 5 }),
  gracePeriod: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 })),
  now: fc.integer({ min: 0, max: 40 }),
  strategy: fc.constantFrom<StrategyName>('least-valuable', 'oldest', 'newest', 'score'),
  ask: fc.oneof(fc.record({ count: fc.integer({ min: 0, max: 45 }) }), fc.record({ target: fc.integer({ min: 0, max: 45 }) }))
})

function run (scenario: Scenario, candidates: PruneCandidate[]): ReturnType<typeof selectVictims> {
  const protection = new ProtectionRegistry()
  for (const peer of scenario.protectedPeers) protection.protect(peer, 'test')
  const common = {
    strategy: scenario.strategy === 'score' ? { score } : scenario.strategy,
    gracePeriod: scenario.gracePeriod,
    now: scenario.now,
    protection,
    exclude: new Set(scenario.excluded)
  }
  return 'count' in scenario.ask
    ? selectVictims(candidates, { ...common, count: scenario.ask.count })
    : selectVictims(candidates, { ...common, target: scenario.ask.target })
}

describe('selectVictims() - property', () => {
  it('selects the same victims as sorting the whole array: never an exempt one, exactly min(surplus, eligible), whatever the input order', () => {
    fc.assert(fc.property(scenarios, fc.integer({ min: 1, max: 1_000 }), (scenario, seed) => {
      const expected = reference(scenario)
      const selection = run(scenario, scenario.candidates)
      expect(ids(selection.victims)).toEqual(ids(expected))
      expect(selection.victims.length).toBe(Math.min(selection.wanted, selection.eligible))
      expect(selection.shortfall).toBe(selection.wanted - selection.victims.length)
      const exempt = selection.exempt
      expect(selection.eligible + exempt.trusted + exempt.protected + exempt.inGracePeriod + exempt.excluded).toBe(scenario.candidates.length)
      expect(ids(run(scenario, shuffled(scenario.candidates, seed)).victims)).toEqual(ids(expected))
    }), { numRuns: 3_000 })
  })
})

describe('selectVictims() - validation, exactly', () => {
  /** The problems selectVictims throws for these options, whole. */
  function problemObjects (options: unknown): Array<{ path: string, expected: string, received: string }> {
    try {
      selectVictims([], options as SelectVictimsOptions)
    } catch (error) {
      if (InvalidConfigError.isInstance(error)) {
        return error.problems.map(({ path, expected, received }) => ({ path, expected, received }))
      }
      throw error
    }
    return []
  }

  it('names the option, what was expected and what came, for `count` and `target` together or missing', () => {
    expect(problemObjects({ count: 1, target: 2 })).toEqual([{ path: 'count', expected: 'either `count` or `target`', received: '1 (number) and 2 (number)' }])
    expect(problemObjects({})).toEqual([{ path: 'count', expected: 'an integer >= 0', received: 'undefined' }])
    expect(problemsOf({ count: -1 })).toEqual(['Expected `count` to be an integer >= 0, got -1 (number)'])
  })

  it('refuses options of any type but an object, and a null `protection` or `exclude`', () => {
    expect(problemsOf(5)).toEqual(['Expected `options` to be an object, got 5 (number)'])
    expect(problemsOf({ count: 1, protection: null, exclude: null })).toEqual([
      'Expected `protection` to be an object with an `isProtected(peer)` method, got null',
      'Expected `exclude` to be a Set of candidate ids, got null'
    ])
  })

  it('refuses a candidate that is not an object', () => {
    for (const bad of [5, null, 'a']) {
      let caught: unknown
      try {
        selectVictims([candidate(1), bad as never], { count: 1 })
      } catch (error) {
        caught = error
      }
      expect(InvalidCandidateError.isInstance(caught)).toBe(true)
      expect(caught).toMatchObject({ field: 'id', candidateId: undefined, name: 'InvalidCandidateError' })
      expect((caught as Error).message).toMatch(/^Expected a candidate to be an object, got /)
    }
  })

  it('refuses a fractional `streams`, and a custom score that is not a number', () => {
    expect(() => selectVictims([candidate(7, { streams: 1.5 })], { count: 1 })).toThrow('Expected `streams` of candidate 7 to be an integer >= 0, got 1.5 (number)')
    let caught: unknown
    try {
      selectVictims([candidate('a')], { count: 1, strategy: { score: () => '1' as never } })
    } catch (error) {
      caught = error
    }
    expect(caught).toMatchObject({ field: 'score', candidateId: 'a', message: 'Expected the custom score of candidate "a" to be a number other than NaN, got "1" (string)' })
  })

  it('a protected-by-peer check needs no registry: candidates with peers and no `protection` are selected as any other', () => {
    expect(ids(selectVictims([candidate(1, { peer: 'QmA' }), candidate(2, { peer: 'QmB' })], { count: 1 }).victims)).toEqual([1])
  })
})
