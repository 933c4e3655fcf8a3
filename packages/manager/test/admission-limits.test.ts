import { afterEach, describe, expect, it, vi } from 'vitest'
import { createConnectionManager } from '../src/manager.ts'
import { MemoryTransport } from './helpers/memory-transport.ts'
import type { ConnectionManager } from '../src/manager.ts'
import type { ConnectionManagerInit } from '../src/types.ts'
import type { MemoryConnection } from './helpers/memory-transport.ts'
import type { ConnectionConfigInit } from '@cm/config'

const managers: Array<ConnectionManager<MemoryConnection>> = []
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.stop()
  vi.useRealTimers()
})

interface Setup {
  readonly manager: ConnectionManager<MemoryConnection>
  readonly transport: MemoryTransport
  /** Completes the handshake of a pending connection. */
  readonly finish: (raw: MemoryConnection) => void
  /** Each accepted connection's outcome, by connection. */
  readonly outcomes: Map<MemoryConnection, string>
}

/** A manager whose handshakes wait until finished by the test, on a fake clock. */
async function setup (config: ConnectionConfigInit, init: Partial<ConnectionManagerInit<MemoryConnection>> = {}): Promise<Setup> {
  vi.useFakeTimers()
  const transport = new MemoryTransport()
  const finishers = new Map<MemoryConnection, () => void>()
  const manager = createConnectionManager({
    transport,
    config: { inboundUpgradeTimeout: 10_000, ...config },
    upgrade: async (raw, { direction, signal }) => {
      if (direction === 'outbound') return
      await new Promise<void>((resolve, reject) => {
        finishers.set(raw, resolve)
        signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
      })
    },
    ...init
  })
  managers.push(manager)
  await manager.start()
  const outcomes = new Map<MemoryConnection, string>()
  // accept() rather than listen(), to see each connection's outcome.
  const accept = manager.accept.bind(manager)
  const inject = transport.inject.bind(transport)
  transport.inject = (ip: string, port?: number) => {
    const raw = inject(ip, port)
    void accept(raw).then(result => { outcomes.set(raw, result.outcome === 'refused' ? result.refusal.reason : result.outcome === 'closed' ? `closed:${result.record.closeReason ?? ''}` : 'open') })
    return raw
  }
  return { manager, transport, finish: raw => { finishers.get(raw)?.() }, outcomes }
}

const settle = async (): Promise<void> => { await vi.advanceTimersByTimeAsync(0) }

describe('pending slots - who gives way', () => {
  it('a host that has used less of its rate budget evicts the pending connection of the host that has used the most', async () => {
    const { manager, transport, outcomes } = await setup({ maxIncomingPendingConnections: 3, inboundConnectionThreshold: 5 })
    // A slowloris host spends its budget: three connections at once (their pressures 0.2, 0.4, 0.6).
    const attack = [1, 2, 3].map(() => transport.inject('198.51.100.1'))
    const good = transport.inject('192.0.2.1') // pressure 0.2: evicts the attacker's most pressured one
    await settle()
    expect(outcomes.get(attack[2] as MemoryConnection)).toBe('closed:limit')
    expect(attack[2]?.aborted).toBe(true)
    expect(manager.metrics().pendingInbound).toEqual({ total: 3, limited: 3, evicted: 1 })
    expect(manager.connections.history().map(record => [record.remoteIp, record.closeReason])).toEqual([['198.51.100.1', 'limit']])
    expect(good.closed).toBe(false)
    // The attacker, now at a higher pressure than anyone pending, cannot take the slot back.
    const retry = transport.inject('198.51.100.1')
    await settle()
    expect(outcomes.get(retry)).toBe('pending-limit')
    expect(good.closed).toBe(false)
  })

  it('among equally pressured hosts, the oldest gives way, and only once it has waited a tenth of inboundUpgradeTimeout', async () => {
    const { transport, outcomes } = await setup({ maxIncomingPendingConnections: 2, inboundConnectionThreshold: 5, inboundUpgradeTimeout: 10_000 })
    const first = transport.inject('198.51.100.1')
    await vi.advanceTimersByTimeAsync(500)
    const second = transport.inject('198.51.100.2')
    await vi.advanceTimersByTimeAsync(499)
    // Every host here is fresh (pressure 0.2, its one attempt): the oldest has waited 999 ms < 1,000 ms.
    const early = transport.inject('198.51.100.3')
    await settle()
    expect(outcomes.get(early)).toBe('pending-limit')
    await vi.advanceTimersByTimeAsync(1)
    const late = transport.inject('198.51.100.4')
    await settle()
    expect(outcomes.get(first)).toBe('closed:limit')
    expect(outcomes.has(late)).toBe(false) // pending
    expect(second.closed).toBe(false)
  })

  it('a host\'s pressure is read at the instant of its attempt: a clock that ticks between the two reads evicts no young slot', async () => {
    // Once ticking, every read of this clock moves it 1 ms on: were the newcomer's pressure
    // read after its attempt, it would read 0.999 against the 1 recorded for each young slot,
    // which would then give way.
    let now = 0
    let ticking = false
    const { manager, transport, outcomes } = await setup(
      { maxIncomingPendingConnections: 2, inboundConnectionThreshold: 1, inboundUpgradeTimeout: 10_000 },
      { clock: { now: () => ticking ? ++now : now } }
    )
    const held = [1, 2].map(host => transport.inject(`198.51.100.${host}`))
    ticking = true
    const newcomer = transport.inject('198.51.100.3')
    await settle()
    expect(outcomes.get(newcomer)).toBe('pending-limit')
    expect(held.map(raw => raw.closed)).toEqual([false, false])
    expect(manager.metrics().pendingInbound.evicted).toBe(0)
  })

  it('a refusal at the pending limit costs the host two attempts of its rate budget', async () => {
    const { manager, transport, outcomes } = await setup({ maxIncomingPendingConnections: 1, inboundConnectionThreshold: 4 })
    transport.inject('192.0.2.1')
    const tries = [1, 2, 3].map(() => transport.inject('198.51.100.1'))
    await settle()
    // Each refusal at the pending limit used two attempts of its budget of 4: none is left.
    expect(tries.map(raw => outcomes.get(raw))).toEqual(['pending-limit', 'pending-limit', 'rate-limit'])
    expect(manager.metrics().refused).toMatchObject({ 'pending-limit': 2, 'rate-limit': 1 })
    expect(manager.metrics().rateLimit.charged).toBe(2)
  })

  it('a handshake that completes frees its slot, and its connection is never evicted once open', async () => {
    const { manager, transport, finish, outcomes } = await setup({ maxIncomingPendingConnections: 1, inboundConnectionThreshold: 5, maxConnections: 10 })
    const good = transport.inject('192.0.2.1')
    finish(good)
    await settle()
    expect(outcomes.get(good)).toBe('open')
    const next = transport.inject('198.51.100.1')
    await settle()
    expect(outcomes.has(next)).toBe(false)
    expect(manager.metrics().pendingInbound.evicted).toBe(0)
  })

  it('trusted connections are never evicted and take no slot', async () => {
    const { manager, transport, finish } = await setup({ maxIncomingPendingConnections: 1, trustedList: ['192.0.2.0/24'], inboundConnectionThreshold: 5, maxConnections: 10 })
    const trusted = transport.inject('192.0.2.1')
    // The attacker opens two connections, then holds a third pending: its pressure is 0.6.
    for (let index = 0; index < 2; index++) finish(transport.inject('198.51.100.1'))
    await settle()
    const held = transport.inject('198.51.100.1')
    transport.inject('203.0.113.1')
    await settle()
    expect(trusted.closed).toBe(false)
    expect(held.closed).toBe(true)
    expect(manager.metrics().pendingInbound).toEqual({ total: 2, limited: 1, evicted: 1 })
  })
})

