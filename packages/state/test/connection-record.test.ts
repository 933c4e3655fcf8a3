import { describe, expect, it } from 'vitest'
import { CLOSE_REASONS, ConnectionRecord } from '../src/connection-record.ts'
import { createConnectionTracker } from '../src/connection-tracker.ts'

function tracked (): { record: ConnectionRecord<{ note: string }>, open: () => void, close: () => void } {
  let now = 10
  const tracker = createConnectionTracker<{ note: string }>({ clock: { now: () => now++ } })
  const record = tracker.add({ direction: 'outbound', remoteAddress: '/ip4/10.0.0.1/tcp/1', peer: 'peer-a', metadata: { note: 'n' } })
  return {
    record,
    open: () => { tracker.open(record.id) },
    close: () => { tracker.close(record.id, 'error', new Error('reset')) }
  }
}

describe('ConnectionRecord', () => {
  it('is a live view: the same object follows the connection', () => {
    const { record, open, close } = tracked()
    expect(record.state).toBe('pending')
    const pending = record.timeline
    expect(record.timeline).toBe(pending)
    open()
    expect(record.timeline).not.toBe(pending)
    expect(pending).toEqual({ pending: 10 })
    expect(record.state).toBe('open')
    close()
    expect(record.state).toBe('closed')
    expect(record.timeline).toEqual({ pending: 10, open: 11, closed: 12 })
  })

  it('cannot be changed through its properties, nor constructed', () => {
    const { record } = tracked()
    for (const property of ['id', 'state', 'peer', 'remoteIp', 'streams', 'tags', 'timeline', 'direction', 'closeReason']) {
      expect(() => { (record as unknown as Record<string, unknown>)[property] = 'corrupt' }).toThrow(TypeError)
    }
    expect(record.state).toBe('pending')
    expect(Object.isFrozen(record.timeline)).toBe(true)
    expect(() => { (record.timeline as { open?: number }).open = 1 }).toThrow(TypeError)
    expect(() => new (ConnectionRecord as unknown as new () => unknown)()).toThrow(TypeError)
    expect(Object.keys(record)).toEqual([])
  })

  it('.toJSON() - gives plain JSON without metadata, with the close error as its message', () => {
    const { record, open, close } = tracked()
    open()
    close()
    expect(JSON.parse(JSON.stringify(record))).toEqual({
      id: record.id,
      direction: 'outbound',
      remoteAddress: '/ip4/10.0.0.1/tcp/1',
      remoteIp: '10.0.0.1',
      peer: 'peer-a',
      state: 'closed',
      timeline: { pending: 10, open: 11, closed: 12 },
      closeReason: 'error',
      closeError: 'reset',
      streams: 0,
      tags: {}
    })
    expect(record.metadata).toEqual({ note: 'n' })
  })

  it('CLOSE_REASONS lists every close reason', () => {
    expect(CLOSE_REASONS).toEqual(['local', 'remote', 'error', 'timeout', 'pruned', 'denied', 'limit', 'aborted', 'shutdown'])
    expect(Object.isFrozen(CLOSE_REASONS)).toBe(true)
  })
})
