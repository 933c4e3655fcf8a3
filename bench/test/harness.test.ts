import { describe, expect, it } from 'vitest'
import { cyclingTask, formatNs, formatTable, runSuite, toRows } from '../src/harness.ts'

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
    // tinybench calls fn once on its own first, to find out whether it is async.
    expect(outOfOrder).toBeLessThanOrEqual(1)
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
