import { FixedReverseHeap } from 'mnemonist'
import { describeValue, durationRule, integerRule, ProblemCollector, quoteInput } from '@cm/config/validation'
import { InvalidCandidateError } from './errors.ts'
import { compareIds, resolveStrategy } from './strategy.ts'
import type { CandidateId, PruneCandidate } from './candidate.ts'
import type { ProtectionLookup } from './protection.ts'
import type { PruneStrategy, ResolvedStrategy } from './strategy.ts'

/**
 * Options of {@link selectVictims} besides how many to select.
 */
export interface SelectVictimsCommonOptions<C extends PruneCandidate = PruneCandidate> {
  /**
   * The order in which eligible candidates are selected.
   *
   * @default 'least-valuable'
   */
  readonly strategy?: PruneStrategy<C> | undefined
  /**
   * Milliseconds after `openedAt` during which a candidate is exempt: a candidate with
   * `now - openedAt < gracePeriod` is never selected. 0 disables it. When it is above 0,
   * `now` is required.
   *
   * A duration in milliseconds >= 0 and <= 2147483647.
   *
   * @default 0
   */
  readonly gracePeriod?: number | undefined
  /**
   * The current time in milliseconds, from the clock `openedAt` was read from. Required
   * when `gracePeriod` is above 0 (the selection never reads a clock itself).
   */
  readonly now?: number | undefined
  /** Protections by peer: a candidate whose `peer` is protected is never selected. */
  readonly protection?: ProtectionLookup | undefined
  /**
   * Ids never to select (the runner passes the connections it already tried to close).
   * Excluded candidates still count towards `current`.
   */
  readonly exclude?: ReadonlySet<CandidateId> | undefined
}

/**
 * Options of {@link selectVictims} that ask for a number of victims.
 */
export interface SelectVictimsCountOptions<C extends PruneCandidate = PruneCandidate> extends SelectVictimsCommonOptions<C> {
  /** How many victims to select. An integer >= 0. */
  readonly count: number
  /** Not with `count`. */
  readonly target?: undefined
  /** Not with `count`. */
  readonly current?: undefined
}

/**
 * Options of {@link selectVictims} that ask for a number of connections to keep.
 */
export interface SelectVictimsTargetOptions<C extends PruneCandidate = PruneCandidate> extends SelectVictimsCommonOptions<C> {
  /**
   * How many connections to keep: `max(0, current - target)` victims are selected. An
   * integer >= 0.
   */
  readonly target: number
  /**
   * How many connections are open now. An integer >= 0.
   *
   * @default the number of candidates
   */
  readonly current?: number | undefined
  /** Not with `target`. */
  readonly count?: undefined
}

/**
 * Options of {@link selectVictims}: `count` (victims wanted) or `target` (connections to
 * keep), plus the strategy and the exemptions.
 *
 * @example
 * ```ts
 * import type { SelectVictimsOptions } from '@cm/pruner'
 *
 * const byCount: SelectVictimsOptions = { count: 10 }
 * const byTarget: SelectVictimsOptions = { target: 300, strategy: 'oldest', gracePeriod: 30_000, now: 1_000_000 }
 * ```
 */
export type SelectVictimsOptions<C extends PruneCandidate = PruneCandidate> = SelectVictimsCountOptions<C> | SelectVictimsTargetOptions<C>

/**
 * How many candidates each exemption kept out of a selection. A candidate is counted once,
 * under the first that applies, in this order.
 */
export interface ExemptCounts {
  /** Trusted (`trusted: true`). */
  readonly trusted: number
  /** Protected (`protected: true`, or its peer is protected). */
  readonly protected: number
  /** Younger than the grace period. */
  readonly inGracePeriod: number
  /** Listed in `exclude`. */
  readonly excluded: number
}

/**
 * The result of {@link selectVictims}.
 */
export interface VictimSelection<C extends PruneCandidate = PruneCandidate> {
  /**
   * The candidates to close, first to close first: exactly `min(wanted, eligible)` of them,
   * never an exempt one. They are the very objects given.
   */
  readonly victims: C[]
  /** How many victims were asked for (`count`, or `max(0, current - target)`). */
  readonly wanted: number
  /** How many candidates were eligible (not exempt). */
  readonly eligible: number
  /** How many fewer victims than wanted were found: `wanted - victims.length`. */
  readonly shortfall: number
  /** Why the other candidates were not eligible. */
  readonly exempt: ExemptCounts
}

