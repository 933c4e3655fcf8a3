import type { Entry } from './entry.ts'
import type { PruneCandidate } from '@cm/pruner'
import type { ConnectionTracker } from '@cm/state'

/** A pruning candidate: its ID is the tracker's connection ID. Internal. */
export type Candidate = PruneCandidate & { readonly id: number }

/**
 * The open connections (of one peer, or all) as the pruner sees them: age, streams, the sum
 * of their tags, and whether the gate trusted them (a trusted connection is never pruned).
 */
export function * pruneCandidates<Raw> (connections: ConnectionTracker, entries: ReadonlyMap<number, Entry<Raw>>, peer: string | undefined): Iterable<Candidate> {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: the pruner keeps only the peer's candidates itself, and the tracker reads `peer: undefined` as no filter
  for (const record of connections.list(peer === undefined ? { state: 'open' } : { state: 'open', peer })) {
    let value = 0
    for (const tag of Object.values(record.tags)) {
      value += tag
    }
    yield {
      id: record.id,
      ...(record.peer === undefined ? {} : { peer: record.peer }),
      direction: record.direction,
      openedAt: record.timeline.open ?? record.timeline.pending,
      streams: record.streams,
      value,
      trusted: entries.get(record.id)?.trusted === true
    }
  }
}
