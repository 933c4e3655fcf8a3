import type { ConnectionDirection, PruneCandidate } from '../src/index.ts'

/** A candidate with defaults: untagged, no streams, inbound, opened at 0. */
export function candidate (id: string | number, fields: Partial<Omit<PruneCandidate, 'id'>> = {}): PruneCandidate {
  return { id, direction: 'inbound', openedAt: 0, streams: 0, value: 0, ...fields }
}

/** The ids of some candidates, in order. */
export function ids (candidates: ReadonlyArray<{ readonly id: string | number }>): Array<string | number> {
  return candidates.map(entry => entry.id)
}

/** A deterministic shuffle (a linear congruential generator), so tests never depend on input order. */
export function shuffled<T> (items: readonly T[], seed = 1): T[] {
  const result = [...items]
  let state = seed
  for (let index = result.length - 1; index > 0; index--) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    const other = state % (index + 1)
    const swap = result[index]!
    result[index] = result[other]!
    result[other] = swap
  }
  return result
}

/**
 * js-libp2p's pruning table: every combination of tagged or not, with or without streams,
 * inbound or outbound, new or old, listed in the order `least-valuable` closes them: from
 * "untagged, no streams, inbound, new" to "tagged, streams, outbound, old".
 */
export function libp2pTable (): PruneCandidate[] {
  const table: PruneCandidate[] = []
  for (const value of [0, 100]) {
    for (const streams of [0, 2]) {
      for (const direction of ['inbound', 'outbound'] as ConnectionDirection[]) {
        for (const [age, openedAt] of [['new', 9_000], ['old', 1_000]] as const) {
          const id = `${value === 0 ? 'untagged' : 'tagged'}-${streams === 0 ? 'idle' : 'busy'}-${direction}-${age}`
          table.push({ id, direction, openedAt, streams, value })
        }
      }
    }
  }
  return table
}
