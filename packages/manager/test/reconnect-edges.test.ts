import { resolveConfig } from '@cm/config'
import { SafeEventEmitter } from '@cm/config/events'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { backoffDelay } from '../src/backoff.ts'
import { DialDeniedError } from '../src/errors.ts'
import { Reconnector } from '../src/reconnect.ts'
import type { ConnectionManagerEvents } from '../src/events.ts'
import type { ManagedConnection } from '../src/types.ts'
import type { ConnectionConfigInit } from '@cm/config'

interface Dial {
  readonly address: string
  readonly peer: string | undefined
  readonly signal: AbortSignal
  resolve: () => void
  reject: (error: unknown) => void
}

/** A reconnector whose dials wait until the test settles them (or their signal aborts). */
function setup (config: ConnectionConfigInit = {}): { reconnector: Reconnector, dials: Dial[], events: Record<string, unknown[]>, running: { value: boolean } } {
  const emitter = new SafeEventEmitter<ConnectionManagerEvents>()
  const events: Record<string, unknown[]> = { 'reconnect:attempt': [], 'reconnect:success': [], 'reconnect:failure': [] }
  for (const type of Object.keys(events)) {
    emitter.addEventListener(type as keyof ConnectionManagerEvents, event => { events[type]!.push((event as CustomEvent).detail) })
  }
  const dials: Dial[] = []
  const running = { value: true }
  const resolved = resolveConfig({ reconnectRetryInterval: 100, reconnectBackoffFactor: 1, ...config })
  const reconnector = new Reconnector({
    config: () => resolved,
    random: () => 0.5,
    running: () => running.value,
    events: emitter,
    dial: async (address, peer, signal) => await new Promise<ManagedConnection<unknown>>((resolve, reject) => {
      signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
      dials.push({
        address,
        peer,
        signal,
        resolve: () => { resolve({ record: { address } } as unknown as ManagedConnection<unknown>) },
        reject
      })
    })
  })
  return { reconnector, dials, events, running }
}

describe('Reconnector', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('.schedule() - with reconnectRetries 0 nothing is redialled and no failure is reported', async () => {
    const { reconnector, dials, events } = setup({ reconnectRetries: 0 })
    reconnector.schedule('/ip4/192.0.2.1/tcp/1', undefined, 1, new Error('closed'))
    await vi.advanceTimersByTimeAsync(10_000)
    expect(dials).toHaveLength(0)
    expect(events['reconnect:failure']).toEqual([])
    expect(reconnector.figures()).toEqual({ attempts: 0, successes: 0, failures: 0, scheduled: 0 })
  })

  it('.figures() - counts a successful redial', async () => {
    const { reconnector, dials, events } = setup()
    reconnector.schedule('/ip4/192.0.2.1/tcp/1', undefined, 1, new Error('closed'))
    await vi.advanceTimersByTimeAsync(100)
    dials[0]!.resolve()
    await vi.advanceTimersByTimeAsync(0)
    expect(events['reconnect:success']).toHaveLength(1)
    expect(reconnector.figures()).toEqual({ attempts: 1, successes: 1, failures: 0, scheduled: 0 })
  })

  it('.cancelFor() - cancels the redials of that address and of that peer, no others', async () => {
    const { reconnector, dials } = setup()
    reconnector.schedule('/ip4/192.0.2.1/tcp/1', undefined, 1, undefined)
    reconnector.schedule('/ip4/192.0.2.2/tcp/1', undefined, 1, undefined)
    reconnector.schedule('/ip4/192.0.2.3/tcp/1', 'peer-a', 1, undefined)
    reconnector.schedule('/ip4/192.0.2.4/tcp/1', 'peer-a', 1, undefined)
    reconnector.schedule('/ip4/192.0.2.5/tcp/1', 'peer-b', 1, undefined)
    // By address: a redial without a peer is not matched by another one without a peer.
    reconnector.cancelFor('/ip4/192.0.2.1/tcp/1', undefined)
    expect(reconnector.figures().scheduled).toBe(4)
    // By peer, whatever the address.
    reconnector.cancelFor('/ip4/192.0.2.9/tcp/1', 'peer-a')
    expect(reconnector.figures().scheduled).toBe(2)
    await vi.advanceTimersByTimeAsync(100)
    expect(dials.map(dial => dial.address)).toEqual(['/ip4/192.0.2.2/tcp/1', '/ip4/192.0.2.5/tcp/1'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('.cancelFor() - aborts a redial in flight, which is then neither retried nor reported', async () => {
    const { reconnector, dials, events } = setup({ reconnectRetries: 3 })
    reconnector.schedule('/ip4/192.0.2.1/tcp/1', undefined, 1, undefined)
    await vi.advanceTimersByTimeAsync(100)
    expect(dials).toHaveLength(1)
    reconnector.cancelFor('/ip4/192.0.2.1/tcp/1', undefined)
    expect(dials[0]!.signal.aborted).toBe(true)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(dials).toHaveLength(1)
    expect(events['reconnect:attempt']).toHaveLength(1)
    expect(events['reconnect:failure']).toEqual([])
    expect(reconnector.figures()).toEqual({ attempts: 1, successes: 0, failures: 0, scheduled: 0 })
  })

  it('a redial that fails once the manager has stopped is not retried', async () => {
    const { reconnector, dials, events, running } = setup({ reconnectRetries: 3 })
    reconnector.schedule('/ip4/192.0.2.1/tcp/1', undefined, 1, undefined)
    await vi.advanceTimersByTimeAsync(100)
    running.value = false
    dials[0]!.reject(new Error('ECONNREFUSED'))
    await vi.advanceTimersByTimeAsync(10_000)
    expect(dials).toHaveLength(1)
    expect(events['reconnect:attempt']).toHaveLength(1)
    expect(events['reconnect:failure']).toEqual([])
  })

  it('a failed redial is retried while the manager runs', async () => {
    const { reconnector, dials, events } = setup({ reconnectRetries: 3 })
    reconnector.schedule('/ip4/192.0.2.1/tcp/1', undefined, 1, undefined)
    await vi.advanceTimersByTimeAsync(100)
    dials[0]!.reject(new Error('ECONNREFUSED'))
    await vi.advanceTimersByTimeAsync(100)
    expect(dials).toHaveLength(2)
    expect(events['reconnect:attempt']).toMatchObject([{ attempt: 1 }, { attempt: 2 }])
  })

  it('a redial the gate refuses is reported as failed at once, not retried', async () => {
    const { reconnector, dials, events } = setup({ reconnectRetries: 3 })
    const address = '/ip4/192.0.2.1/tcp/1'
    reconnector.schedule(address, 'peer-a', 1, undefined)
    await vi.advanceTimersByTimeAsync(100)
    const denied = new DialDeniedError(address, 'deny-list', '192.0.2.0/24')
    dials[0]!.reject(denied)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(dials).toHaveLength(1)
    expect(events['reconnect:failure']).toEqual([{ address, peer: 'peer-a', attempts: 1, error: denied }])
    expect(reconnector.figures()).toEqual({ attempts: 1, successes: 0, failures: 1, scheduled: 0 })
  })
})

describe('backoffDelay()', () => {
  it('takes up to `jitter` of the delay away, in proportion to the random number', () => {
    const options = { interval: 1_000, factor: 2, maxDelay: 60_000, jitter: 0.5 }
    expect(backoffDelay(1, options, () => 0)).toBe(1_000)
    expect(backoffDelay(1, options, () => 0.5)).toBe(750)
    expect(backoffDelay(3, options, () => 0.25)).toBe(3_500)
  })
})
