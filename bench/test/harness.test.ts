import { describe, expect, it } from 'vitest'
import { cyclingTask, formatNs, formatResultsFile, formatTable, interleavedTimes, measureSuite, percentile, rowNamed, runSuite, toRows } from '../src/harness.ts'
import type { BenchSuite } from '../src/harness.ts'

describe('toRows()', () => {
  it('puts the baseline first and computes the speed-up as baseline median / task median', () => {
    const rows = toRows({ name: 's', baseline: 'slow' }, [
      { task: 'fast', medianNs: 50, p99Ns: 80, samples: 10 },
      { task: 'slow', medianNs: 200, p99Ns: 300, samples: 10 }
    ])
    expect(rows.map(row => [row.task, row.speedup, row.isBaseline])).toEqual([['slow', 1, true], ['fast', 4, false]])
  })

  it('refuses a suite without its baseline', () => {
    expect(() => toRows({ name: 's', baseline: 'missing' }, [{ task: 'a', medianNs: 1, p99Ns: 1, samples: 1 }])).toThrow(/no baseline/)
  })
})

describe('formatTable()', () => {
  it('prints medians, ratios and the baseline marker', () => {
    const table = formatTable(toRows({ name: 's', baseline: 'b' }, [
      { task: 'b', medianNs: 1_500, p99Ns: 2_000, samples: 3 },
      { task: 't', medianNs: 150, p99Ns: 200, samples: 3 }
    ]))
    expect(table).toContain('| b (baseline) | 1.50 µs')
    expect(table).toContain('10.00× faster')
    expect(formatTable(toRows({ name: 's', baseline: 't' }, [
      { task: 'b', medianNs: 1_500, p99Ns: 2_000, samples: 3 },
      { task: 't', medianNs: 150, p99Ns: 200, samples: 3 }
    ]))).toContain('10.00× slower')
  })
})

describe('formatNs()', () => {
  it('picks a readable unit', () => {
    expect(formatNs(5.25)).toBe('5.3 ns')
    expect(formatNs(85)).toBe('85 ns')
    expect(formatNs(1_240)).toBe('1.24 µs')
    expect(formatNs(3_100_000)).toBe('3.10 ms')
  })
})

describe('runSuite()', () => {
  it('measures every task per operation of its batch', async () => {
    const rows = await runSuite({
      name: 'tiny',
      description: 'two no-ops',
      baseline: 'single',
      tasks: () => [{ name: 'single', fn: () => 1 }, { name: 'batched', batch: 10, fn: () => 1 }]
    }, { time: 20 })
    expect(rows.map(row => row.task)).toEqual(['single', 'batched'])
    expect(rows.every(row => row.samples > 0 && row.medianNs >= 0)).toBe(true)
  })
})

describe('runSuite() hooks', () => {
  it('runs beforeEach and afterEach around every measured call of a task', async () => {
    let state = 'idle'
    let calls = 0
    let outOfOrder = 0
    await runSuite({
      name: 'hooks',
      description: 'a task with hooks',
      baseline: 'hooked',
      tasks: () => [{
        name: 'hooked',
        fn: () => { calls++; if (state !== 'prepared') outOfOrder++; state = 'ran' },
        beforeEach: () => { state = 'prepared' },
        afterEach: () => { if (state !== 'ran') outOfOrder++; state = 'idle' }
      }]
    }, { time: 5 })
    expect(calls).toBeGreaterThan(1)
    // Not even once: tinybench is told the function is not async, so it does not call it to find out.
    expect(outOfOrder).toBe(0)
  })
})

describe('runSuite() rounds', () => {
  it('samples every task in each round, in the suite order and then the reverse, and pools the samples', async () => {
    const calls: string[] = []
    const rows = await runSuite({
      name: 'rounds',
      description: 'three tasks, three rounds',
      baseline: 'a',
      tasks: () => ['a', 'b', 'c'].map(name => ({ name, fn: () => { calls.push(name) } }))
    }, { time: 6, rounds: 3 })
    // Runs of consecutive calls of one task (a task is measured to the end of its turn): the
    // first round's warm-up (a b c), then the rounds a b c, c b a, a b c, where the task that
    // ends a round begins the next.
    const turns = calls.filter((name, index) => index === 0 || calls[index - 1] !== name)
    expect(turns).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'b', 'a', 'b', 'c'])
    // Each round takes at least ceil(64 / 3) = 22 samples of each task (warm-up calls are not samples).
    expect(rows.every(row => row.samples >= 3 * 22)).toBe(true)
  })

  it('runs async tasks, awaiting each call', async () => {
    let running = 0
    let overlapped = false
    const rows = await runSuite({
      name: 'async',
      description: 'an async task',
      baseline: 'wait',
      tasks: () => [{
        name: 'wait',
        fn: async () => {
          running++
          if (running > 1) overlapped = true
          await new Promise(resolve => setImmediate(resolve))
          running--
        }
      }]
    }, { time: 5, rounds: 2 })
    expect(rows[0]?.samples).toBeGreaterThan(0)
    expect(overlapped).toBe(false)
  })

  it('refuses a round count or a time it cannot use, before building the tasks', async () => {
    let built = 0
    const suite = { name: 's', description: 'd', baseline: 'a', tasks: () => { built++; return [{ name: 'a', fn: () => 1 }] } }
    await expect(runSuite(suite, { rounds: 0 })).rejects.toThrow(/rounds must be a positive integer, got 0/)
    await expect(runSuite(suite, { rounds: 1.5 })).rejects.toThrow(RangeError)
    await expect(runSuite(suite, { time: 0 })).rejects.toThrow(/time must be a positive number/)
    await expect(runSuite(suite, { time: Number.NaN })).rejects.toThrow(RangeError)
    expect(built).toBe(0)
  })

  it('refuses a suite without its baseline, or with two tasks of one name', async () => {
    await expect(runSuite({ name: 's', description: 'd', baseline: 'x', tasks: () => [{ name: 'a', fn: () => 1 }] }, { time: 5 })).rejects.toThrow(/baseline "x" is not one of its tasks/)
    await expect(runSuite({ name: 's', description: 'd', baseline: 'a', tasks: () => [{ name: 'a', fn: () => 1 }, { name: 'a', fn: () => 2 }] }, { time: 5 })).rejects.toThrow(/two tasks share a name/)
  })
})

