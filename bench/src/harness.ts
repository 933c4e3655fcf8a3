import { Bench } from 'tinybench'

/** One measured operation. */
export interface BenchTask {
  /** Shown in the table. */
  readonly name: string
  /**
   * How many operations one call of `fn` performs. Sub-microsecond operations are timed in
   * batches so that timer overhead does not swamp them; figures are reported per operation.
   */
  readonly batch?: number
  /** Performs `batch` operations. */
  readonly fn: () => unknown
  /** Runs before each call of `fn`, outside the measured time (to prepare its inputs). */
  readonly beforeEach?: () => void
  /** Runs after each call of `fn`, outside the measured time (to undo its effects). */
  readonly afterEach?: () => void
}

/** A group of tasks measured side by side in one process, compared with a baseline. */
export interface BenchSuite {
  /** Short name, used to select suites on the command line (`pnpm bench gate`). */
  readonly name: string
  /** What is measured, one line. */
  readonly description: string
  /** The name of the task every other task is compared with. */
  readonly baseline: string
  /**
   * Builds the tasks (may allocate large fixtures). A suite with no task measures in its
   * `report` alone (the soak run); its `baseline` is then unused.
   */
  readonly tasks: () => BenchTask[] | Promise<BenchTask[]>
  /** Runs after the tasks: lines to print after the table, figures for the targets. */
  readonly report?: () => SuiteReport | Promise<SuiteReport>
  /** The issues' targets this suite's figures are checked against. */
  readonly targets?: readonly BenchTarget[]
}

/** What a suite reports after its table. */
export interface SuiteReport {
  /** Lines for people (memory figures, notes). */
  readonly lines: readonly string[]
  /** Named figures its targets read (a build time, bytes per rule, a ratio). */
  readonly figures?: Readonly<Record<string, number>>
}

/** What a target says of one run: what was measured, and whether the target holds. */
export interface TargetOutcome {
  readonly measured: string
  readonly met: boolean
}

/** A target an issue set for a suite's figures, checked against every run. */
export interface BenchTarget {
  /** The package the target is about. */
  readonly package: string
  /** The target, in a few words. */
  readonly target: string
  /** Reads the run's rows and figures. */
  readonly evaluate: (run: { readonly rows: readonly BenchRow[], readonly figures: Readonly<Record<string, number>> }) => TargetOutcome
}

/** One suite's results from one run. */
export interface SuiteResult {
  readonly name: string
  readonly description: string
  readonly rows: readonly BenchRow[]
  readonly lines: readonly string[]
  readonly targets: ReadonlyArray<Pick<BenchTarget, 'package' | 'target'> & TargetOutcome>
}

/** One row of results. */
export interface BenchRow {
  readonly suite: string
  readonly task: string
  /** Median time per operation, nanoseconds. */
  readonly medianNs: number
  /** 99th percentile time per operation, nanoseconds. */
  readonly p99Ns: number
  /** Baseline median / this median: above 1 means faster than the baseline. */
  readonly speedup: number
  readonly samples: number
  readonly isBaseline: boolean
}

/**
 * A task that applies `apply` to `batch` inputs in turn per call, cycling through all of
 * them, and counts the `true` answers (returned, so the work cannot be optimised away).
 */
export function cyclingTask<T> (name: string, inputs: readonly T[], batch: number, apply: (input: T) => boolean): BenchTask {
  if (inputs.length === 0) {
    throw new Error(`task ${name}: no inputs`)
  }
  let cursor = 0
  let hits = 0
  return {
    name,
    batch,
    fn: () => {
      for (let index = 0; index < batch; index++) {
        if (apply(inputs[cursor] as T)) hits++
        cursor = cursor + 1 === inputs.length ? 0 : cursor + 1
      }
      return hits
    }
  }
}

/** Options of a run. */
export interface RunOptions {
  /** Milliseconds to sample each task, all rounds together (default 500). */
  readonly time?: number
  /**
   * Rounds to spread each task's sampling over (default {@link DEFAULT_ROUNDS}). Each round
   * samples every task for `time / rounds`, in turn, in the suite's order and then the
   * reverse, so that a stretch of seconds in which the shared machine runs slower falls on
   * every task a little, instead of on whichever task was being measured then. The figures
   * are taken over the samples of all rounds together. 1 measures each task in one stretch.
   */
  readonly rounds?: number
}

/** The rounds of a run unless told otherwise (see {@link RunOptions.rounds}). */
export const DEFAULT_ROUNDS = 5

/** The fewest calls of a task measured in a run, all rounds together (tinybench's default). */
const MIN_ITERATIONS = 64

