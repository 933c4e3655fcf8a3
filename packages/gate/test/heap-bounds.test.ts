import v8 from 'node:v8'
import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import { createGate } from '../src/gate.ts'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** Memory in use after full collections, in bytes: the JS heap and typed arrays' buffers (kept outside it). */
function heapUsed (): number {
  gc()
  gc()
  return v8.getHeapStatistics().used_heap_size + process.memoryUsage().arrayBuffers
}

const CYCLES = 10_000
/** Far below what 10,000 expiries left in the queue take (several megabytes). */
const SLACK_BYTES = 1_000_000

/** The heap a round of `CYCLES` cycles leaves behind, on a gate with one live timed rule. */
function growth (cycle: (gate: ReturnType<typeof createGate>, clock: { now: number }) => void): number {
  const clock = { now: 0 }
  const gate = createGate({ clock: { now: () => clock.now } })
  gate.deny('198.51.100.1', { ttl: 1_000_000_000 })
  cycle(gate, clock)
  const before = heapUsed()
  for (let round = 0; round < CYCLES; round++) {
    cycle(gate, clock)
  }
  const after = heapUsed()
  expect(gate.check('198.51.100.1').allowed).toBe(false)
  return after - before
}

describe('.deny() - the expiry queue stays small under churn (heap after GC)', () => {
  it('the same rule timed again and again', () => {
    expect(growth(gate => { gate.deny('192.0.2.7', { ttl: 1_000_000 }) })).toBeLessThan(SLACK_BYTES)
  })

  it('a timed rule added and removed again and again', () => {
    expect(growth(gate => {
      gate.deny('192.0.2.8', { ttl: 1_000_000 })
      gate.remove('deny', '192.0.2.8')
    })).toBeLessThan(SLACK_BYTES)
  })

  it('rules lapsing while another is timed again and again', () => {
    expect(growth((gate, clock) => {
      gate.deny('192.0.2.9', { ttl: 1 })
      gate.deny('192.0.2.7', { ttl: 1_000_000 })
      clock.now += 1
      expect(gate.check('192.0.2.9').allowed).toBe(true)
    })).toBeLessThan(SLACK_BYTES)
  })
})

describe('prefix tables - heap after GC', () => {
  it('rules of every length from /1 to /16 take little room (their presence bitmaps are a few kilobytes)', () => {
    const before = heapUsed()
    const gate = createGate({ denyList: Array.from({ length: 16 }, (_, index) => `10.0.0.0/${index + 1}`) })
    const after = heapUsed()
    expect(gate.size()).toBe(16)
    expect(after - before).toBeLessThan(SLACK_BYTES)
  })

  it('a table shrinks again when most of its rules are removed', () => {
    const count = 60_000
    const address = (index: number): string => `10.${index >> 16}.${(index >> 8) & 255}.${index & 255}`
    const gate = createGate()
    gate.deny('192.0.2.1')
    const before = heapUsed()
    for (let index = 0; index < count; index++) {
      gate.deny(address(index))
    }
    for (let index = 0; index < count; index++) {
      gate.remove('deny', address(index))
    }
    const after = heapUsed()
    expect(gate.size()).toBe(1)
    expect(after - before).toBeLessThan(SLACK_BYTES)
  })
})
