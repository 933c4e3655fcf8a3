import { PRUNE_STRATEGIES } from '@cm/config'
import { oneOfRule } from '@cm/config/validation'
import type { PruneStrategyName } from '@cm/config'
import type { ProblemCollector } from '@cm/config/validation'
import type { CandidateId, PruneCandidate } from './candidate.ts'

/**
 * A comparison of two candidates: negative when `a` should be closed before `b`, positive
 * when after, 0 when the strategy does not tell them apart (the selection then breaks the
 * tie by id). It must be a consistent order (as for `Array.prototype.sort`); `NaN` counts
 * as 0.
 *
 * @example
 * ```ts
 * import type { PruneComparator } from '@cm/pruner'
 *
 * // Fewest streams first.
 * const fewestStreams: PruneComparator = (a, b) => a.streams - b.streams
 * ```
 */
export type PruneComparator<C extends PruneCandidate = PruneCandidate> = (a: C, b: C) => number

/**
 * A custom strategy given as a comparison: see {@link PruneComparator}.
 *
 * @example
 * ```ts
 * import { selectVictims } from '@cm/pruner'
 * import type { CompareStrategy } from '@cm/pruner'
 *
 * // Outbound first, then most streams first.
 * const strategy: CompareStrategy = {
 *   compare: (a, b) => (a.direction === b.direction ? 0 : a.direction === 'outbound' ? -1 : 1) || b.streams - a.streams
 * }
 * selectVictims([], { count: 1, strategy })
 * ```
 */
export interface CompareStrategy<C extends PruneCandidate = PruneCandidate> {
  /** Negative when `a` goes first. See {@link PruneComparator}. */
  readonly compare: PruneComparator<C>
}

/**
 * A custom strategy given as a score: the lowest score is closed first, ties broken by id.
 * The score is computed once per eligible candidate per selection, so it may cost more than
 * a comparison. It must be a number (`±Infinity` allowed, `NaN` refused).
 *
 * @example
 * ```ts
 * import { selectVictims } from '@cm/pruner'
 * import type { ScoreStrategy } from '@cm/pruner'
 *
 * // Value per stream, outbound connections worth double.
 * const strategy: ScoreStrategy = {
 *   score: candidate => (candidate.value + 1) * (candidate.streams + 1) * (candidate.direction === 'outbound' ? 2 : 1)
 * }
 * selectVictims([], { count: 1, strategy })
 * ```
 */
export interface ScoreStrategy<C extends PruneCandidate = PruneCandidate> {
  /** The candidate's score: lower is closed first. */
  readonly score: (candidate: C) => number
}

/**
 * A pruning strategy: a built-in one by name (`'least-valuable'`, `'oldest'`,
 * `'newest'`; see {@link compareLeastValuable}, {@link compareOldest},
 * {@link compareNewest}) or a custom one ({@link CompareStrategy}, {@link ScoreStrategy}).
 * Every strategy applies after the exemptions, and ties are always broken by id.
 *
 * @example
 * ```ts
 * import type { PruneStrategy } from '@cm/pruner'
 *
 * const byName: PruneStrategy = 'oldest'
 * const byScore: PruneStrategy = { score: candidate => candidate.value }
 * ```
 */
export type PruneStrategy<C extends PruneCandidate = PruneCandidate> = PruneStrategyName | CompareStrategy<C> | ScoreStrategy<C>

/**
 * Compares candidate ids: numbers before strings, numbers in numeric order, strings in
 * code-unit order. The last tie-break of every strategy.
 *
 * @param a - an id
 * @param b - another id
 *
 * @example
 * ```ts
 * import { compareIds } from '@cm/pruner'
 *
 * [10, 'b', 2, 'a'].sort(compareIds) // [2, 10, 'a', 'b']
 * ```
 */
export function compareIds (a: CandidateId, b: CandidateId): number {
  if (typeof a === typeof b) {
    return a < b ? -1 : a > b ? 1 : 0
  }
  return typeof a === 'number' ? -1 : 1
}

/**
 * The `'least-valuable'` order (the default), first to close first:
 * 1. lowest {@link PruneCandidate.value} (total tag value) first;
 * 2. then fewest open streams;
 * 3. then inbound before outbound (a node keeps the connections it chose to make, so an
 *    inbound flood cannot push them out);
 * 4. then the **newest** first: an old connection has proven itself, and closing the
 *    newest means a burst of fresh connections displaces only its own kind, never the
 *    long-lived ones (as js-libp2p does; Bitcoin Core's eviction likewise shields its
 *    longest-connected peers).
 *    A new connection that merely has not been tagged yet is protected by the grace period
 *    instead (`pruneGracePeriod`, go-libp2p's answer), not by reversing this order;
 * 5. then by id ({@link compareIds}).
 *
 * This is js-libp2p's order with a final tie-break, so the result never depends on the
 * input order.
 *
 * @param a - a candidate
 * @param b - another candidate
 * @returns negative when `a` is closed first
 *
 * @example
 * ```ts
 * import { compareLeastValuable } from '@cm/pruner'
 * import type { PruneCandidate } from '@cm/pruner'
 *
 * const idle: PruneCandidate = { id: 1, direction: 'outbound', openedAt: 0, streams: 0, value: 0 }
 * const busy: PruneCandidate = { id: 2, direction: 'inbound', openedAt: 0, streams: 3, value: 0 }
 * compareLeastValuable(idle, busy) < 0 // true: fewer streams goes first
 * ```
 */
