import { describe, expect, it, vi } from 'vitest'
import { SafeEventEmitter } from '../../src/events/index.ts'

interface Events {
  ping: CustomEvent<number>
}

// Registration identity (listener and capture flag), once, signals and removal, at the
// edges the mutation run found untested (TESTING.md).
describe('SafeEventEmitter registrations', () => {
  it('keeps one registration per listener and capture flag, however the flag is given', () => {
    const events = new SafeEventEmitter<Events>()
    const listener = vi.fn()
    events.addEventListener('ping', listener, true)
    events.addEventListener('ping', listener, false)
    events.addEventListener('ping', listener, { capture: true })
    events.addEventListener('ping', listener)
    expect(events.listenerCount('ping')).toBe(2)
    events.safeDispatchEvent('ping', { detail: 1 })
    expect(listener).toHaveBeenCalledTimes(2)
    events.removeEventListener('ping', listener, true)
    events.safeDispatchEvent('ping', { detail: 2 })
    expect(listener).toHaveBeenCalledTimes(3)
    events.removeEventListener('ping', listener, { capture: false })
    events.safeDispatchEvent('ping', { detail: 3 })
    expect(listener).toHaveBeenCalledTimes(3)
  })

  it('does not add a listener a second time behind another one', () => {
    const events = new SafeEventEmitter<Events>()
    const first = vi.fn()
    const second = vi.fn()
    events.addEventListener('ping', first)
    events.addEventListener('ping', second)
    events.addEventListener('ping', first)
    events.safeDispatchEvent('ping', { detail: 1 })
    expect(first).toHaveBeenCalledTimes(1)
    expect(second).toHaveBeenCalledTimes(1)
  })

  it('removes a capture listener for good, and one added with once after its first event', () => {
    const events = new SafeEventEmitter<Events>()
    const removed = vi.fn()
    const once = vi.fn()
    events.addEventListener('ping', removed, { capture: true })
    events.removeEventListener('ping', removed, { capture: true })
    events.addEventListener('ping', once, { capture: true, once: true })
    events.safeDispatchEvent('ping', { detail: 1 })
    events.safeDispatchEvent('ping', { detail: 2 })
    expect(removed).not.toHaveBeenCalled()
    expect(once).toHaveBeenCalledTimes(1)
    expect(events.listenerCount('ping')).toBe(0)
  })

  it('removes a capture listener when its signal aborts', () => {
    const events = new SafeEventEmitter<Events>()
    const listener = vi.fn()
    const controller = new AbortController()
    events.addEventListener('ping', listener, { capture: true, signal: controller.signal })
    controller.abort()
    events.safeDispatchEvent('ping', { detail: 1 })
    expect(listener).not.toHaveBeenCalled()
  })

  it('forgets the signal of a removed registration: a later abort leaves a new one alone', () => {
    const events = new SafeEventEmitter<Events>()
    const listener = vi.fn()
    const controller = new AbortController()
    events.addEventListener('ping', listener, { signal: controller.signal })
    events.removeEventListener('ping', listener)
    events.addEventListener('ping', listener)
    controller.abort()
    events.safeDispatchEvent('ping', { detail: 1 })
    expect(listener).toHaveBeenCalledTimes(1)
  })

  it('removes nothing, and does not throw, for a listener or type never added', () => {
    const events = new SafeEventEmitter<Events>()
    const listener = vi.fn()
    events.addEventListener('ping', listener)
    expect(() => { events.removeEventListener('ping', () => {}) }).not.toThrow()
    expect(() => { events.removeEventListener('pong' as 'ping', listener) }).not.toThrow()
    events.safeDispatchEvent('ping', { detail: 1 })
    expect(listener).toHaveBeenCalledTimes(1)
  })

  it('treats only objects with a then() method as promises a listener returned', () => {
    const onListenerError = vi.fn()
    const events = new SafeEventEmitter<Events>({ onListenerError })
    const then = vi.fn()
    events.addEventListener('ping', () => null as unknown as undefined)
    events.addEventListener('ping', () => ({}) as unknown as undefined)
    events.addEventListener('ping', () => Object.assign(() => {}, { then }) as unknown as undefined)
    events.safeDispatchEvent('ping', { detail: 1 })
    expect(then).not.toHaveBeenCalled()
    expect(onListenerError).not.toHaveBeenCalled()
  })
})