describe('percentile()', () => {
  it('interpolates between the nearest ranks, whatever the order given', () => {
    expect(percentile([3, 1, 2], 0.5)).toBe(2)
    expect(percentile([4, 1, 3, 2], 0.5)).toBe(2.5)
    expect(percentile([10, 0], 0.99)).toBeCloseTo(9.9)
    expect(percentile([7], 0.99)).toBe(7)
    expect(percentile([], 0.5)).toBe(0)
  })
})

describe('cyclingTask()', () => {
  it('applies the function to batch inputs per call, cycling, and counts the hits', async () => {
    const seen: number[] = []
    const task = cyclingTask('t', [1, 2, 3], 2, input => { seen.push(input); return input % 2 === 1 })
    expect(task.batch).toBe(2)
    expect(await task.fn()).toBe(1)
    expect(await task.fn()).toBe(3)
    expect(seen).toEqual([1, 2, 3, 1])
    expect(() => cyclingTask('empty', [], 1, () => true)).toThrow(/no inputs/)
  })
})

describe('measureSuite() and the results file', () => {
  const suite: BenchSuite = {
    name: 'demo',
    description: 'a demo suite',
    baseline: 'slow',
    tasks: () => [
      { name: 'slow', fn: () => { let sum = 0; for (let index = 0; index < 2_000; index++) sum += index; return sum } },
      { name: 'fast', fn: () => 1 }
    ],
    report: () => ({ lines: ['', 'a note'], figures: { answer: 42 } }),
    targets: [
      { package: '@cm/demo', target: 'fast beats slow', evaluate: ({ rows }) => ({ measured: 'faster', met: rowNamed(rows, 'fast').medianNs < rowNamed(rows, 'slow').medianNs }) },
      { package: '@cm/demo', target: 'the answer | is 41', evaluate: ({ figures }) => ({ measured: String(figures['answer']), met: figures['answer'] === 41 }) }
    ]
  }

  it('runs the tasks, then the report, then checks every target against the rows and the figures', async () => {
    const result = await measureSuite(suite, { time: 60, rounds: 1 })
    expect(result.rows.map(row => row.task)).toEqual(['slow', 'fast'])
    expect(result.lines).toEqual(['', 'a note'])
    expect(result.targets).toEqual([
      { package: '@cm/demo', target: 'fast beats slow', measured: 'faster', met: true },
      { package: '@cm/demo', target: 'the answer | is 41', measured: '42', met: false }
    ])
    const file = formatResultsFile([result], { date: '2026-12-06', commit: 'abc1234', machine: 'a machine', command: 'pnpm bench --report', rounds: 1 })
    expect(file).toMatch(/^# Benchmark results\n\nWritten by `pnpm bench --report` from one run on 2026-12-06, at commit abc1234, on a machine\./)
    expect(file).toContain('| @cm/demo | fast beats slow | faster | yes |')
    expect(file).toContain('| @cm/demo | the answer \\| is 41 | 42 | **no** |')
    expect(file).toContain('### demo: a demo suite')
    expect(file).toContain('| slow (baseline) |')
  })

  it('a suite with no task measures in its report alone', async () => {
    const result = await measureSuite({ name: 'soak-like', description: 'no tasks', baseline: '', tasks: () => [], report: () => ({ lines: ['measured'] }) })
    expect(result.rows).toEqual([])
    expect(result.lines).toEqual(['measured'])
  })

  it('rowNamed() throws for a task the run does not have', () => {
    expect(() => rowNamed([], 'renamed')).toThrow(/no row named "renamed"/)
  })
})

describe('interleavedTimes()', () => {
  it('runs the two in turn, the order swapped every round, and pairs their times as [a, b]', async () => {
    const order: string[] = []
    const wait = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
    const pairs = await interleavedTimes(4, async () => { order.push('a'); await wait(1) }, async () => { order.push('b'); await wait(30) })
    expect(order).toEqual(['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a'])
    expect(pairs).toHaveLength(4)
    for (const [a, b] of pairs) expect(b).toBeGreaterThan(a)
  })
})
