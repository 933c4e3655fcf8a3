import { describe, expect, it } from 'vitest'
import { selectVictims } from '@cm/pruner'
import { libp2pFullSort, makeCandidates } from '../src/suites/pruner.ts'

describe('pruner suite', () => {
  it('the heap and the js-libp2p baseline select the same victims, so they do the same work', () => {
    const candidates = makeCandidates(5_000, 7)
    for (const count of [50, 500]) {
      expect(selectVictims(candidates, { count }).victims.map(victim => victim.id)).toEqual(libp2pFullSort(candidates, count).map(victim => victim.id))
    }
  })
})
