import { afterEach, describe, expect, it, vi } from 'vitest'
import { DecisionClock } from '../src/admission.ts'
import { REFUSAL_REASONS } from '../src/events.ts'
import { createConnectionManager } from '../src/manager.ts'
import { MemoryTransport } from './helpers/memory-transport.ts'
import type { ConnectionManager } from '../src/manager.ts'
import type { MemoryConnection } from './helpers/memory-transport.ts'
import type { ConnectionConfigInit } from '@cm/config'

const managers: Array<ConnectionManager<MemoryConnection>> = []
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.stop()
  vi.useRealTimers()
})

/** A manager on a fake clock whose inbound handshakes never finish; each connection's outcome is recorded. */
async function pendingForever (config: ConnectionConfigInit, transport = new MemoryTransport()): Promise<{ manager: ConnectionManager<MemoryConnection>, connect: (ip: string) => MemoryConnection, outcomes: Map<MemoryConnection, string> }> {
  vi.useFakeTimers()
  const manager = createConnectionManager({
    transport,
    config: { inboundUpgradeTimeout: 10_000, ...config },
    upgrade: async (_raw, { signal }) => {
      await new Promise<void>((_resolve, reject) => {
        signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
      })
    }
  })
  managers.push(manager)
  await manager.start()
  const outcomes = new Map<MemoryConnection, string>()
  const connect = (ip: string): MemoryConnection => {
    const raw = transport.inject(ip)
    void manager.accept(raw).then(result => { outcomes.set(raw, result.outcome === 'refused' ? result.refusal.reason : result.outcome) })
    return raw
  }
  return { manager, connect, outcomes }
}

const settle = async (): Promise<void> => { await vi.advanceTimersByTimeAsync(0) }

describe('inbound admission edges', () => {
  it('a stale pending connection does not give way when maxConnections stays exceeded: the refusal is max-connections', async () => {
    const { manager, connect, outcomes } = await pendingForever({ maxIncomingPendingConnections: 2, maxConnections: 10, maxConnectionsPerPeer: 1 })
    connect('192.0.2.1')
    connect('192.0.2.2')
    await settle()
    manager.updateConfig({ maxConnections: 1 }) // 2 held: one over
    await vi.advanceTimersByTimeAsync(2_000) // both pending slots are stale now
    const late = connect('198.51.100.1')
    await settle()
    expect(outcomes.get(late)).toBe('max-connections')
    expect(manager.connections.count({ state: 'pending' })).toBe(2)
  })

  it('a stale pending connection gives way when that brings the count within maxConnections', async () => {
    const { manager, connect, outcomes } = await pendingForever({ maxIncomingPendingConnections: 2, maxConnections: 10, maxConnectionsPerPeer: 1 })
    connect('192.0.2.1')
    connect('192.0.2.2')
    await settle()
    manager.updateConfig({ maxConnections: 2 })
    await vi.advanceTimersByTimeAsync(2_000)
    const late = connect('198.51.100.1')
    await settle()
    expect(outcomes.has(late)).toBe(false) // admitted: its handshake is under way
    expect(outcomes.size).toBe(1) // the connection that gave way
    expect(manager.connections.count({ state: 'pending' })).toBe(2)
  })

  it('a stale pending connection does not give way to a newcomer whose host has used more of its budget', async () => {
    const { connect, outcomes } = await pendingForever({ maxIncomingPendingConnections: 1, inboundConnectionThreshold: 5 })
    const slow = connect('192.0.2.1')
    await vi.advanceTimersByTimeAsync(600)
    connect('198.51.100.1')
    connect('198.51.100.1')
    await vi.advanceTimersByTimeAsync(500) // the first connection is stale now
    const eager = connect('198.51.100.1')
    await settle()
    expect(outcomes.get(eager)).toBe('pending-limit')
    expect(outcomes.has(slow)).toBe(false)
  })

  it('with no pending connection to give way, a newcomer over maxConnections is refused plainly', async () => {
    const transport = new MemoryTransport()
    const manager = createConnectionManager({ transport, config: { maxConnections: 1, maxConnectionsPerPeer: 1 } })
    managers.push(manager)
    await manager.start()
    expect((await manager.accept(transport.inject('192.0.2.1'))).outcome).toBe('open')
    const result = await manager.accept(transport.inject('198.51.100.1'))
    expect(result.outcome === 'refused' ? result.refusal.reason : result.outcome).toBe('max-connections')
  })

  it('a deny list for outbound only does not refuse inbound connections', async () => {
    const { connect, outcomes } = await pendingForever({ denyList: ['192.0.2.0/24'], denyListDirection: 'outbound', maxIncomingPendingConnections: 1 })
    connect('192.0.2.1')
    const second = connect('192.0.2.2')
    await settle()
    expect(outcomes.get(second)).toBe('pending-limit')
  })

  it('a remote end with no IP address is checked by its multiaddr and refused by the limits', async () => {
    const transport = new MemoryTransport()
    transport.remoteAddress = raw => ({ multiaddr: raw.remote.multiaddr })
    const { connect, outcomes } = await pendingForever({ denyList: ['192.0.2.9'], maxIncomingPendingConnections: 1 }, transport)
    connect('192.0.2.1')
    const full = connect('198.51.100.1')
    const denied = connect('192.0.2.9')
    await settle()
    expect(outcomes.get(full)).toBe('pending-limit')
    expect(outcomes.get(denied)).toBe('deny-list')
  })
})

