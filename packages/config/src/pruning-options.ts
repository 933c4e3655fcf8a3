import type { ProblemCollector } from './validation/problems.ts'

/**
 * The name of a built-in pruning strategy: the order in which the pruner picks the
 * connections to close when there are too many.
 *
 * - `'least-valuable'`: lowest total tag value first, then fewest streams, then inbound
 *   before outbound, then the newest first.
 * - `'oldest'`: the longest-open connection first.
 * - `'newest'`: the most recently opened connection first.
 *
 * `@cm/pruner` documents each order in full and also accepts a custom comparison or score
 * function (as a constructor option, not in the config: a config holds data only).
 *
 * @example
 * ```ts
 * import { resolveConfig } from '@cm/config'
 * import type { PruneStrategyName } from '@cm/config'
 *
 * const strategy: PruneStrategyName = 'oldest'
 * resolveConfig({ pruneStrategy: strategy }).pruneStrategy // 'oldest'
 * ```
 */
export type PruneStrategyName = 'least-valuable' | 'oldest' | 'newest'

/**
 * Every built-in pruning strategy, the default first.
 *
 * @example
 * ```ts
 * import { PRUNE_STRATEGIES } from '@cm/config'
 *
 * PRUNE_STRATEGIES // ['least-valuable', 'oldest', 'newest']
 * ```
 */
export const PRUNE_STRATEGIES: readonly PruneStrategyName[] = Object.freeze(['least-valuable', 'oldest', 'newest'])

/** The options {@link checkPruneWatermarks} reads. */
interface WatermarkOptions {
  readonly maxConnections: number
  readonly pruneLowWatermark: number
  readonly pruneHighWatermark: number
}

/**
 * Checks the pruning watermarks against each other and against `maxConnections`: both set
 * (> 0) or both 0, `pruneLowWatermark <= pruneHighWatermark`, and `pruneHighWatermark`
 * below `maxConnections`. A high watermark at or above the hard limit is the trap of
 * go-libp2p #1640: admission holds the count at the limit, so it seldom passes the mark and
 * the watermarks do nothing.
 *
 * @param options - the resolved values
 * @param invalid - paths of options that already failed their own rule (not checked again)
 * @param problems - receives the problems
 */
export function checkPruneWatermarks (options: WatermarkOptions, invalid: ReadonlySet<string>, problems: ProblemCollector): void {
  if (invalid.has('pruneLowWatermark') || invalid.has('pruneHighWatermark')) {
    return
  }
  const { maxConnections, pruneLowWatermark: low, pruneHighWatermark: high } = options
  if (low === 0 && high === 0) {
    return
  }
  if (low === 0 || high === 0) {
    const [missing, given, value] = low === 0
      ? ['pruneLowWatermark', 'pruneHighWatermark', high]
      : ['pruneHighWatermark', 'pruneLowWatermark', low]
    problems.addProblem({
      path: missing,
      expected: `an integer >= 1, since \`${given}\` is set`,
      received: '0 (number)',
      message: `Expected \`${missing}\` to be set (an integer >= 1) together with \`${given}\` (${value}): give both watermarks or neither`
    })
    return
  }
  if (low > high) {
    problems.addProblem({
      path: 'pruneLowWatermark',
      expected: `an integer <= pruneHighWatermark (${high})`,
      received: `${low} (number)`,
      message: `Expected \`pruneLowWatermark\` (${low}) to be at most \`pruneHighWatermark\` (${high}): pruning starts above the high watermark and stops at the low one`
    })
  }
  if (!invalid.has('maxConnections') && high >= maxConnections) {
    problems.addProblem({
      path: 'pruneHighWatermark',
      expected: `an integer < maxConnections (${maxConnections})`,
      received: `${high} (number)`,
      message: `Expected \`pruneHighWatermark\` (${high}) to be below \`maxConnections\` (${maxConnections}): admission holds the count at \`maxConnections\`, so it would seldom pass the high watermark and the watermarks would do nothing`
    })
  }
}
