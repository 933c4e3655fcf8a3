import { CmError } from '@cm/config'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DialDeniedError, NotStartedError } from '../src/errors.ts'
import { createConnectionManager } from '../src/manager.ts'
import { details, lateManagers, lateSetup, OTHER_PEER, PEER, settle } from './helpers/late-setup.ts'
import { MemoryTransport } from './helpers/memory-transport.ts'
import type { ConnectionManager } from '../src/manager.ts'
import type { ConnectionManagerInit, ManagedConnection } from '../src/types.ts'
import type { MemoryConnection } from './helpers/memory-transport.ts'
import type { ConnectionConfigInit } from '@cm/config'

// The public methods of the manager that the main suite reached without asserting what a
// caller sees: its life cycle, identify(), setKeepAlive(), tag(), deny() with a TTL, the
// dial options, the hooks given at creation and what they are told.

afterEach(async () => {
  for (const manager of lateManagers.splice(0)) await manager.stop()
  vi.useRealTimers()
  vi.restoreAllMocks()
})

/** A manager not started yet. */
function create (config: ConnectionConfigInit = {}, init: Partial<ConnectionManagerInit<MemoryConnection>> = {}): { manager: ConnectionManager<MemoryConnection>, transport: MemoryTransport } {
  const transport = new MemoryTransport()
  const manager = createConnectionManager({ transport, config, ...init })
  lateManagers.push(manager)
  return { manager, transport }
}

describe('life cycle', () => {
  it('started follows start() and stop(); a second start() or stop() changes nothing', async () => {
    const { manager, transport } = create()
    expect(manager.started).toBe(false)
    await manager.stop()
    expect(manager.started).toBe(false)
    await manager.start()
    await manager.start()
    expect(manager.started).toBe(true)
    await manager.listen('/ip4/127.0.0.1/tcp/4001')
    await manager.stop()
    expect(manager.started).toBe(false)
    await manager.stop()
    // Stopped: a connection that still arrives is refused as not started.
    const refusals = details(manager, 'connection:deny')
    const raw = transport.inject('192.0.2.1')
    expect((await manager.accept(raw)).outcome).toBe('refused')
    expect(refusals.map(detail => detail.reason)).toEqual(['not-started'])
  })

  it('listen() and dial() before start() are refused, naming what was asked', async () => {
    const { manager } = create()
    await expect(manager.listen('/ip4/127.0.0.1/tcp/4001')).rejects.toThrow(new NotStartedError('listen'))
    await expect(manager.listen('/ip4/127.0.0.1/tcp/4001')).rejects.toMatchObject({ operation: 'listen' })
    await expect(manager.dial('/ip4/198.51.100.1/tcp/1')).rejects.toMatchObject({ name: 'NotStartedError', operation: 'dial' })
  })

  it('a listener closed by its caller hands the manager no more connections', async () => {
    const { manager, transport } = create()
    await manager.start()
    const listener = await manager.listen('/ip4/127.0.0.1/tcp/4001')
    expect(listener.addresses).toEqual(['/ip4/127.0.0.1/tcp/4001'])
    transport.inject('192.0.2.1')
    await settle()
    expect(manager.connections.count()).toBe(1)
    await listener.close()
    transport.inject('192.0.2.2')
    await settle()
    expect(manager.connections.count()).toBe(1)
  })

  it('stop() aborts an upgrade in progress with ManagerStoppedError, and closes its connection as a shutdown', async () => {
    let seen: unknown
    const { manager, transport } = await lateSetup({}, {
      upgrade: async (_raw, options) => await new Promise((_resolve, reject) => {
        options.signal.addEventListener('abort', () => { seen = options.signal.reason; reject(options.signal.reason) }, { once: true })
      })
    })
    const closed = details(manager, 'connection:close')
    const raw = transport.inject('192.0.2.1')
    await settle()
    expect(manager.connections.count({ state: 'pending' })).toBe(1)
    await manager.stop()
    expect(seen).toMatchObject({ name: 'ManagerStoppedError' })
    expect(raw.closed).toBe(true)
    expect(closed.map(detail => detail.connection.closeReason)).toEqual(['shutdown'])
  })
})

describe('accept() with an upgrade', () => {
  it('tells the upgrade the direction and remote, and leaves no timer behind once it is done', async () => {
    vi.useFakeTimers()
    const calls: Array<{ direction: string, remote: unknown }> = []
    const { manager, transport } = await lateSetup({ inboundUpgradeTimeout: 1_000 }, {
      upgrade: async (_raw, options) => { calls.push({ direction: options.direction, remote: options.remoteAddress }) }
    })
    const raw = transport.inject('192.0.2.1', 5_000)
    await vi.advanceTimersByTimeAsync(0)
    expect(calls).toEqual([{ direction: 'inbound', remote: { ip: '192.0.2.1', multiaddr: '/ip4/192.0.2.1/tcp/5000' } }])
    expect(manager.connections.count({ state: 'open' })).toBe(1)
    // The upgrade deadline was cleared: nothing is left to fire, and the connection stays open.
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(raw.closed).toBe(false)
    expect(manager.connections.count({ state: 'open' })).toBe(1)
  })
})