/** A memory transport whose connections from `ip` have no IP address, only a multiaddr. */
function withoutIp (ip: string): MemoryTransport {
  const transport = new MemoryTransport()
  transport.remoteAddress = raw => raw.remote.ip === ip ? { multiaddr: raw.remote.multiaddr } : raw.remote
  return transport
}

describe('inbound admission - a remote end with no IP address', () => {
  it('is not counted by the rate limiter', async () => {
    const { manager, connect } = await pendingForever({ maxIncomingPendingConnections: 5 }, withoutIp('192.0.2.1'))
    connect('192.0.2.1')
    connect('198.51.100.1')
    await settle()
    expect(manager.metrics().rateLimit).toMatchObject({ admitted: 1, refused: 0 })
  })

  it('gives way to a newcomer first, even with rate limiting off', async () => {
    const { connect, outcomes } = await pendingForever({ maxIncomingPendingConnections: 1, rateLimit: { enabled: false } }, withoutIp('192.0.2.1'))
    const anonymous = connect('192.0.2.1')
    const newcomer = connect('198.51.100.1')
    await settle()
    expect(outcomes.has(newcomer)).toBe(false) // admitted: its handshake is under way
    expect(outcomes.get(anonymous)).toBe('closed')
  })
})

describe('DecisionClock', () => {
  it('.hold() - a decision inside another reads the outer instant, and the outer one keeps it after', () => {
    let now = 100
    const clock = new DecisionClock({ now: () => now++ })
    const seen = clock.hold(outer => {
      const inner = clock.hold(instant => [instant, clock.now()])
      return [outer, ...inner, clock.now()]
    })
    expect(seen).toEqual([100, 100, 100, 100])
    expect(clock.now()).toBe(101)
  })
})

describe('observeAdmissions() edges', () => {
  it('the remover removes one registration once, even when called twice', async () => {
    const transport = new MemoryTransport()
    const manager = createConnectionManager({ transport })
    managers.push(manager)
    await manager.start()
    const seen: Array<string | undefined> = []
    const observer = (remote: { ip?: string | undefined }): void => { seen.push(remote.ip) }
    manager.observeAdmissions(observer)
    const remove = manager.observeAdmissions(observer)
    remove()
    remove()
    await manager.accept(transport.inject('192.0.2.1'))
    expect(seen).toEqual(['192.0.2.1'])
  })

  it('refuses an observer that is not a function, saying what was expected', async () => {
    const manager = createConnectionManager({ transport: new MemoryTransport() })
    expect(() => manager.observeAdmissions(42 as never)).toThrow('a function (remote, trusted) => void')
  })
})

describe('REFUSAL_REASONS', () => {
  it('lists every refusal reason in check order', () => {
    expect(REFUSAL_REASONS).toEqual(['deny-list', 'not-allow-listed', 'invalid-address', 'rate-limit', 'pending-limit', 'max-connections', 'peer-denied', 'not-started'])
  })
})

