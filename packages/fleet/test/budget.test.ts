import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BudgetCounter, budgetBound } from '../src/budget.ts'
import type { ResolvedBudget } from '../src/options.ts'

const host = (limit: number, windowMs = 1_000): ResolvedBudget => ({
  maxKeys: 1_000,
  tiers: [{ name: 'host', limit, windowMs, ipv4PrefixLength: 32, ipv6PrefixLength: 64 }]
})

/** Two tiers of the same prefix length: 3 a second and 5 a minute per host. */
const perSecondAndMinute = (): BudgetCounter => new BudgetCounter({
  maxKeys: 100,
  tiers: [
    { name: 'second', limit: 3, windowMs: 1_000, ipv4PrefixLength: 32, ipv6PrefixLength: 64 },
    { name: 'minute', limit: 5, windowMs: 60_000, ipv4PrefixLength: 32, ipv6PrefixLength: 64 }
  ]
}, 400)

describe('BudgetCounter', () => {
  it('.record() - holds a key once its projection reaches the budget (known + nodes × unacknowledged)', () => {
    const counter = new BudgetCounter(host(10), 400)
    counter.applyReply([], [], 3, 0) // three nodes alive
    const holds: number[] = []
    for (let attempt = 1; attempt <= 5; attempt++) {
      if (counter.record('203.0.113.7', 100).hold.length > 0) holds.push(attempt)
    }
    // 3 × 4 = 12 >= 10: held after the fourth attempt (ceil(10 / 3) = 4), once.
    expect(holds).toEqual([4])
    expect(counter.held()).toEqual(['203.0.113.7'])
  })

  it('.applyReply() - lifts a hold when the fleet total leaves room, and holds to the window end at the budget', () => {
    const counter = new BudgetCounter(host(10), 400)
    counter.applyReply([], [], 3, 0)
    for (let attempt = 0; attempt < 4; attempt++) counter.record('203.0.113.7', 100)
    const report = counter.takeReport()
    expect(report).toEqual([{ tier: 0, window: 0, text: '203.0.113.7', count: 4 }])
    // The fleet counted 5 (another node reported 1): 5 + 3 × 0 < 10, released.
    expect(counter.applyReply(report, [5], 3, 150)).toEqual({ hold: [], release: ['203.0.113.7'] })
    counter.record('203.0.113.7', 160)
    const second = counter.takeReport()
    // The fleet reached the budget: held until the window ends.
    expect(counter.applyReply(second, [10], 3, 200)).toEqual({ hold: [{ text: '203.0.113.7', tier: 'host', until: 1_000 }], release: [] })
  })

  it('.record() - a new window starts from nothing; a hold of the past window does not carry over', () => {
    const counter = new BudgetCounter(host(2), 400)
    counter.record('198.51.100.1', 10)
    expect(counter.record('198.51.100.1', 20).hold).toHaveLength(1)
    expect(counter.record('198.51.100.1', 1_010).hold).toHaveLength(0)
    expect(counter.record('198.51.100.1', 1_020).hold).toHaveLength(1)
  })

  it('.record() - keys IPv6 by /64 and tiers by their prefixes, IPv4-mapped as IPv4', () => {
    const counter = new BudgetCounter({
      maxKeys: 100,
      tiers: [
        // Budgets of 2: one attempt is half of it, so every key is reported.
        { name: 'host', limit: 2, windowMs: 1_000, ipv4PrefixLength: 32, ipv6PrefixLength: 64 },
        { name: 'subnet', limit: 2, windowMs: 1_000, ipv4PrefixLength: 24, ipv6PrefixLength: 48 }
      ]
    }, 400)
    counter.record('2001:db8:1:2:3:4:5:6', 0)
    counter.record('::ffff:203.0.113.9', 0)
    expect(counter.takeReport().map(line => line.text).sort()).toEqual(['2001:db8:1:2::/64', '2001:db8:1::/48', '203.0.113.0/24', '203.0.113.9'])
  })

  it('.takeReport() - reports a key once its projection reaches half the budget, not before', () => {
    const counter = new BudgetCounter(host(20), 400)
    counter.applyReply([], [], 2, 0) // two nodes alive: each attempt counts 2 in the projection
    for (let attempt = 0; attempt < 4; attempt++) counter.record('203.0.113.7', 100)
    counter.record('203.0.113.8', 100)
    // 2 × 4 = 8 < 10 and 2 × 1 = 2 < 10: nothing worth a Redis call yet.
    expect(counter.takeReport()).toEqual([])
    counter.record('203.0.113.7', 110)
    // 2 × 5 = 10: half the budget; every pending attempt of the key goes, the other waits.
    expect(counter.takeReport()).toEqual([{ tier: 0, window: 0, text: '203.0.113.7', count: 5 }])
    expect(counter.takeReport()).toEqual([])
  })

  it('.takeReport() - counts a fleet total already heard of: a key the fleet knows is near the budget is reported at once', () => {
    const counter = new BudgetCounter(host(20), 400)
    for (let attempt = 0; attempt < 10; attempt++) counter.record('203.0.113.7', 100)
    const report = counter.takeReport()
    expect(report).toEqual([{ tier: 0, window: 0, text: '203.0.113.7', count: 10 }])
    counter.applyReply(report, [12], 1, 150)
    counter.record('203.0.113.7', 160)
    expect(counter.takeReport()).toEqual([{ tier: 0, window: 0, text: '203.0.113.7', count: 1 }])
  })

  it('.applyReply() - drops the unreported attempts of a past window, and forgets a key idle for a whole window', () => {
    const counter = new BudgetCounter(host(20), 400)
    counter.record('203.0.113.7', 100)
    for (let attempt = 0; attempt < 10; attempt++) counter.record('203.0.113.8', 100)
    const next = counter.applyReply([], [], 1, 1_100) // the next window, nothing reported
    // .8 reached half its budget: its attempts are carried, to be reported.
    expect(counter.takeReport()).toEqual([{ tier: 0, window: 1, text: '203.0.113.8', count: 10 }])
    expect(next).toEqual({ hold: [], release: [] })
    // .7's past attempt is gone (its key is kept for reuse): nine more stay under half the budget.
    expect(counter.size).toBe(2)
    for (let attempt = 0; attempt < 9; attempt++) counter.record('203.0.113.7', 1_200)
    expect(counter.takeReport()).toEqual([])
    counter.applyReply([], [], 1, 2_100)
    expect(counter.size).toBe(2)
    // Two windows on, neither has been seen since window 1: both are forgotten.
    counter.applyReply([], [], 1, 3_100)
    expect(counter.size).toBe(0)
  })

  it.each(['203.0.113.7', '2001:db8::7'])('.record() - counts %s apart in two tiers of the same prefix length', ip => {
    const counter = perSecondAndMinute()
    const holds = (now: number): string[] => counter.record(ip, now).hold.map(hold => hold.tier)
    expect([holds(0), holds(10), holds(20)]).toEqual([[], [], ['second']])
    expect(counter.size).toBe(2)
    // A new second: its tier starts again; the minute's counts all five.
    expect([holds(1_000), holds(1_010)]).toEqual([[], ['minute']])
  })

  it('.applyReply() - holds a text two tiers count until the last of them lets go, until the later of their times', () => {
    const counter = perSecondAndMinute()
    const ip = '203.0.113.7'
    for (const now of [0, 10]) counter.record(ip, now)
    expect(counter.record(ip, 20).hold).toEqual([{ text: ip, tier: 'second', until: 420 }])
    const first = counter.takeReport()
    expect(first.map(line => [line.tier, line.count])).toEqual([[0, 3], [1, 3]])
    // The fleet: 3 this second (the budget: held to the second's end), 5 this minute (held to its end).
    expect(counter.applyReply(first, [3, 5], 1, 50)).toEqual({
      hold: [{ text: ip, tier: 'second', until: 1_000 }, { text: ip, tier: 'minute', until: 60_000 }],
      release: []
    })
    // The next second: the second tier lets go, and the minute's hold stands, not released.
    const next = counter.applyReply([], [], 1, 1_050)
    expect(next.release).toEqual([])
    // (the last hold of a text is the one that stands)
    expect(next.hold.at(-1)).toEqual({ text: ip, tier: 'minute', until: 60_000 })
    expect(counter.held()).toEqual([ip])
    // The next minute: nobody holds it.
    expect(counter.applyReply([], [], 1, 60_050)).toEqual({ hold: [], release: [ip] })
    expect(counter.held()).toEqual([])
  })

  it('.applyReply() - does not release a text one tier lets go of when another holds it in the same reply', () => {
    const counter = perSecondAndMinute()
    const ip = '203.0.113.7'
    for (const now of [0, 10, 20]) counter.record(ip, now)
    // This second the fleet saw 2 (room again: the second tier lets go); this minute 5 (held).
    expect(counter.applyReply(counter.takeReport(), [2, 5], 1, 50)).toEqual({ hold: [{ text: ip, tier: 'minute', until: 60_000 }], release: [] })
    expect(counter.held()).toEqual([ip])
  })

  it('.record() - counts at most maxKeys keys; the rest are admitted uncounted', () => {
    const counter = new BudgetCounter({ ...host(5), maxKeys: 2 }, 400)
    counter.record('192.0.2.1', 0)
    counter.record('192.0.2.2', 0)
    counter.record('192.0.2.3', 0)
    expect(counter.size).toBe(2)
    expect(counter.untracked).toBe(1)
    expect(counter.record('not an address', 0).hold).toHaveLength(0)
  })

  it('.reset() - forgets everything and returns the keys to release', () => {
    const counter = new BudgetCounter(host(1), 400)
    counter.record('192.0.2.1', 0)
    expect(counter.reset()).toEqual(['192.0.2.1'])
    expect(counter.size).toBe(0)
  })
})

