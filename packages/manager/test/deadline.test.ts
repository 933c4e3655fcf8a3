import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Deadline } from '../src/deadline.ts'

describe('Deadline', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('aborts with a timed-out error when the time runs out, and says it expired', () => {
    const deadline = new Deadline(100)
    vi.advanceTimersByTime(99)
    expect(deadline.signal.aborted).toBe(false)
    vi.advanceTimersByTime(1)
    expect(deadline.signal.aborted).toBe(true)
    expect(String(deadline.signal.reason)).toContain('timed out after 100 ms')
    expect(deadline.expired).toBe(true)
  })

  it('follows a signal: aborts with its reason, and does not count as expired', () => {
    const job = new AbortController()
    const deadline = new Deadline(100)
    deadline.follow(job.signal)
    const reason = new Error('cancelled')
    job.abort(reason)
    expect(deadline.signal.reason).toBe(reason)
    vi.advanceTimersByTime(100)
    expect(deadline.expired).toBe(false)
  })

  it('follows a signal aborted already', () => {
    const reason = new Error('before')
    const deadline = new Deadline(100)
    deadline.follow(AbortSignal.abort(reason))
    expect(deadline.signal.reason).toBe(reason)
    deadline.clear()
  })

  it('clear() stops the timer and the following: nothing aborts afterwards, no listener is left', () => {
    const job = new AbortController()
    const added = vi.spyOn(job.signal, 'addEventListener')
    const removed = vi.spyOn(job.signal, 'removeEventListener')
    const deadline = new Deadline(100)
    deadline.follow(job.signal)
    deadline.clear()
    expect(removed.mock.calls[0]?.[1]).toBe(added.mock.calls[0]?.[1])
    job.abort(new Error('late'))
    vi.advanceTimersByTime(200)
    expect(deadline.signal.aborted).toBe(false)
  })
})
