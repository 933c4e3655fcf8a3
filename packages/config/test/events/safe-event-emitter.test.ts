import { describe, expect, it, vi } from 'vitest'
import { SafeEventEmitter } from '../../src/events/index.ts'

interface Events {
  ping: CustomEvent<number>
  pong: CustomEvent<string>
}

describe('SafeEventEmitter', () => {
  it('.safeDispatchEvent() - delivers the detail to every listener, in registration order', () => {
    const events = new SafeEventEmitter<Events>()
    const seen: string[] = []
    events.addEventListener('ping', event => { seen.push(`a${event.detail}`) })
    events.addEventListener('ping', { handleEvent: event => { seen.push(`b${event.detail}`) } })
    expect(events.safeDispatchEvent('ping', { detail: 1 })).toBe(true)
    expect(seen).toEqual(['a1', 'b1'])
    expect(events).toBeInstanceOf(EventTarget)
  })

  it('.safeDispatchEvent() - a listener that throws does not stop the others and reaches onListenerError', () => {
    const onListenerError = vi.fn()
    const events = new SafeEventEmitter<Events>({ onListenerError })
    const boom = new Error('boom')
    const after = vi.fn()
    events.addEventListener('ping', () => { throw boom })
    events.addEventListener('ping', after)
    expect(() => events.safeDispatchEvent('ping', { detail: 7 })).not.toThrow()
    expect(after).toHaveBeenCalledOnce()
    expect(onListenerError).toHaveBeenCalledOnce()
    expect(onListenerError.mock.calls[0]?.[0]).toBe(boom)
    expect((onListenerError.mock.calls[0]?.[1] as Event).type).toBe('ping')
  })

  it('.safeDispatchEvent() - a thrown error never becomes an uncaught exception', async () => {
    const uncaught = vi.fn()
    process.on('uncaughtException', uncaught)
    try {
      const events = new SafeEventEmitter<Events>({ onListenerError: () => { throw new Error('the handler fails too') } })
      events.addEventListener('ping', () => { throw new Error('boom') })
      events.safeDispatchEvent('ping', { detail: 1 })
      await new Promise(resolve => setTimeout(resolve, 0))
      expect(uncaught).not.toHaveBeenCalled()
    } finally {
      process.off('uncaughtException', uncaught)
    }
  })

  it('.safeDispatchEvent() - a listener\'s rejected promise reaches onListenerError', async () => {
    const onListenerError = vi.fn()
    const events = new SafeEventEmitter<Events>({ onListenerError })
    const boom = new Error('async boom')
    // An async listener is a mistake the emitter must survive, so the lint rule is off here.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    events.addEventListener('ping', async () => { await Promise.resolve(); throw boom })
    events.safeDispatchEvent('ping', { detail: 1 })
    await vi.waitFor(() => { expect(onListenerError).toHaveBeenCalledOnce() })
    expect(onListenerError.mock.calls[0]?.[0]).toBe(boom)
  })

  it('.safeDispatchEvent() - by default prints listener errors with console.error', () => {
    const print = vi.spyOn(console, 'error').mockImplementation(() => {})
    const events = new SafeEventEmitter<Events>()
    events.addEventListener('pong', () => { throw new Error('boom') })
    events.safeDispatchEvent('pong', { detail: 'x' })
    expect(print).toHaveBeenCalledOnce()
    expect(print.mock.calls[0]?.[0]).toBe('@cm: a listener of "pong" threw')
  })

  it('.addEventListener() - the same listener twice is registered once; capture makes a second registration', () => {
    const events = new SafeEventEmitter<Events>()
    const listener = vi.fn()
    events.addEventListener('ping', listener)
    events.addEventListener('ping', listener)
    expect(events.listenerCount('ping')).toBe(1)
    events.addEventListener('ping', listener, true)
    expect(events.listenerCount('ping')).toBe(2)
    events.safeDispatchEvent('ping', { detail: 1 })
    expect(listener).toHaveBeenCalledTimes(2)
  })

  it('.addEventListener() - once removes the listener after its first call', () => {
    const events = new SafeEventEmitter<Events>()
    const listener = vi.fn()
    events.addEventListener('ping', listener, { once: true })
    events.safeDispatchEvent('ping', { detail: 1 })
    events.safeDispatchEvent('ping', { detail: 2 })
    expect(listener).toHaveBeenCalledOnce()
    expect(events.listenerCount('ping')).toBe(0)
  })

  it('.addEventListener() - an aborted signal removes the listener, an already aborted one adds nothing', () => {
    const events = new SafeEventEmitter<Events>()
    const listener = vi.fn()
    const controller = new AbortController()
    events.addEventListener('ping', listener, { signal: controller.signal })
    expect(events.listenerCount('ping')).toBe(1)
    controller.abort()
    expect(events.listenerCount('ping')).toBe(0)
    events.safeDispatchEvent('ping', { detail: 1 })
    events.addEventListener('ping', listener, { signal: AbortSignal.abort() })
    events.addEventListener('ping', null)
    expect(events.listenerCount('ping')).toBe(0)
    expect(listener).not.toHaveBeenCalled()
  })

  it('.removeEventListener() - removes the registration with the same capture only', () => {
    const events = new SafeEventEmitter<Events>()
    const listener = vi.fn()
    events.addEventListener('ping', listener)
    events.removeEventListener('ping', listener, true)
    expect(events.listenerCount('ping')).toBe(1)
    events.removeEventListener('ping', listener)
    events.removeEventListener('pong', listener)
    expect(events.listenerCount('ping')).toBe(0)
    events.safeDispatchEvent('ping', { detail: 1 })
    expect(listener).not.toHaveBeenCalled()
  })

  it('.addEventListener() - a listener without once, or with once false, hears every event', () => {
    const events = new SafeEventEmitter<Events>()
    const plain = vi.fn()
    const notOnce = vi.fn()
    const captured = vi.fn()
    events.addEventListener('ping', plain)
    events.addEventListener('ping', notOnce, { once: false })
    events.addEventListener('ping', captured, true)
    for (const detail of [1, 2, 3]) events.safeDispatchEvent('ping', { detail })
    expect([plain, notOnce, captured].map(listener => listener.mock.calls.length)).toEqual([3, 3, 3])
    expect(events.listenerCount('ping')).toBe(3)
  })

  it('.removeEventListener() - removes the listener named, never another of the same type', () => {
    const events = new SafeEventEmitter<Events>()
    const first = vi.fn()
    const second = vi.fn()
    const controller = new AbortController()
    events.addEventListener('ping', first, { signal: controller.signal })
    events.addEventListener('ping', second)
    events.removeEventListener('ping', second)
    events.safeDispatchEvent('ping', { detail: 1 })
    expect(first).toHaveBeenCalledOnce()
    expect(second).not.toHaveBeenCalled()
    events.addEventListener('ping', second)
    controller.abort() // removes first, and only first
    events.safeDispatchEvent('ping', { detail: 2 })
    expect(first).toHaveBeenCalledOnce()
    expect(second).toHaveBeenCalledOnce()
  })
})