describe('budgetBound', () => {
  it('is limit - 1 + nodes × ceil(limit / nodes)', () => {
    expect(budgetBound(30, 3)).toBe(59)
    expect(budgetBound(20, 3)).toBe(40)
    expect(budgetBound(10, 1)).toBe(19)
    expect(budgetBound(100, 30)).toBe(219)
  })
})

/**
 * A fleet of N nodes and one Redis, in simulated time: every node runs a real
 * BudgetCounter, syncs every T ms (each at its own phase, with its own round trip), Redis
 * adds the counts and blocks a key at the budget until the window ends, and the block
 * reaches each node after its own delay. A host sprays attempts at random nodes and
 * times. The reference model is a plain count of admitted attempts per window.
 */
interface Scenario {
  readonly nodes: number
  readonly limit: number
  readonly windowMs: number
  readonly syncMs: number
  readonly rtts: readonly number[]
  readonly delays: readonly number[]
  readonly phases: readonly number[]
  readonly attempts: ReadonlyArray<{ readonly at: number, readonly node: number }>
}

function simulate (scenario: Scenario): Map<number, number> {
  const { nodes, limit, windowMs, syncMs } = scenario
  const budget = host(limit, windowMs)
  const counters = Array.from({ length: nodes }, () => new BudgetCounter(budget, 4 * syncMs))
  const heldUntil = new Array<number>(nodes).fill(0)
  const blockedUntil = new Array<number>(nodes).fill(0)
  const totals = new Map<number, number>()
  const admitted = new Map<number, number>()
  type Event = { at: number, order: number, run: () => void }
  const queue: Event[] = []
  let order = 0
  const schedule = (at: number, run: () => void): void => { queue.push({ at, order: order++, run }) }
  const end = Math.max(...scenario.attempts.map(attempt => attempt.at), 0) + 2 * windowMs
  const applyHolds = (node: number, change: { hold: ReadonlyArray<{ until: number }>, release: readonly string[] }): void => {
    for (const hold of change.hold) heldUntil[node] = hold.until
    if (change.release.length > 0) heldUntil[node] = 0
  }
  for (let node = 0; node < nodes; node++) {
    counters[node]?.applyReply([], [], nodes, 0)
    for (let at = scenario.phases[node] ?? 0; at < end; at += syncMs) {
      schedule(at, () => {
        const lines = counters[node]?.takeReport() ?? []
        const rtt = scenario.rtts[node] ?? 1
        schedule(at + rtt / 2, () => {
          const replies = lines.map(line => {
            const total = (totals.get(line.window) ?? 0) + line.count
            totals.set(line.window, total)
            if (total >= limit && total - line.count < limit) {
              const until = (line.window + 1) * windowMs
              for (let other = 0; other < nodes; other++) {
                schedule(at + rtt / 2 + (scenario.delays[other] ?? 0), () => { blockedUntil[other] = Math.max(blockedUntil[other] ?? 0, until) })
              }
            }
            return total
          })
          schedule(at + rtt, () => { applyHolds(node, counters[node]?.applyReply(lines, replies, nodes, at + rtt) ?? { hold: [], release: [] }) })
        })
      })
    }
  }
  for (const attempt of scenario.attempts) {
    schedule(attempt.at, () => {
      const node = attempt.node
      if ((heldUntil[node] ?? 0) > attempt.at || (blockedUntil[node] ?? 0) > attempt.at) return
      const window = Math.floor(attempt.at / windowMs)
      admitted.set(window, (admitted.get(window) ?? 0) + 1)
      applyHolds(node, counters[node]?.record('203.0.113.7', attempt.at) ?? { hold: [], release: [] })
    })
  }
  while (queue.length > 0) {
    queue.sort((a, b) => a.at - b.at || a.order - b.order)
    const next = queue.shift()
    next?.run()
  }
  return admitted
}