/**
 * Chooses which connections to close: the pure core of the pruner. No I/O, no clock, no
 * state: the same candidates and options always give the same victims, whatever the order
 * of the candidates (ties are broken by id).
 *
 * Exempt, never selected: trusted candidates, protected ones (their own flag or their
 * peer's protection), those younger than `gracePeriod`, and those in `exclude`. Among the
 * rest, the first `wanted` in the strategy's order are returned, in that order; if fewer
 * are eligible, all of them are, and `shortfall` says how many are missing.
 *
 * It keeps the best `wanted` in a bounded heap (mnemonist's `FixedReverseHeap`): O(N log k)
 * time and O(k) extra memory for k victims among N candidates, instead of a full sort.
 *
 * For per-peer pruning, pass only that peer's connections and its limit as `target`.
 *
 * @param candidates - every open connection that counts, exempt ones included; ids must be
 *   unique
 * @param options - `count` or `target`, and the strategy and exemptions
 * @throws {@link @cm/config!InvalidConfigError} when an option is invalid (all problems at once)
 * @throws {@link InvalidCandidateError} when a candidate is malformed
 *
 * @example
 * ```ts
 * import { ProtectionRegistry, selectVictims } from '@cm/pruner'
 *
 * const protection = new ProtectionRegistry()
 * protection.protect('QmRelay', 'relay')
 *
 * const { victims, shortfall } = selectVictims([
 *   { id: 'a', peer: 'QmRelay', direction: 'inbound', openedAt: 0, streams: 0, value: 0 },
 *   { id: 'b', peer: 'QmOther', direction: 'inbound', openedAt: 10, streams: 1, value: 0 },
 *   { id: 'c', peer: 'QmOther', direction: 'outbound', openedAt: 20, streams: 0, value: 5 }
 * ], { target: 1, protection })
 *
 * victims.map(victim => victim.id) // ['b', 'c']: 'a' is protected
 * shortfall // 0
 * ```
 */
export function selectVictims<C extends PruneCandidate> (candidates: Iterable<C>, options: SelectVictimsOptions<C>): VictimSelection<C> {
  const list: readonly C[] = Array.isArray(candidates) ? candidates : Array.from(candidates)
  const settings = readOptions(options, list.length)
  const { strategy, gracePeriod, now, protection, exclude } = settings
  const capacity = Math.min(settings.wanted, list.length)

  let trusted = 0
  let protectedCount = 0
  let inGracePeriod = 0
  let excluded = 0
  let eligible = 0
  let victims: C[]

  const isExempt = (candidate: C): boolean => {
    if (candidate.trusted === true) {
      trusted++
    } else if (candidate.protected === true || (protection !== undefined && candidate.peer !== undefined && protection.isProtected(candidate.peer))) {
      protectedCount++
    } else if (gracePeriod > 0 && now - candidate.openedAt < gracePeriod) {
      inGracePeriod++
    } else if (exclude !== undefined && exclude.has(candidate.id)) {
      excluded++
    } else {
      eligible++
      return false
    }
    return true
  }

  if (strategy.kind === 'compare') {
    // The heap keeps the `capacity` smallest candidates by the strategy's order.
    const heap = capacity > 0 ? new FixedReverseHeap<C>(Array, strategy.compare, capacity) : undefined
    for (const candidate of list) {
      checkCandidate(candidate)
      if (!isExempt(candidate)) {
        heap?.push(candidate)
      }
    }
    victims = heap === undefined ? [] : heap.consume() as C[]
  } else {
    // Scores are computed once per eligible candidate; the heap holds indices into `list`.
    const scores = new Float64Array(list.length)
    const compare = (a: number, b: number): number => {
      const scoreA = scores[a]!
      const scoreB = scores[b]!
      return scoreA < scoreB ? -1 : scoreA > scoreB ? 1 : compareIds(list[a]!.id, list[b]!.id)
    }
    const heap = capacity > 0 ? new FixedReverseHeap<number>(Array, compare, capacity) : undefined
    for (let index = 0; index < list.length; index++) {
      const candidate = list[index]!
      checkCandidate(candidate)
      if (!isExempt(candidate)) {
        const score = strategy.score(candidate)
        if (typeof score !== 'number' || Number.isNaN(score)) {
          throw new InvalidCandidateError(candidate.id, 'score', `Expected the custom score of candidate ${quoteId(candidate.id)} to be a number other than NaN, got ${describeValue(score)}`)
        }
        scores[index] = score
        heap?.push(index)
      }
    }
    victims = heap === undefined ? [] : Array.from(heap.consume(), index => list[index]!)
  }

  return {
    victims,
    wanted: settings.wanted,
    eligible,
    shortfall: settings.wanted - victims.length,
    exempt: { trusted, protected: protectedCount, inGracePeriod, excluded }
  }
}