describe('hooks given at creation', () => {
  it('onListenerError hears of a listener that throws, for the manager\'s events and the tracker\'s', async () => {
    const errors: Array<[unknown, string]> = []
    const { manager, transport } = await lateSetup({}, { onListenerError: (error, event) => { errors.push([error, event.type]) } })
    const failure = new Error('listener failed')
    manager.events.addEventListener('connection:open', () => { throw failure })
    manager.events.addEventListener('connection:deny', () => { throw failure })
    transport.inject('192.0.2.1')
    manager.deny('203.0.113.0/24')
    transport.inject('203.0.113.7')
    await settle()
    expect(errors).toEqual([[failure, 'connection:open'], [failure, 'connection:deny']])
  })

  it('an admission observer that throws is reported as observeAdmissions, and the connection is still admitted', async () => {
    const errors: Array<[unknown, string]> = []
    const { manager, transport } = await lateSetup({}, { onListenerError: (error, event) => { errors.push([error, event.type]) } })
    const failure = new Error('observer failed')
    const stop = manager.observeAdmissions(() => { throw failure })
    transport.inject('192.0.2.1')
    await settle()
    expect(errors).toEqual([[failure, 'observeAdmissions']])
    // With two observers, the one that throws keeps the other from nothing.
    const told: string[] = []
    manager.observeAdmissions(remote => { told.push(remote.ip ?? '') })
    transport.inject('192.0.2.2')
    await settle()
    expect(told).toEqual(['192.0.2.2'])
    expect(errors).toEqual([[failure, 'observeAdmissions'], [failure, 'observeAdmissions']])
    stop()
    expect(manager.connections.count({ state: 'open' })).toBe(2)
  })

  it('a custom pruneStrategy chooses the connection pruned', async () => {
    // Lowest score first: the oldest inbound connection, which least-valuable would keep.
    let favoured = -1
    const { manager, transport, opened } = await lateSetup({ maxConnections: 2, maxConnectionsPerPeer: 1 }, {
      pruneStrategy: { score: candidate => candidate.id === favoured ? -1 : 0 }
    })
    const pruned = details(manager, 'connection:prune')
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.2')
    await settle()
    favoured = opened[0]?.id ?? -1
    await manager.dial('/ip4/198.51.100.1/tcp/1')
    await settle()
    expect(pruned.map(detail => detail.connection.remoteIp)).toEqual(['192.0.2.1'])
  })

  it('a refusal at admission is reported as inbound', async () => {
    const { manager, transport } = await lateSetup({ denyList: ['203.0.113.0/24'] })
    const refusals = details(manager, 'connection:deny')
    transport.inject('203.0.113.7')
    await settle()
    expect(refusals).toMatchObject([{ direction: 'inbound', remoteIp: '203.0.113.7', reason: 'deny-list' }])
  })
})

describe('identify()', () => {
  it('names the peer of an open connection, by record or by ID; refuses unknown and pending ones', async () => {
    const upgrades: Array<() => void> = []
    const { manager, transport, opened } = await lateSetup({}, {
      upgrade: async () => { await new Promise<void>(resolve => { upgrades.push(resolve) }) }
    })
    transport.inject('192.0.2.1')
    await settle()
    const pending = manager.connections.list({ state: 'pending' })[0]
    expect(pending).toBeDefined()
    expect(manager.identify(pending?.id ?? 0, PEER)).toBe(false)
    expect(manager.connections.get(pending?.id ?? 0)?.peer).toBeUndefined()
    expect(manager.identify(987_654, PEER)).toBe(false)
    for (const resolve of upgrades) resolve()
    await settle()
    const connection = opened[0] as ManagedConnection<MemoryConnection>
    expect(manager.identify(connection, PEER)).toBe(true)
    expect(manager.connections.get(connection.id)?.peer).toBe(PEER)
    transport.inject('192.0.2.2')
    await settle()
    upgrades[1]?.()
    await settle()
    const second = opened[1] as ManagedConnection<MemoryConnection>
    expect(manager.identify(second.id, OTHER_PEER)).toBe(true)
    expect(manager.connections.count({ peer: OTHER_PEER })).toBe(1)
  })

  it('a peer denied by the gate is refused when identified, and its connection closed', async () => {
    const { manager, transport, opened } = await lateSetup()
    manager.deny(`/p2p/${PEER}`)
    transport.inject('192.0.2.1')
    await settle()
    const connection = opened[0] as ManagedConnection<MemoryConnection>
    expect(manager.identify(connection, PEER)).toBe(false)
    await settle()
    expect(manager.connections.count()).toBe(0)
  })
})

