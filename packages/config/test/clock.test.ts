import { describe, expect, it } from 'vitest'
import { systemClock } from '../src/index.ts'

describe('systemClock', () => {
  it('reads a monotonic time in milliseconds', () => {
    const first = systemClock.now()
    const second = systemClock.now()
    expect(typeof first).toBe('number')
    expect(Number.isFinite(first)).toBe(true)
    expect(second).toBeGreaterThanOrEqual(first)
    expect(Object.isFrozen(systemClock)).toBe(true)
  })
})
