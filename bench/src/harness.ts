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
  /** Builds the tasks (may allocate large fixtures). */
  readonly tasks: () => BenchTask[] | Promise<BenchTask[]>
  /** Extra lines to print after the table (memory figures, notes). */
  readonly report?: () => string[] | Promise<string[]>
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
  /** Milliseconds to sample each task. */
  readonly time?: number
}

/** Runs one suite and returns its rows, baseline first. */
export async function runSuite (suite: BenchSuite, options: RunOptions = {}): Promise<BenchRow[]> {
  const tasks = await suite.tasks()
  const bench = new Bench({ time: options.time ?? 500, warmupTime: 100, throws: true })
  const batches = new Map<string, number>()
  for (const task of tasks) {
    batches.set(task.name, task.batch ?? 1)
    bench.add(task.name, task.fn, {
      ...(task.beforeEach === undefined ? {} : { beforeEach: task.beforeEach }),
      ...(task.afterEach === undefined ? {} : { afterEach: task.afterEach })
    })
  }
  if (!batches.has(suite.baseline)) {
    throw new Error(`suite ${suite.name}: baseline ${JSON.stringify(suite.baseline)} is not one of its tasks`)
  }
  await bench.run()
  const measured = bench.tasks.map(task => {
    const result = task.result
    if (result.state !== 'completed') {
      throw new Error(`suite ${suite.name}: task ${task.name} did not complete (${result.state})`)
    }
    const batch = batches.get(task.name) ?? 1
    return {
      task: task.name,
      medianNs: (result.latency.p50 * 1e6) / batch,
      p99Ns: (result.latency.p99 * 1e6) / batch,
      samples: result.latency.samplesCount
    }
  })
  return toRows(suite, measured)
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