describe('setKeepAlive() and tag()', () => {
  it('an unknown connection is ignored; an inbound one cannot be kept alive', async () => {
    const { manager, transport, opened } = await lateSetup()
    expect(() => { manager.setKeepAlive(987_654, true) }).not.toThrow()
    transport.inject('192.0.2.1')
    await settle()
    const inbound = opened[0] as ManagedConnection<MemoryConnection>
    const refusal = (() => { try { manager.setKeepAlive(inbound, true) } catch (error) { return error } return undefined })()
    expect(refusal).toBeInstanceOf(CmError)
    expect(refusal).toMatchObject({ message: 'Only outbound connections can be kept alive: an inbound connection\'s remote port cannot be dialled' })
    expect(() => { manager.setKeepAlive(inbound.id, true) }).toThrow(CmError)
  })

  it('tags a connection by record or by ID', async () => {
    const { manager, transport, opened } = await lateSetup()
    transport.inject('192.0.2.1')
    await settle()
    const connection = opened[0] as ManagedConnection<MemoryConnection>
    manager.tag(connection, 'a', 1)
    manager.tag(connection.id, 'b', 2)
    expect(manager.connections.get(connection.id)?.tags).toEqual({ a: 1, b: 2 })
  })
})

describe('deny()', () => {
  it('a rule with a TTL lapses when the TTL has passed on the manager\'s clock', async () => {
    let now = 1_000
    const { manager } = await lateSetup({}, { clock: { now: () => now } })
    manager.deny('203.0.113.7', { ttl: 500 })
    expect(manager.gate.check('203.0.113.7').allowed).toBe(false)
    now += 499
    expect(manager.gate.check('203.0.113.7').allowed).toBe(false)
    now += 1
    expect(manager.gate.check('203.0.113.7').allowed).toBe(true)
    manager.deny('203.0.113.8')
    now += 1_000_000
    expect(manager.gate.check('203.0.113.8').allowed).toBe(false)
  })
})

describe('dial() options', () => {
  it('an address that is not a multiaddr is refused as such, not with a TypeError', async () => {
    const { manager } = await lateSetup()
    await expect(manager.dial('not a multiaddr')).rejects.toBeInstanceOf(DialDeniedError)
  })

  it('dials to one peer at two addresses share one dial; dials to two peers do not', async () => {
    const { manager, transport } = await lateSetup()
    transport.dialBehaviour.set('/ip4/198.51.100.1/tcp/1', 'hang')
    const first = manager.dial('/ip4/198.51.100.1/tcp/1', { peer: PEER })
    const second = manager.dial(`/ip4/198.51.100.2/tcp/1/p2p/${PEER}`)
    const other = manager.dial(`/ip4/198.51.100.3/tcp/1/p2p/${OTHER_PEER}`)
    // The hanging dial ends when the manager stops.
    void first.catch(() => {})
    void second.catch(() => {})
    await settle()
    expect(transport.dialled).toEqual(['/ip4/198.51.100.1/tcp/1', `/ip4/198.51.100.3/tcp/1/p2p/${OTHER_PEER}`])
    expect((await other).record.peer).toBe(OTHER_PEER)
    // With no peer, dials to one address share one dial too.
    const plain = [manager.dial('/ip4/198.51.100.4/tcp/1'), manager.dial('/ip4/198.51.100.4/tcp/1')]
    const [one, two] = await Promise.all(plain)
    expect(one).toBe(two)
    expect(transport.dialled.filter(address => address === '/ip4/198.51.100.4/tcp/1')).toHaveLength(1)
  })

  it('a dial given no priority waits behind one given a higher one', async () => {
    const { manager, transport } = await lateSetup({ maxParallelDials: 1 })
    transport.dialBehaviour.set('/ip4/198.51.100.9/tcp/1', 'hang')
    const controller = new AbortController()
    const blocker = manager.dial('/ip4/198.51.100.9/tcp/1', { signal: controller.signal })
    await settle()
    const plain = manager.dial('/ip4/198.51.100.1/tcp/1')
    const urgent = manager.dial('/ip4/198.51.100.2/tcp/1', { priority: 75 })
    const low = manager.dial('/ip4/198.51.100.3/tcp/1', { priority: 25 })
    controller.abort(new Error('done blocking'))
    await Promise.allSettled([blocker, plain, urgent, low])
    expect(transport.dialled.slice(1)).toEqual(['/ip4/198.51.100.2/tcp/1', '/ip4/198.51.100.1/tcp/1', '/ip4/198.51.100.3/tcp/1'])
  })

  it('a connection dialled without keepAlive is not dialled again when it drops', async () => {
    vi.useFakeTimers()
    const { manager, transport } = await lateSetup({ reconnectRetries: 3, reconnectRetryInterval: 100 }, { random: () => 0.5 })
    const connection = await manager.dial('/ip4/198.51.100.1/tcp/1')
    const kept = await manager.dial('/ip4/198.51.100.2/tcp/1', { keepAlive: true })
    connection.raw.remoteClose()
    kept.raw.remoteClose()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(transport.dialled.filter(address => address === '/ip4/198.51.100.1/tcp/1')).toHaveLength(1)
    expect(transport.dialled.filter(address => address === '/ip4/198.51.100.2/tcp/1').length).toBeGreaterThan(1)
  })
})