describe('the fleet budget, simulated', () => {
  it('never admits more than budgetBound(limit, nodes) of a host per window, whatever the timing', () => {
    const scenario = fc.integer({ min: 1, max: 8 }).chain(nodes => fc.record({
      nodes: fc.constant(nodes),
      limit: fc.integer({ min: 1, max: 60 }),
      windowMs: fc.constantFrom(500, 1_000),
      syncMs: fc.integer({ min: 10, max: 200 }),
      rtts: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: nodes, maxLength: nodes }),
      delays: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: nodes, maxLength: nodes }),
      phases: fc.array(fc.integer({ min: 0, max: 199 }), { minLength: nodes, maxLength: nodes }),
      attempts: fc.array(fc.record({ at: fc.integer({ min: 0, max: 2_999 }), node: fc.integer({ min: 0, max: nodes - 1 }) }), { maxLength: 600 })
        .map(attempts => [...attempts].sort((a, b) => a.at - b.at))
    }))
    fc.assert(fc.property(scenario, input => {
      const admitted = simulate(input)
      const bound = budgetBound(input.limit, input.nodes)
      for (const count of admitted.values()) {
        if (count > bound) return false
      }
      return true
    }), { numRuns: 200 })
  })

  it('a host spraying evenly gets at least the budget, and under the bound, not N times the budget', () => {
    // 3 nodes, 30 per second, a sync every 50 ms: 3,000 attempts in 3 s, round robin.
    const attempts = Array.from({ length: 3_000 }, (_, index) => ({ at: index, node: index % 3 }))
    const admitted = simulate({ nodes: 3, limit: 30, windowMs: 1_000, syncMs: 50, rtts: [1, 2, 3], delays: [1, 2, 3], phases: [0, 17, 33], attempts })
    for (const count of admitted.values()) {
      expect(count).toBeGreaterThanOrEqual(30)
      expect(count).toBeLessThanOrEqual(budgetBound(30, 3))
    }
  })
})
