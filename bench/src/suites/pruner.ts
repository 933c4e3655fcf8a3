import { compareLeastValuable, selectVictims } from '@cm/pruner'
import type { PruneCandidate } from '@cm/pruner'
import { formatNs, rowNamed } from '../harness.ts'
import type { BenchSuite, BenchTarget } from '../harness.ts'

/**
 * `n` connections shaped like a busy node's: most peers untagged (value 0), some tagged
 * up to 100, 0 to 5 streams, either direction, distinct opening times. A few are
 * protected or trusted. Deterministic for a given seed.
 */
export function makeCandidates (n: number, seed = 42): PruneCandidate[] {
  let state = seed
  const random = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
  const openedAt = Array.from({ length: n }, (_, index) => index)
  for (let index = n - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1))
    const swap = openedAt[index]!
    openedAt[index] = openedAt[other]!
    openedAt[other] = swap
  }
  return Array.from({ length: n }, (_, index) => ({
    id: index,
    peer: `peer-${Math.floor(random() * n)}`,
    direction: random() < 0.5 ? 'inbound' : 'outbound',
    openedAt: openedAt[index]!,
    streams: Math.floor(random() * 6),
    value: random() < 0.7 ? 0 : Math.floor(random() * 101),
    protected: random() < 0.01,
    trusted: random() < 0.01
  }))
}

/**
 * js-libp2p's pruner (`connection-pruner.ts`), its selection only: a fresh array of every
 * connection, four chained stable sorts (age newest first, then inbound first, then fewest
 * streams, then lowest value: the last sort is the primary key), then a walk that skips
 * the exempt ones until `count` are taken. js-libp2p also reads each peer's tags from the
 * peer store on every run; here the value is on the candidate, which favours this baseline.
 */
export function libp2pFullSort (candidates: readonly PruneCandidate[], count: number): PruneCandidate[] {
  const sorted = [...candidates]
    .sort((a, b) => a.openedAt < b.openedAt ? 1 : a.openedAt > b.openedAt ? -1 : 0)
    .sort((a, b) => a.direction === b.direction ? 0 : a.direction === 'outbound' ? 1 : -1)
    .sort((a, b) => a.streams > b.streams ? 1 : a.streams < b.streams ? -1 : 0)
    .sort((a, b) => a.value > b.value ? 1 : a.value < b.value ? -1 : 0)
  const victims: PruneCandidate[] = []
  for (const candidate of sorted) {
    if (victims.length === count) break
    if (candidate.protected !== true && candidate.trusted !== true) victims.push(candidate)
  }
  return victims
}

/** One full sort with the same total order as the heap, to separate the two gains. */
function singleFullSort (candidates: readonly PruneCandidate[], count: number): PruneCandidate[] {
  return candidates.filter(candidate => candidate.protected !== true && candidate.trusted !== true).sort(compareLeastValuable).slice(0, count)
}

const BASELINE = 'js-libp2p: 4 chained full sorts'

function suiteFor (n: number): BenchSuite {
  const label = n.toLocaleString('en-US')
  return {
    name: 'pruner',
    description: `selecting 1% and 10% victims among ${label} connections (least-valuable), heap against full sorts`,
    baseline: `${BASELINE}, 1%`,
    tasks: () => {
      const candidates = makeCandidates(n)
      return [1, 10].flatMap(percent => {
        const count = n * percent / 100
        return [
          { name: `${BASELINE}, ${percent}%`, fn: () => libp2pFullSort(candidates, count) },
          { name: `one full sort (same order), ${percent}%`, fn: () => singleFullSort(candidates, count) },
          { name: `selectVictims (heap), ${percent}%`, fn: () => selectVictims(candidates, { count }) }
        ]
      })
    },
    ...(n === 100_000 ? { targets: TARGETS_AT_100K } : {})
  }
}

const TARGETS_AT_100K: readonly BenchTarget[] = [{
  package: '@cm/pruner',
  target: 'at least 5× faster than a full sort at 100,000',
  evaluate: ({ rows }) => {
    const times = [1, 10].map(percent => rowNamed(rows, `one full sort (same order), ${percent}%`).medianNs / rowNamed(rows, `selectVictims (heap), ${percent}%`).medianNs)
    return { measured: `1% of victims ${times[0]?.toFixed(1)}× faster, 10% ${times[1]?.toFixed(1)}×`, met: times.every(time => time >= 5) }
  }
}, {
  package: '@cm/pruner',
  target: '1,000 victims among 100,000 under 20 ms',
  evaluate: ({ rows }) => {
    const ns = rowNamed(rows, 'selectVictims (heap), 1%').medianNs
    return { measured: formatNs(ns), met: ns < 20_000_000 }
  }
}]

/**
 * The pruner's selection against js-libp2p's full sorts, at 1,000, 10,000 and 100,000
 * connections (one suite each, all run by `pnpm bench pruner`). The ratios to read are
 * each `selectVictims` row against the js-libp2p row of the same percentage.
 */
export const prunerSuites: readonly BenchSuite[] = [1_000, 10_000, 100_000].map(suiteFor)