interface Settings<C extends PruneCandidate> {
  readonly wanted: number
  readonly strategy: ResolvedStrategy<C>
  readonly gracePeriod: number
  readonly now: number
  readonly protection: ProtectionLookup | undefined
  readonly exclude: ReadonlySet<CandidateId> | undefined
}

const COUNT_RULE = integerRule({ min: 0 })
const GRACE_RULE = durationRule({ min: 0 })

function readOptions<C extends PruneCandidate> (options: SelectVictimsOptions<C>, length: number): Settings<C> {
  const problems = new ProblemCollector()
  if (typeof options !== 'object' || options === null) {
    problems.add('options', 'an object', options)
    problems.throwIfAny()
  }
  const { count, target, current, strategy = 'least-valuable', gracePeriod = 0, now, protection, exclude } = options
  let wanted = 0
  if (count !== undefined && target !== undefined) {
    problems.addProblem({
      path: 'count',
      expected: 'either `count` or `target`',
      received: `${describeValue(count)} and ${describeValue(target)}`,
      message: 'Expected either `count` (victims wanted) or `target` (connections to keep), not both'
    })
  } else if (count !== undefined) {
    if (current !== undefined) {
      problems.add('current', 'undefined when `count` is given (it goes with `target`)', current)
    }
    // Stryker disable next-line ConditionalExpression: an invalid count is a problem, and throwIfAny() throws before `wanted` is read
    if (COUNT_RULE.check(count, 'count', problems)) {
      wanted = count
    }
  } else if (target !== undefined) {
    const targetOk = COUNT_RULE.check(target, 'target', problems)
    const currentOk = current === undefined || COUNT_RULE.check(current, 'current', problems)
    // Stryker disable next-line ConditionalExpression,LogicalOperator: as above, for `target` and `current`
    if (targetOk && currentOk) {
      wanted = Math.max(0, (current ?? length) - target)
    }
  } else {
    problems.addProblem({
      path: 'count',
      expected: 'an integer >= 0',
      received: 'undefined',
      message: 'Expected `count` (victims wanted) or `target` (connections to keep), got neither'
    })
  }
  const resolved = resolveStrategy<C>(strategy, 'strategy', problems)
  const graceOk = GRACE_RULE.check(gracePeriod, 'gracePeriod', problems)
  // Number.isFinite() is false for anything not a number (it does not convert).
  if (now !== undefined ? !Number.isFinite(now) : graceOk && gracePeriod > 0) {
    problems.add('now', `a finite number of milliseconds${now === undefined ? ' (required when `gracePeriod` is above 0)' : ''}`, now)
  }
  if (protection !== undefined && typeof (protection as Partial<ProtectionLookup> | null)?.isProtected !== 'function') {
    problems.add('protection', 'an object with an `isProtected(peer)` method', protection)
  }
  if (exclude !== undefined && typeof (exclude as Partial<ReadonlySet<CandidateId>> | null)?.has !== 'function') {
    problems.add('exclude', 'a Set of candidate ids', exclude)
  }
  problems.throwIfAny()
  return { wanted, strategy: resolved!, gracePeriod, now: now ?? 0, protection, exclude }
}

function checkCandidate (candidate: PruneCandidate): void {
  if (typeof candidate !== 'object' || candidate === null) {
    throw new InvalidCandidateError(undefined, 'id', `Expected a candidate to be an object, got ${describeValue(candidate)}`)
  }
  const { id, direction, openedAt, streams, value } = candidate
  if (typeof id !== 'string' && typeof id !== 'number') {
    throw new InvalidCandidateError(undefined, 'id', `Expected a candidate's \`id\` to be a string or a number, got ${describeValue(id)}`)
  }
  if (direction !== 'inbound' && direction !== 'outbound') {
    throw fieldError(id, 'direction', '"inbound" or "outbound"', direction)
  }
  // Number.isFinite() and Number.isInteger() are false for anything not a number.
  if (!Number.isFinite(openedAt)) {
    throw fieldError(id, 'openedAt', 'a finite number of milliseconds', openedAt)
  }
  if (!Number.isInteger(streams) || streams < 0) {
    throw fieldError(id, 'streams', 'an integer >= 0', streams)
  }
  if (!Number.isFinite(value)) {
    throw fieldError(id, 'value', 'a finite number', value)
  }
}

function fieldError (id: CandidateId, field: string, expected: string, value: unknown): InvalidCandidateError {
  return new InvalidCandidateError(id, field, `Expected \`${field}\` of candidate ${quoteId(id)} to be ${expected}, got ${describeValue(value)}`)
}

/** A candidate's ID for a message: a string quoted (cut short if long), a number as it is. */
function quoteId (id: unknown): string {
  return typeof id === 'string' ? quoteInput(id) : String(id)
}