/** Runs one suite and returns its rows, baseline first. */
export async function runSuite (suite: BenchSuite, options: RunOptions = {}): Promise<BenchRow[]> {
  const time = options.time ?? 500
  const rounds = options.rounds ?? DEFAULT_ROUNDS
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`rounds must be a positive integer, got ${String(rounds)}`)
  }
  if (!(time > 0)) {
    throw new RangeError(`time must be a positive number of milliseconds, got ${String(time)}`)
  }
  const tasks = await suite.tasks()
  if (tasks.length === 0) {
    return []
  }
  if (!tasks.some(task => task.name === suite.baseline)) {
    throw new Error(`suite ${suite.name}: baseline ${JSON.stringify(suite.baseline)} is not one of its tasks`)
  }
  const names = new Set(tasks.map(task => task.name))
  if (names.size !== tasks.length) {
    throw new Error(`suite ${suite.name}: two tasks share a name`)
  }
  // Milliseconds per call of each task, over all rounds.
  const samples = new Map<string, number[]>(tasks.map(task => [task.name, []]))
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({
      time: time / rounds,
      iterations: Math.ceil(MIN_ITERATIONS / rounds),
      // The JIT and the caches are warm after the first round.
      warmup: round === 0,
      warmupTime: 100,
      retainSamples: true,
      throws: true
    })
    for (const task of round % 2 === 0 ? tasks : [...tasks].reverse()) {
      bench.add(task.name, task.fn, {
        // Said outright: otherwise tinybench calls fn once, outside its hooks, to find out.
        async: isAsyncFunction(task.fn),
        ...(task.beforeEach === undefined ? {} : { beforeEach: task.beforeEach }),
        ...(task.afterEach === undefined ? {} : { afterEach: task.afterEach })
      })
    }
    await bench.run()
    for (const task of bench.tasks) {
      const result = task.result
      if (result.state !== 'completed' || result.latency.samples === undefined) {
        throw new Error(`suite ${suite.name}: task ${task.name} did not complete (${result.state})`)
      }
      // One by one: a fast task's round can yield more samples than a spread may pass.
      const taken = samples.get(task.name) ?? []
      for (const sample of result.latency.samples) taken.push(sample)
    }
  }
  const measured = tasks.map(task => {
    const taken = samples.get(task.name) ?? []
    const batch = task.batch ?? 1
    return {
      task: task.name,
      medianNs: (percentile(taken, 0.5) * 1e6) / batch,
      p99Ns: (percentile(taken, 0.99) * 1e6) / batch,
      samples: taken.length
    }
  })
  return toRows(suite, measured)
}

/** Whether `fn` is an `async` function (known without calling it). */
function isAsyncFunction (fn: () => unknown): boolean {
  return fn.constructor.name === 'AsyncFunction'
}

/**
 * The `fraction` percentile of some numbers (0.5: the median), interpolated between the
 * two nearest ranks as tinybench does; 0 for none.
 */
export function percentile (values: readonly number[], fraction: number): number {
  if (values.length === 0) return 0
  const sorted = Float64Array.from(values).sort()
  const position = (sorted.length - 1) * fraction
  const below = Math.floor(position)
  const lower = sorted[below] ?? 0
  const upper = sorted[Math.min(below + 1, sorted.length - 1)] ?? lower
  return lower + (upper - lower) * (position - below)
}

/** Adds the speed-up against the baseline to measured figures; the baseline comes first. */
export function toRows (suite: Pick<BenchSuite, 'name' | 'baseline'>, measured: ReadonlyArray<{ task: string, medianNs: number, p99Ns: number, samples: number }>): BenchRow[] {
  const baseline = measured.find(row => row.task === suite.baseline)
  if (baseline === undefined) {
    throw new Error(`suite ${suite.name}: no baseline row`)
  }
  const rows = measured.map(row => ({
    suite: suite.name,
    ...row,
    speedup: baseline.medianNs / row.medianNs,
    isBaseline: row.task === suite.baseline
  }))
  return [...rows.filter(row => row.isBaseline), ...rows.filter(row => !row.isBaseline)]
}

/**
 * A seeded generator of uint32s (mulberry32), so that every run builds the same fixtures.
 *
 * @param seed - any int32: the same seed gives the same sequence
 */
export function seededRandom (seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let value = Math.imul(state ^ (state >>> 15), 1 | state)
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value
    return (value ^ (value >>> 14)) >>> 0
  }
}

/**
 * Memory in use: the JS heap and the memory of `ArrayBuffer`s, which lives outside the heap
 * (typed arrays' contents, such as hash tables).
 */