describe('maxConnections counts every socket held', () => {
  it('closing connections count: a newcomer is refused until a slow close ends', async () => {
    const { manager, transport, finish } = await setup({ maxConnections: 2, maxConnectionsPerPeer: 1, connectionCloseTimeout: 1_000 })
    const [a, b] = [transport.inject('192.0.2.1'), transport.inject('192.0.2.2')]
    finish(a)
    finish(b)
    await settle()
    ;(a).closeBehaviour = 'hang' // a peer that never reads
    const id = manager.connections.list({ state: 'open' })[0]?.id ?? -1
    const closing = manager.close(id)
    expect(manager.connections.count({ state: 'closing' })).toBe(1)
    const refused = await manager.accept(transport.inject('192.0.2.3'))
    expect(refused).toMatchObject({ outcome: 'refused', refusal: { reason: 'max-connections' } })
    await vi.advanceTimersByTimeAsync(1_000) // the close times out: the socket is reset
    await closing
    expect((a).aborted).toBe(true)
    expect(manager.connections.count()).toBe(1)
    transport.inject('192.0.2.3')
    await settle()
    expect(manager.connections.count({ state: 'pending' })).toBe(1)
  })

  it('outbound dials in flight count too', async () => {
    const { manager, transport } = await setup({ maxConnections: 2, maxConnectionsPerPeer: 1 })
    transport.dialBehaviour.set('/ip4/192.0.2.9/tcp/1', 'hang')
    const dial = manager.dial('/ip4/192.0.2.9/tcp/1').catch(() => {})
    await settle()
    transport.inject('192.0.2.1')
    const refused = await manager.accept(transport.inject('192.0.2.2'))
    expect(refused).toMatchObject({ outcome: 'refused', refusal: { reason: 'max-connections' } })
    await manager.stop()
    await dial
  })

  it('when every socket is held, a less pressured host evicts a pending one rather than being refused', async () => {
    const { manager, transport, outcomes } = await setup({ maxConnections: 2, maxConnectionsPerPeer: 1, maxIncomingPendingConnections: 5, inboundConnectionThreshold: 5 })
    const attack = [transport.inject('198.51.100.1'), transport.inject('198.51.100.1')]
    const good = transport.inject('192.0.2.1')
    await settle()
    expect(outcomes.get(attack[1] as MemoryConnection)).toBe('closed:limit')
    expect(good.closed).toBe(false)
    expect(manager.connections.count()).toBe(2)
  })
})

describe('no reference per connection on long-lived objects', () => {
  it('never calls AbortSignal.any (on Node 20 each call leaves a reference in every source signal)', async () => {
    const any = vi.spyOn(AbortSignal, 'any')
    try {
      const { manager, transport, finish } = await setup({ maxIncomingPendingConnections: 100, inboundConnectionThreshold: 1_000 })
      for (let index = 0; index < 50; index++) finish(transport.inject(`192.0.2.${index + 1}`))
      transport.inject('192.0.2.200') // left pending: stopped below
      await settle()
      const dialled = await manager.dial('/ip4/192.0.2.250/tcp/1')
      transport.dialBehaviour.set('/ip4/192.0.2.251/tcp/1', 'hang')
      const hanging = manager.dial('/ip4/192.0.2.251/tcp/1').catch((error: unknown) => error)
      await settle()
      await dialled.close()
      await manager.stop()
      expect(await hanging).toBeInstanceOf(Error)
      expect(any).not.toHaveBeenCalled()
    } finally {
      any.mockRestore()
    }
  })
})
