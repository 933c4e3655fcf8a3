import { InvalidConfigError } from '@cm/config'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createGate } from '../src/gate.ts'
import type { Clock } from '@cm/config'

/** A clock that only moves when told to. */
function fakeClock (start = 1_000): Clock & { advance: (ms: number) => void } {
  let now = start
  return { now: () => now, advance: ms => { now += ms } }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('.deny() - expiry, edge cases', () => {
  it('`ttl` and `expiresAt` together: one problem at `expiresAt`, naming what was given', () => {
    const gate = createGate()
    let caught: unknown
    try {
      gate.deny('192.0.2.7', { ttl: 5, expiresAt: 7 })
    } catch (error) {
      caught = error
    }
    expect(InvalidConfigError.isInstance(caught)).toBe(true)
    expect((caught as InvalidConfigError).problems).toEqual([{
      path: 'expiresAt',
      expected: 'no `expiresAt` when `ttl` is given',
      received: '7 (number)',
      message: 'Expected `ttl` or `expiresAt`, not both'
    }])
  })

  it('a timed rule removed, then denied again without expiry, outlives the old expiry', () => {
    const clock = fakeClock()
    const gate = createGate({ clock })
    gate.deny('192.0.2.7', { ttl: 1_000 })
    expect(gate.remove('deny', '192.0.2.7')).toBe(true)
    gate.deny('192.0.2.7')
    clock.advance(5_000)
    expect(gate.has('deny', '192.0.2.7')).toBe(true)
    expect(gate.rules('deny')).toEqual([{ list: 'deny', text: '192.0.2.7' }])
  })

  it('a rule timed again and again still lapses at its latest time, however many times (the expiry queue rebuilt on the way)', () => {
    for (let times = 1; times <= 150; times++) {
      const clock = fakeClock()
      const gate = createGate({ clock })
      for (let round = 0; round < times; round++) {
        gate.deny('192.0.2.7', { ttl: 1_000 })
        clock.advance(1)
      }
      clock.advance(998)
      expect(gate.check('192.0.2.7').allowed, `timed ${times} times`).toBe(false)
      clock.advance(1)
      expect(gate.check('192.0.2.7').allowed, `timed ${times} times`).toBe(true)
      expect(gate.size('deny')).toBe(0)
    }
  })
})

describe('.load() - a timed ban that ran out on disk', () => {
  it('leaves a permanent ban of the same entry already in the gate as it is, at exactly no time left too', () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] })
    const clock = fakeClock()
    const gate = createGate({ clock, denyList: ['192.0.2.7', '192.0.2.8'] })
    gate.load({
      version: 1,
      savedAt: 990_000,
      deny: [{ entry: '192.0.2.7', expiresInMs: 10_000 }, { entry: '192.0.2.8', expiresInMs: 5_000 }],
      allow: [],
      trusted: []
    })
    clock.advance(1)
    expect(gate.rules('deny')).toEqual([{ list: 'deny', text: '192.0.2.7' }, { list: 'deny', text: '192.0.2.8' }])
    expect(gate.check('192.0.2.7').allowed).toBe(false)
    expect(gate.check('192.0.2.8').allowed).toBe(false)
  })
})
