import { describe, expect, it } from 'vitest'
import { reconnectDelay } from '../src/backoff.ts'

describe('reconnectDelay', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 5_000, factor: 2 }

  it('grows by the factor up to the cap, less up to half at random', () => {
    expect([1, 2, 3, 4, 10].map(attempt => reconnectDelay(attempt, options, 0))).toEqual([100, 200, 400, 800, 5_000])
    expect(reconnectDelay(1, options, 0.999_999)).toBe(50)
    expect(reconnectDelay(10, options, 0.5)).toBe(3_750)
  })

  it('is at least 1 ms and ignores a random number out of range', () => {
    expect(reconnectDelay(1, { initialDelayMs: 1, maxDelayMs: 1, factor: 1 }, 1)).toBe(1)
    expect(reconnectDelay(1, options, -3)).toBe(100)
  })
})