export function usedBytes (): number {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

/**
 * Times two operations back to back in `rounds` rounds, the order swapped every round, so
 * that the machine's slow spells fall on both alike: one `[time of a, time of b]` pair per
 * round, in milliseconds. The ratios of the pairs compare like with like where medians taken
 * over seconds of their own would not.
 */
export async function interleavedTimes (rounds: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<Array<[number, number]>> {
  const timed = async (run: () => Promise<unknown>): Promise<number> => {
    const started = performance.now()
    await run()
    return performance.now() - started
  }
  const pairs: Array<[number, number]> = []
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      const first = await timed(a)
      pairs.push([first, await timed(b)])
    } else {
      const second = await timed(b)
      pairs.push([await timed(a), second])
    }
  }
  return pairs
}

/** The median of some numbers (the upper one of the middle two for an even count); 0 for none. */
export function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

/** Formats nanoseconds for people: `85 ns`, `1.24 µs`, `3.10 ms`. */
export function formatNs (ns: number): string {
  if (ns < 1_000) return `${ns < 10 ? ns.toFixed(1) : Math.round(ns)} ns`
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(2)} µs`
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(2)} ms`
  return `${(ns / 1_000_000_000).toFixed(2)} s`
}

/** Formats rows as a Markdown table. */
export function formatTable (rows: readonly BenchRow[]): string {
  const header = ['task', 'median / op', 'p99 / op', 'vs baseline', 'samples']
  const lines = rows.map(row => [
    row.isBaseline ? `${row.task} (baseline)` : row.task,
    formatNs(row.medianNs),
    formatNs(row.p99Ns),
    row.isBaseline ? '1.00×' : row.speedup >= 1 ? `${row.speedup.toFixed(2)}× faster` : `${(1 / row.speedup).toFixed(2)}× slower`,
    String(row.samples)
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map(line => (line[column] ?? '').length)))
  const format = (cells: readonly string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`
  return [format(header), `| ${widths.map(width => '-'.repeat(width)).join(' | ')} |`, ...lines.map(format)].join('\n')
}

/**
 * Runs a suite: its tasks, then its report, then its targets against both.
 *
 * @param suite - the suite
 * @param options - time and rounds
 */
export async function measureSuite (suite: BenchSuite, options: RunOptions = {}): Promise<SuiteResult> {
  const rows = await runSuite(suite, options)
  const report = await suite.report?.() ?? { lines: [] }
  const figures = report.figures ?? {}
  return {
    name: suite.name,
    description: suite.description,
    rows,
    lines: report.lines,
    targets: (suite.targets ?? []).map(target => ({ package: target.package, target: target.target, ...target.evaluate({ rows, figures }) }))
  }
}

/** The row of a task, by name; throws if the run has none (a renamed task). */
export function rowNamed (rows: readonly BenchRow[], task: string): BenchRow {
  const row = rows.find(each => each.task === task)
  if (row === undefined) {
    throw new Error(`no row named ${JSON.stringify(task)}`)
  }
  return row
}

/** A suite's results as Markdown: a heading, the table, the report's lines. */
export function formatSuite (result: SuiteResult, level = '##'): string {
  return [`${level} ${result.name}: ${result.description}`, '', ...(result.rows.length === 0 ? [] : [formatTable(result.rows)]), ...result.lines, ''].join('\n')
}

/** Where and how a run was made, for the results file. */
export interface RunInfo {
  readonly date: string
  readonly commit: string
  readonly machine: string
  readonly command: string
  readonly rounds: number
}

/** The targets of some suites' results as a Markdown table, met or not. */
export function formatTargets (results: readonly SuiteResult[]): string {
  const escape = (text: string): string => text.replaceAll('|', '\\|')
  return [
    '| package | target | measured | met |',
    '| --- | --- | --- | --- |',
    ...results.flatMap(result => result.targets).map(target => `| ${target.package} | ${escape(target.target)} | ${escape(target.measured)} | ${target.met ? 'yes' : '**no**'} |`)
  ].join('\n')
}

/** The results file: the run, the targets met or not, one section per suite. */
export function formatResultsFile (results: readonly SuiteResult[], run: RunInfo): string {
  return [
    '# Benchmark results',
    '',
    `Written by \`${run.command}\` from one run on ${run.date}, at commit ${run.commit}, on ${run.machine}.`,
    '',
    `Every figure is a median (or the 99th percentile where named) within this run. The tasks of a suite run side by side in one process, ${run.rounds === 1 ? 'each in one stretch' : `sampled in ${run.rounds} rounds (the order reversed every other round)`}, so its ratios compare like with like; each suite runs in a process of its own. On a shared machine a whole run can move by up to 2×: compare ratios, not absolute times, between runs. Earlier runs are in this file's history.`,
    '',
    '## Targets',
    '',
    formatTargets(results),
    '',
    '## Suites',
    '',
    ...results.map(result => formatSuite(result, '###'))
  ].join('\n')
}
