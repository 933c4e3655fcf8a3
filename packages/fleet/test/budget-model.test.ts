import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BudgetCounter } from '../src/budget.ts'
import { ReferenceBudgetCounter } from './support/budget-reference.ts'
import type { HoldChange, ReportLine } from '../src/budget.ts'
import type { ResolvedBudget } from '../src/options.ts'

/**
 * `BudgetCounter` against its reference (one object per key, every key settled at every
 * reply): the same random operations on both, and the same answers from both. Holds are
 * compared by their effect (the last entry for a text wins, releases as a set), and
 * reports as sets of lines: the order of keys is not part of the contract.
 */

type Operation =
  | { readonly type: 'record', readonly ip: string, readonly advance: number }
  | { readonly type: 'sync', readonly advance: number, readonly nodes: number, readonly totals: readonly number[] }
  | { readonly type: 'reset' }

const tierArbitrary = fc.record({
  limit: fc.integer({ min: 1, max: 24 }),
  windowMs: fc.constantFrom(100, 250, 1_000),
  ipv4PrefixLength: fc.constantFrom(32, 32, 24, 16, 0),
  ipv6PrefixLength: fc.constantFrom(64, 48, 128)
})

const budgetArbitrary = fc.record({
  maxKeys: fc.integer({ min: 1, max: 3_000 }),
  tiers: fc.array(tierArbitrary, { minLength: 1, maxLength: 3 })
}).map(({ maxKeys, tiers }): ResolvedBudget => ({ maxKeys, tiers: tiers.map((tier, index) => ({ name: `t${index}`, ...tier })) }))

/** Few hosts (so that keys fill up and get reported) or many (so that tables grow). */
const ipArbitrary = (hosts: number): fc.Arbitrary<string> => fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: hosts - 1 }).map(index => `10.${(index >> 16) & 0xff}.${(index >> 8) & 0xff}.${index & 0xff}`) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 }).map(index => `2001:db8:${index}::${index + 1}`) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: hosts - 1 }).map(index => `2001:db8:${(index >> 8).toString(16)}:${(index & 0xff).toString(16)}::${index % 3}`) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 }).map(index => `::ffff:10.0.0.${index}`) },
  { weight: 1, arbitrary: fc.constantFrom('not an address', '', '10.0.0.256') }
)

const operationsArbitrary = (hosts: number, maxLength: number): fc.Arbitrary<Operation[]> => fc.array(fc.oneof(
  { weight: 30, arbitrary: fc.record({ type: fc.constant('record' as const), ip: ipArbitrary(hosts), advance: fc.constantFrom(0, 0, 1, 7, 40) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('sync' as const), advance: fc.integer({ min: 0, max: 400 }), nodes: fc.integer({ min: 0, max: 6 }), totals: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('reset' as const) }) }
), { maxLength, size: 'max' })

/** What a change does to the gates: each text's last hold, and the texts released. */
function effect (change: HoldChange): { holds: Record<string, number>, release: string[] } {
  const holds: Record<string, number> = {}
  for (const hold of change.hold) holds[hold.text] = hold.until
  return { holds, release: [...change.release].sort() }
}

const lineKey = (line: ReportLine): string => `${line.tier} ${line.window} ${line.text} ${line.count}`

function run (budget: ResolvedBudget, operations: readonly Operation[]): void {
  const counter = new BudgetCounter(budget, 300)
  const reference = new ReferenceBudgetCounter(budget, 300)
  let now = 0
  operations.forEach((operation, step) => {
    const where = `step ${step}: ${JSON.stringify(operation)}`
    if (operation.type === 'record') {
      now += operation.advance
      expect(effect(counter.record(operation.ip, now)), where).toEqual(effect(reference.record(operation.ip, now)))
    } else if (operation.type === 'sync') {
      const lines = counter.takeReport()
      const referenceLines = reference.takeReport()
      expect(lines.map(lineKey).sort(), where).toEqual(referenceLines.map(lineKey).sort())
      // The fleet's total for a line: the same for both, whatever the order of their lines.
      const totalOf = (line: ReportLine): number => line.count + (operation.totals[(line.tier * 31 + line.text.length + line.count) % Math.max(1, operation.totals.length)] ?? 0)
      now += operation.advance
      expect(effect(counter.applyReply(lines, lines.map(totalOf), operation.nodes, now)), where)
        .toEqual(effect(reference.applyReply(referenceLines, referenceLines.map(totalOf), operation.nodes, now)))
    } else {
      expect(counter.reset().sort(), where).toEqual(reference.reset().sort())
    }
    expect({ size: counter.size, untracked: counter.untracked, nodes: counter.nodes, held: counter.held().sort() }, where)
      .toEqual({ size: reference.size, untracked: reference.untracked, nodes: reference.nodes, held: reference.held().sort() })
  })
}

describe('BudgetCounter, against its reference', () => {
  it('gives the same holds, reports, sizes and counts, with few hosts', () => {
    fc.assert(fc.property(budgetArbitrary, operationsArbitrary(12, 600), run), { numRuns: 300 })
  })

  it('gives the same holds, reports, sizes and counts, with thousands of hosts (tables that grow and shrink)', () => {
    fc.assert(fc.property(budgetArbitrary, operationsArbitrary(4_000, 4_000), run), { numRuns: 30 })
  })
})
