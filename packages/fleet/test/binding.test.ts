import { SafeEventEmitter } from '@cm/config/events'
import { createGate } from '@cm/gate'
import { describe, expect, it, vi } from 'vitest'
import { GateBinding } from '../src/binding.ts'
import type { FleetAttemptEvents } from '../src/binding.ts'

describe('GateBinding', () => {
  it('.set() - adds and removes the rules it owns, with TTLs from Redis time', () => {
    let now = 1_000_000
    const clock = { now: () => now }
    const gate = createGate({ clock })
    const binding = new GateBinding({ gate }, () => now, () => {})
    binding.set('deny', '203.0.113.0/24', 'fleet', now + 5_000)
    expect(gate.check('203.0.113.9').reason).toBe('deny-list')
    now += 5_000
    expect(gate.check('203.0.113.9').allowed).toBe(true) // the gate lapses it by itself
    binding.set('trusted', '192.0.2.1', 'fleet', Infinity)
    expect(gate.check('192.0.2.1').trusted).toBe(true)
    binding.set('trusted', '192.0.2.1', 'fleet', undefined)
    expect(gate.check('192.0.2.1').trusted).toBe(false)
  })

  it('.set() - never touches a rule the gate had that does not lapse, and restores a timed one', () => {
    let now = 0
    const clock = { now: () => now }
    const gate = createGate({ clock, denyList: ['10.0.0.0/8'], allowList: ['192.0.2.0/24'] })
    gate.deny('198.51.100.7', { ttl: 60_000 })
    const binding = new GateBinding({ gate }, () => now, () => {})
    binding.set('deny', '10.0.0.0/8', 'fleet', now + 1_000)
    binding.set('allow', '192.0.2.0/24', 'fleet', Infinity)
    binding.set('deny', '198.51.100.7', 'fleet', now + 1_000)
    binding.set('deny', '10.0.0.0/8', 'fleet', undefined)
    binding.set('allow', '192.0.2.0/24', 'fleet', undefined)
    binding.set('deny', '198.51.100.7', 'fleet', undefined)
    expect(gate.rules()).toEqual([
      { list: 'deny', text: '10.0.0.0/8' },
      { list: 'deny', text: '198.51.100.7', expiresAt: 60_000 },
      { list: 'allow', text: '192.0.2.0/24' }
    ])
    // A shorter fleet ban never shortens the local one.
    binding.set('deny', '198.51.100.7', 'fleet', now + 10)
    now += 30_000
    expect(gate.check('198.51.100.7').reason).toBe('deny-list')
  })

  it('.set() - the strongest source wins: a hold and a fleet rule on the same host', () => {
    const now = 0
    const gate = createGate({ clock: { now: () => now } })
    const binding = new GateBinding({ gate }, () => now, () => {})
    binding.set('deny', '203.0.113.7', 'hold', 100)
    binding.set('deny', '203.0.113.7', 'fleet', Infinity)
    binding.set('deny', '203.0.113.7', 'hold', undefined)
    expect(gate.rules('deny')).toEqual([{ list: 'deny', text: '203.0.113.7' }])
    binding.set('deny', '203.0.113.7', 'fleet', undefined)
    expect(gate.size()).toBe(0)
  })

  it('.flush() - asks the target to close connections a new fleet ban matches, once per batch, never for holds', () => {
    const gate = createGate()
    const deny = vi.fn()
    const binding = new GateBinding({ gate, deny }, () => 0, () => {})
    binding.set('deny', '203.0.113.1', 'fleet', Infinity, true)
    binding.set('deny', '203.0.113.2', 'fleet', 5_000, true)
    binding.flush()
    binding.set('deny', '203.0.113.3', 'hold', 5_000)
    binding.flush()
    expect(deny.mock.calls).toEqual([['203.0.113.2', { ttl: 5_000 }]])
    // An entry the gate had a timed rule on is never re-denied by the sweep (it would shorten it).
    gate.deny('198.51.100.1', { ttl: 60_000 })
    binding.set('deny', '198.51.100.1', 'fleet', 1_000, true)
    binding.flush()
    expect(deny.mock.calls).toHaveLength(1)
  })

  it('reports admitted inbound attempts of untrusted hosts from the events, not outbound ones', () => {
    const events = new SafeEventEmitter<FleetAttemptEvents>()
    const gate = createGate({ trustedList: ['192.0.2.1'] })
    const seen: string[] = []
    const binding = new GateBinding({ gate, events }, () => 0, ip => { seen.push(ip) })
    const pending = (direction: string, remoteIp?: string): void => { events.safeDispatchEvent('connection:pending', { detail: { connection: { direction, remoteIp } } }) }
    pending('inbound', '203.0.113.7')
    pending('outbound', '203.0.113.8')
    pending('inbound')
    pending('inbound', '192.0.2.1')
    binding.detach()
    pending('inbound', '203.0.113.9')
    expect(seen).toEqual(['203.0.113.7'])
    expect(events.listenerCount('connection:pending')).toBe(0)
  })

  it('reports attempts through the admission observer when the target has one, and then not from the events', () => {
    const events = new SafeEventEmitter<FleetAttemptEvents>()
    let observer: ((remote: { readonly ip?: string | undefined }, trusted: boolean) => void) | undefined
    const observeAdmissions = vi.fn((added: typeof observer) => {
      observer = added
      return () => { observer = undefined }
    })
    const seen: string[] = []
    const binding = new GateBinding({ gate: createGate(), events, observeAdmissions }, () => 0, ip => { seen.push(ip) })
    expect(events.listenerCount('connection:pending')).toBe(0)
    observer?.({ ip: '203.0.113.7' }, false)
    observer?.({ ip: '192.0.2.1' }, true) // trusted: not counted
    observer?.({}, false) // no IP: nothing to key
    events.safeDispatchEvent('connection:pending', { detail: { connection: { direction: 'inbound', remoteIp: '203.0.113.8' } } })
    binding.detach()
    expect(observer).toBeUndefined()
    expect(seen).toEqual(['203.0.113.7'])
    expect(observeAdmissions).toHaveBeenCalledTimes(1)
  })

  it('observes nothing when nothing counts the attempts (a fleet without a budget)', () => {
    const events = new SafeEventEmitter<FleetAttemptEvents>()
    const observeAdmissions = vi.fn(() => () => {})
    const binding = new GateBinding({ gate: createGate(), events, observeAdmissions }, () => 0, undefined)
    expect(observeAdmissions).not.toHaveBeenCalled()
    expect(events.listenerCount('connection:pending')).toBe(0)
    binding.detach()
  })

  it('.detach() - takes off everything it added', () => {
    const gate = createGate({ denyList: ['10.0.0.0/8'] })
    const binding = new GateBinding({ gate }, () => 0, () => {})
    binding.set('deny', '203.0.113.0/24', 'fleet', Infinity)
    binding.set('trusted', '192.0.2.1', 'local', Infinity)
    binding.detach()
    expect(gate.rules()).toEqual([{ list: 'deny', text: '10.0.0.0/8' }])
  })
})
