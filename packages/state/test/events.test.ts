import { describe, expect, it, vi } from 'vitest'
import { createConnectionTracker } from '../src/connection-tracker.ts'
import type { ConnectionTracker } from '../src/connection-tracker.ts'
import type { ConnectionTrackerEvents } from '../src/events.ts'

const TYPES = ['connection:pending', 'connection:open', 'connection:closing', 'connection:close', 'peer:connect', 'peer:disconnect'] as const

/** Records every event as text, with the counts a listener sees when it runs. */
function record (tracker: ConnectionTracker): string[] {
  const log: string[] = []
  for (const type of TYPES) {
    tracker.events.addEventListener(type, (event: ConnectionTrackerEvents[typeof type]) => {
      const detail = event.detail
      if ('peer' in detail) {
        log.push(`${type} ${detail.peer} #${detail.connection.id}`)
      } else {
        log.push(`${type} #${detail.connection.id} ${detail.previous ?? '-'}→${detail.state}`)
      }
    })
  }
  return log
}

function add (tracker: ConnectionTracker, peer?: string): number {
  return tracker.add(peer === undefined
    ? { direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/1', remoteIp: '10.0.0.1' }
    : { direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/1', remoteIp: '10.0.0.1', peer }).id
}

describe('events', () => {
  it('one event per transition, carrying the record, the state and the previous state', () => {
    const tracker = createConnectionTracker()
    const log = record(tracker)
    const id = add(tracker)
    tracker.open(id)
    tracker.closing(id, 'local')
    tracker.close(id, 'local')
    tracker.close(id, 'local') // a no-op: no second event
    const other = add(tracker)
    tracker.close(other, 'denied')
    expect(log).toEqual([
      'connection:pending #1 -→pending',
      'connection:open #1 pending→open',
      'connection:closing #1 open→closing',
      'connection:close #1 closing→closed',
      `connection:pending #${other} -→pending`,
      `connection:close #${other} pending→closed`
    ])
  })

  it('peer:connect on the peer\'s first open connection; peer:disconnect after its last one\'s close', () => {
    const tracker = createConnectionTracker()
    const log = record(tracker)
    const first = add(tracker, 'peer-a')
    const second = add(tracker, 'peer-a')
    tracker.open(first)
    tracker.open(second)
    tracker.closing(first, 'pruned')
    tracker.close(second, 'remote')
    tracker.close(first, 'local')
    expect(log.filter(line => !line.startsWith('connection:pending'))).toEqual([
      'connection:open #1 pending→open',
      'peer:connect peer-a #1',
      'connection:open #2 pending→open',
      'connection:closing #1 open→closing',
      'connection:close #2 open→closed',
      'connection:close #1 closing→closed',
      'peer:disconnect peer-a #1'
    ])
  })

  it('a pending connection that fails neither connects nor disconnects its peer', () => {
    const tracker = createConnectionTracker()
    const log = record(tracker)
    tracker.close(add(tracker, 'peer-a'), 'error')
    expect(log).toEqual(['connection:pending #1 -→pending', 'connection:close #1 pending→closed'])
  })

  it('identifying an open connection connects its peer; identifying a pending one waits for open', () => {
    const tracker = createConnectionTracker()
    const log = record(tracker)
    const open = add(tracker)
    tracker.open(open)
    tracker.identify(open, 'peer-a')
    const pending = add(tracker)
    tracker.identify(pending, 'peer-b')
    tracker.open(pending)
    expect(log.filter(line => line.startsWith('peer:'))).toEqual(['peer:connect peer-a #1', 'peer:connect peer-b #2'])
  })

  it('listeners run after the tracker is updated and see consistent counts', () => {
    const tracker = createConnectionTracker()
    const seen: Array<[string, number, number]> = []
    tracker.events.addEventListener('connection:open', event => {
      seen.push(['open', tracker.count({ state: 'open' }), tracker.count({ state: 'pending' })])
      expect(event.detail.connection.state).toBe('open')
    })
    tracker.events.addEventListener('connection:close', () => { seen.push(['close', tracker.count(), tracker.history().length]) })
    tracker.events.addEventListener('peer:disconnect', event => { seen.push(['disconnect', tracker.count({ peer: event.detail.peer }), 0]) })
    const id = add(tracker, 'peer-a')
    tracker.open(id)
    tracker.close(id, 'local')
    expect(seen).toEqual([['open', 1, 0], ['close', 0, 1], ['disconnect', 0, 0]])
  })

  it('a change made by a listener is dispatched after the current event: close never precedes open', () => {
    const tracker = createConnectionTracker()
    const log = record(tracker)
    // Registered after the logging listeners: closes the connection as soon as it opens.
    tracker.events.addEventListener('connection:open', event => { tracker.close(event.detail.connection.id, 'denied') })
    const id = add(tracker, 'peer-a')
    tracker.open(id)
    expect(log).toEqual([
      'connection:pending #1 -→pending',
      'connection:open #1 pending→open',
      'peer:connect peer-a #1',
      'connection:close #1 open→closed',
      'peer:disconnect peer-a #1'
    ])
    expect(tracker.size).toBe(0)
  })

  it('a listener that throws does not stop the other listeners, the other events or the tracker', async () => {
    const onListenerError = vi.fn()
    const uncaught = vi.fn()
    process.on('uncaughtException', uncaught)
    try {
      const tracker = createConnectionTracker({ onListenerError })
      const boom = new Error('listener bug')
      for (const type of TYPES) tracker.events.addEventListener(type, () => { throw boom })
      const log = record(tracker)
      const id = add(tracker, 'peer-a')
      tracker.open(id)
      tracker.close(id, 'remote')
      expect(log).toHaveLength(5)
      expect(onListenerError).toHaveBeenCalledTimes(5)
      expect(onListenerError.mock.calls.map(call => (call[1] as Event).type)).toEqual(['connection:pending', 'connection:open', 'peer:connect', 'connection:close', 'peer:disconnect'])
      expect(onListenerError.mock.calls[0]?.[0]).toBe(boom)
      expect(tracker.size).toBe(0)
      expect(tracker.snapshot().closed.byReason.remote).toBe(1)
      // The registry still works.
      tracker.open(add(tracker))
      expect(tracker.count({ state: 'open' })).toBe(1)
      await new Promise(resolve => setTimeout(resolve, 0))
      expect(uncaught).not.toHaveBeenCalled()
    } finally {
      process.off('uncaughtException', uncaught)
    }
  })

  it('an external target whose dispatchEvent throws: the error goes to onListenerError, the events after it are still dispatched', () => {
    const onListenerError = vi.fn()
    const types: string[] = []
    const target = new EventTarget()
    const events = Object.assign(target, {
      listenerCount: () => 1,
      safeDispatchEvent: () => true,
      dispatchEvent: (event: Event) => {
        types.push(event.type)
        if (event.type === 'connection:close') throw new Error('broken bus')
        return true
      }
    })
    const tracker = createConnectionTracker({ events, onListenerError })
    const id = add(tracker, 'peer-a')
    tracker.open(id)
    tracker.close(id, 'local')
    expect(types).toEqual(['connection:pending', 'connection:open', 'peer:connect', 'connection:close', 'peer:disconnect'])
    expect(onListenerError).toHaveBeenCalledOnce()
    expect(tracker.size).toBe(0)
  })

  it('with an external target and no onListenerError, a throwing dispatchEvent is printed', () => {
    const print = vi.spyOn(console, 'error').mockImplementation(() => {})
    const events = { dispatchEvent: () => { throw new Error('broken bus') } }
    const tracker = createConnectionTracker({ events: events as never })
    add(tracker)
    expect(print).toHaveBeenCalledOnce()
    expect(print).toHaveBeenCalledWith('@cm: dispatching "connection:pending" threw', new Error('broken bus'))
  })

  it('no event object is made for a type nobody listens to', () => {
    const tracker = createConnectionTracker()
    const dispatch = vi.spyOn(tracker.events, 'dispatchEvent')
    tracker.open(add(tracker))
    expect(dispatch).not.toHaveBeenCalled()
    const listener = vi.fn()
    tracker.events.addEventListener('connection:open', listener)
    tracker.open(add(tracker))
    expect(dispatch).toHaveBeenCalledOnce()
    expect(listener).toHaveBeenCalledOnce()
  })
})

describe('event targets from elsewhere', () => {
  it('accepts a main-event TypedEventEmitter (a js-libp2p bus) as its target', async () => {
    const { TypedEventEmitter } = await import('main-event')
    const bus = new TypedEventEmitter<ConnectionTrackerEvents>()
    const tracker = createConnectionTracker({ events: bus })
    const seen: number[] = []
    bus.addEventListener('connection:pending', event => { seen.push(event.detail.connection.id) })
    add(tracker)
    expect(seen).toEqual([1])
  })
})