export function compareLeastValuable (a: PruneCandidate, b: PruneCandidate): number {
  if (a.value !== b.value) {
    // Stryker disable next-line EqualityOperator: the values differ here
    return a.value < b.value ? -1 : 1
  }
  if (a.streams !== b.streams) {
    // Stryker disable next-line EqualityOperator: the counts differ here
    return a.streams < b.streams ? -1 : 1
  }
  if (a.direction !== b.direction) {
    return a.direction === 'inbound' ? -1 : 1
  }
  if (a.openedAt !== b.openedAt) {
    // Stryker disable next-line EqualityOperator: the times differ here
    return a.openedAt > b.openedAt ? -1 : 1
  }
  return compareIds(a.id, b.id)
}

/**
 * The `'oldest'` order: the earliest {@link PruneCandidate.openedAt} first, then by id.
 * Nothing else counts (exemptions still apply).
 *
 * @param a - a candidate
 * @param b - another candidate
 * @returns negative when `a` is closed first
 *
 * @example
 * ```ts
 * import { compareOldest } from '@cm/pruner'
 *
 * compareOldest(
 *   { id: 1, direction: 'inbound', openedAt: 5, streams: 0, value: 0 },
 *   { id: 2, direction: 'inbound', openedAt: 9, streams: 0, value: 0 }
 * ) < 0 // true
 * ```
 */
export function compareOldest (a: PruneCandidate, b: PruneCandidate): number {
  if (a.openedAt !== b.openedAt) {
    // Stryker disable next-line EqualityOperator: the times differ here
    return a.openedAt < b.openedAt ? -1 : 1
  }
  return compareIds(a.id, b.id)
}

/**
 * The `'newest'` order: the latest {@link PruneCandidate.openedAt} first, then by id.
 * Nothing else counts (exemptions still apply).
 *
 * @param a - a candidate
 * @param b - another candidate
 * @returns negative when `a` is closed first
 *
 * @example
 * ```ts
 * import { compareNewest } from '@cm/pruner'
 *
 * compareNewest(
 *   { id: 1, direction: 'inbound', openedAt: 5, streams: 0, value: 0 },
 *   { id: 2, direction: 'inbound', openedAt: 9, streams: 0, value: 0 }
 * ) > 0 // true
 * ```
 */
export function compareNewest (a: PruneCandidate, b: PruneCandidate): number {
  if (a.openedAt !== b.openedAt) {
    // Stryker disable next-line EqualityOperator: the times differ here
    return a.openedAt > b.openedAt ? -1 : 1
  }
  return compareIds(a.id, b.id)
}

/** A strategy made ready for selection: a total order, or a score. */
export type ResolvedStrategy<C extends PruneCandidate> =
  | { readonly kind: 'compare', readonly compare: (a: C, b: C) => number }
  | { readonly kind: 'score', readonly score: (candidate: C) => number }

const BUILT_IN: Readonly<Record<PruneStrategyName, ResolvedStrategy<PruneCandidate>>> = {
  'least-valuable': { kind: 'compare', compare: compareLeastValuable },
  oldest: { kind: 'compare', compare: compareOldest },
  newest: { kind: 'compare', compare: compareNewest }
}

const STRATEGY_EXPECTED = `${oneOfRule(PRUNE_STRATEGIES).expected}, or an object with a \`compare\` or a \`score\` function`

/**
 * Checks a strategy and makes it ready: a built-in comparator for a name, the custom
 * comparison followed by the id tie-break, or the custom score.
 *
 * @returns the resolved strategy, or `undefined` after recording a problem
 */
export function resolveStrategy<C extends PruneCandidate> (value: unknown, path: string, problems: ProblemCollector): ResolvedStrategy<C> | undefined {
  if (typeof value === 'string' && Object.hasOwn(BUILT_IN, value)) {
    return BUILT_IN[value as PruneStrategyName]
  }
  if (typeof value === 'object' && value !== null) {
    const { compare, score } = value as { compare?: unknown, score?: unknown }
    if (typeof compare === 'function' && score === undefined) {
      const custom = compare as PruneComparator<C>
      return {
        kind: 'compare',
        compare: (a, b) => {
          const order = custom(a, b)
          return order < 0 ? -1 : order > 0 ? 1 : compareIds(a.id, b.id)
        }
      }
    }
    if (typeof score === 'function' && compare === undefined) {
      // Stryker disable next-line StringLiteral: anything but 'compare' is read as a score strategy
      return { kind: 'score', score: score as (candidate: C) => number }
    }
  }
  problems.add(path, STRATEGY_EXPECTED, value)
  return undefined
}
