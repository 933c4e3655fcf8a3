import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DialQueueFullError } from '../src/dial-queue.ts'
import { DialDeniedError, DialTimeoutError, NotStartedError } from '../src/errors.ts'
import { createConnectionManager } from '../src/manager.ts'
import { MemoryTransport } from './helpers/memory-transport.ts'
import type { ConnectionManagerEvents } from '../src/events.ts'
import type { ConnectionManager } from '../src/manager.ts'
import type { ConnectionManagerInit, ManagedConnection } from '../src/types.ts'
import type { MemoryConnection } from './helpers/memory-transport.ts'
import type { ConnectionConfigInit } from '@cm/config'

const managers: Array<ConnectionManager<MemoryConnection>> = []
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.stop()
  vi.useRealTimers()
})

async function setup (config: ConnectionConfigInit = {}, init: Partial<ConnectionManagerInit<MemoryConnection>> = {}): Promise<{ manager: ConnectionManager<MemoryConnection>, transport: MemoryTransport, opened: Array<ManagedConnection<MemoryConnection>> }> {
  const transport = new MemoryTransport()
  const opened: Array<ManagedConnection<MemoryConnection>> = []
  const manager = createConnectionManager({ transport, config, onConnection: connection => { opened.push(connection) }, ...init })
  managers.push(manager)
  await manager.start()
  await manager.listen('/ip4/127.0.0.1/tcp/4001')
  return { manager, transport, opened }
}

function collect<K extends keyof ConnectionManagerEvents> (manager: ConnectionManager<MemoryConnection>, type: K): Array<ConnectionManagerEvents[K]['detail']> {
  const details: Array<ConnectionManagerEvents[K]['detail']> = []
  manager.events.addEventListener(type, event => { details.push((event as CustomEvent<ConnectionManagerEvents[K]['detail']>).detail) })
  return details
}

const flush = async (): Promise<void> => { for (let index = 0; index < 5; index++) await new Promise(resolve => setImmediate(resolve)) }

describe('ConnectionManager - inbound admission', () => {
  it('admits in order: deny list, exclusive allow list, rate limit, pending limit, maxConnections', async () => {
    // One of each refusal, each from a source chosen to reach exactly that stage.
    const upgrades: Array<() => void> = []
    const { manager, transport } = await setup({
      denyList: ['10.0.0.0/8'],
      allowList: ['10.0.0.0/8', '192.0.2.0/24'],
      maxIncomingPendingConnections: 2,
      inboundConnectionThreshold: 1,
      maxConnections: 3
    }, {
      upgrade: async () => { await new Promise<void>(resolve => { upgrades.push(resolve) }) }
    })
    const denied = collect(manager, 'connection:deny')
    transport.inject('10.1.2.3') // deny list (also on the allow list: deny wins)
    transport.inject('198.51.100.1') // not on the allow list
    transport.inject('192.0.2.1') // admitted, pending
    transport.inject('192.0.2.1') // same host again: pending 1 < 2, but the rate limit (1/s) refuses
    transport.inject('192.0.2.2') // admitted, pending (2 of 2)
    transport.inject('192.0.2.3') // pending limit
    expect(denied.map(detail => [detail.remoteIp, detail.reason])).toEqual([
      ['10.1.2.3', 'deny-list'],
      ['198.51.100.1', 'not-allow-listed'],
      ['192.0.2.1', 'rate-limit'],
      ['192.0.2.3', 'pending-limit']
    ])
    expect(denied[0]?.rule).toBe('10.0.0.0/8')
    expect(denied[2]?.retryAfterMs).toBeGreaterThan(0)
    // Open the two pending: 2 open; a third fits (3 = maxConnections), a fourth does not.
    for (const release of upgrades.splice(0)) release()
    await flush()
    transport.inject('192.0.2.4')
    transport.inject('192.0.2.5')
    expect(denied.at(-1)).toMatchObject({ remoteIp: '192.0.2.5', reason: 'max-connections' })
    for (const release of upgrades.splice(0)) release()
    await flush()
    expect(manager.connections.count({ state: 'open' })).toBe(3)
    expect(manager.metrics().refused).toMatchObject({ 'deny-list': 1, 'not-allow-listed': 1, 'rate-limit': 1, 'pending-limit': 1, 'max-connections': 1 })
    // Every refused connection was destroyed at once.
    expect(transport.connections.filter(connection => connection.aborted).map(connection => connection.remote.ip)).toEqual(['10.1.2.3', '198.51.100.1', '192.0.2.1', '192.0.2.3', '192.0.2.5'])
  })

  it('exempts trusted addresses from the pending limit, the rate limit and maxConnections', async () => {
    const { manager, transport } = await setup({ trustedList: ['192.0.2.0/24'], maxConnections: 1, maxConnectionsPerPeer: 1, inboundConnectionThreshold: 0, maxIncomingPendingConnections: 1 })
    for (let index = 1; index <= 3; index++) transport.inject(`192.0.2.${index}`)
    transport.inject('198.51.100.1')
    await flush()
    expect(manager.connections.count({ state: 'open' })).toBe(3)
    expect(manager.metrics().refused['rate-limit']).toBe(1)
  })

  it('refuses inbound connections while stopped', async () => {
    const transport = new MemoryTransport()
    const manager = createConnectionManager({ transport })
    const denied = collect(manager, 'connection:deny')
    const raw = transport.inject('192.0.2.1')
    await expect(manager.accept(raw)).resolves.toMatchObject({ outcome: 'refused', refusal: { reason: 'not-started', direction: 'inbound', remoteIp: '192.0.2.1' } })
    expect(raw.aborted).toBe(true)
    expect(denied.map(detail => detail.reason)).toEqual(['not-started'])
  })

  it('releases the pending count on every path: open, upgrade failure, upgrade timeout, remote close, stop', async () => {
    vi.useFakeTimers()
    let behaviour: 'resolve' | 'reject' | 'hang' = 'resolve'
    const { manager, transport } = await setup({ inboundUpgradeTimeout: 1_000, maxIncomingPendingConnections: 5 }, {
      upgrade: async (_raw, { signal }) => {
        if (behaviour === 'resolve') return
        if (behaviour === 'reject') throw new Error('bad handshake')
        await new Promise((_resolve, reject) => { signal.addEventListener('abort', () => { reject(signal.reason) }) })
      }
    })
    transport.inject('192.0.2.1')
    behaviour = 'reject'
    transport.inject('192.0.2.2')
    behaviour = 'hang'
    transport.inject('192.0.2.3') // times out
    const closedRemotely = transport.inject('192.0.2.4') // the remote leaves while pending
    await vi.advanceTimersByTimeAsync(0)
    expect(manager.metrics().pendingInbound.total).toBe(2)
    closedRemotely.remoteClose()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(manager.metrics().pendingInbound).toEqual({ total: 0, limited: 0, evicted: 0 })
    const reasons = manager.connections.history().map(record => [record.remoteIp, record.closeReason])
    expect(reasons).toEqual([['192.0.2.2', 'error'], ['192.0.2.4', 'remote'], ['192.0.2.3', 'timeout']])
    expect(manager.connections.count({ state: 'open' })).toBe(1)
  })
})

describe('ConnectionManager - accept() outcomes', () => {
  it('returns the open connection, the refusal with its reason, or the closed record', async () => {
    const peer = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
    let handshake: 'ok' | 'peer' | 'fail' = 'ok'
    const transport = new MemoryTransport()
    const manager = createConnectionManager({
      transport,
      config: { denyList: ['203.0.113.0/24', peer] },
      upgrade: async () => {
        if (handshake === 'fail') throw new Error('bad handshake')
        return handshake === 'peer' ? { peer } : {}
      }
    })
    managers.push(manager)
    await manager.start()
    const open = await manager.accept(new MemoryTransport().inject('192.0.2.1'))
    expect(open.outcome).toBe('open')
    expect(open.outcome === 'open' ? open.connection.record.state : undefined).toBe('open')
    await expect(manager.accept(transport.inject('203.0.113.5'))).resolves.toMatchObject({ outcome: 'refused', refusal: { reason: 'deny-list', rule: '203.0.113.0/24' } })
    handshake = 'peer'
    await expect(manager.accept(transport.inject('192.0.2.2'))).resolves.toMatchObject({ outcome: 'refused', refusal: { reason: 'peer-denied', peer } })
    handshake = 'fail'
    const failed = await manager.accept(transport.inject('192.0.2.3'))
    expect(failed.outcome).toBe('closed')
    expect(failed.outcome === 'closed' ? [failed.record.state, failed.record.closeReason, failed.record.closeError?.message] : []).toEqual(['closed', 'error', 'bad handshake'])
  })
})

describe('ConnectionManager - observeAdmissions()', () => {
  it('tells every observer of each admitted inbound connection, with its trusted flag, as connection:pending does', async () => {
    const { manager, transport } = await setup({ denyList: ['203.0.113.0/24'], trustedList: ['192.0.2.9'], inboundConnectionThreshold: 1 })
    const seen: Array<[string | undefined, boolean]> = []
    const also: string[] = []
    manager.observeAdmissions((remote, trusted) => { seen.push([remote.ip, trusted]) })
    manager.observeAdmissions(remote => { also.push(remote.multiaddr) })
    const pending = collect(manager, 'connection:pending')
    transport.inject('192.0.2.1') // admitted
    transport.inject('192.0.2.1') // refused by the rate limit: not told
    transport.inject('203.0.113.7') // refused by the deny list: not told
    transport.inject('192.0.2.9') // trusted
    transport.inject('192.0.2.9') // trusted hosts are exempt from the rate limit
    await flush()
    expect(seen).toEqual([['192.0.2.1', false], ['192.0.2.9', true], ['192.0.2.9', true]])
    expect(also).toHaveLength(3)
    expect(pending.filter(detail => detail.connection.direction === 'inbound').map(detail => detail.connection.remoteIp)).toEqual(seen.map(([ip]) => ip))
  })

  it('is told before the upgrade, not of dials, and no longer once removed (idempotent)', async () => {
    const seen: string[] = []
    let upgraded = 0
    const { manager, transport } = await setup({}, { upgrade: async () => { upgraded++ } })
    const remove = manager.observeAdmissions(remote => { seen.push(`${remote.ip ?? ''} after ${upgraded} upgrades`) })
    transport.inject('192.0.2.1')
    await flush()
    const connection = await manager.dial('/ip4/198.51.100.1/tcp/4001')
    remove()
    remove()
    transport.inject('192.0.2.2')
    await flush()
    expect(seen).toEqual(['192.0.2.1 after 0 upgrades'])
    await connection.close()
  })

  it('the same function registered twice is called twice; removing one registration leaves the other', async () => {
    const { manager, transport } = await setup()
    let calls = 0
    const observer = (): void => { calls++ }
    const first = manager.observeAdmissions(observer)
    manager.observeAdmissions(observer)
    transport.inject('192.0.2.1')
    first()
    transport.inject('192.0.2.2')
    await flush()
    expect(calls).toBe(3)
  })

  it('an observer that throws is reported and neither the connection nor the other observers suffer', async () => {
    const errors: unknown[] = []
    const { manager, transport, opened } = await setup({}, { onListenerError: error => { errors.push(error) } })
    const remove = manager.observeAdmissions(() => { throw new Error('observer bug') })
    let told = 0
    manager.observeAdmissions(() => { told++ })
    transport.inject('192.0.2.1')
    remove() // now alone: the manager calls it without a wrapper
    manager.observeAdmissions(() => { throw new Error('lone observer bug') })
    transport.inject('192.0.2.2')
    await flush()
    expect(opened).toHaveLength(2)
    expect(told).toBe(2)
    expect(errors.map(error => (error as Error).message)).toEqual(['observer bug', 'lone observer bug'])
  })

  it('refuses what is not a function, naming the argument', () => {
    const manager = createConnectionManager({ transport: new MemoryTransport() })
    let thrown: unknown
    try {
      manager.observeAdmissions('count' as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({ name: 'InvalidConfigError' })
    expect((thrown as Error).message).toContain('`observer`')
  })
})

describe('ConnectionManager - dialling', () => {
  it('consults the gate before any socket is opened, in either direction', async () => {
    const { manager, transport } = await setup({ denyList: ['203.0.113.0/24'] })
    const denied = collect(manager, 'connection:deny')
    await expect(manager.dial('/ip4/203.0.113.5/tcp/1')).rejects.toBeInstanceOf(DialDeniedError)
    expect(transport.dialled).toEqual([])
    expect(denied).toMatchObject([{ direction: 'outbound', reason: 'deny-list', rule: '203.0.113.0/24' }])
  })

  it('runs at most maxParallelDials, queues maxDialQueueLength, refuses beyond', async () => {
    const { manager, transport } = await setup({ maxParallelDials: 2, maxDialQueueLength: 1 })
    for (let index = 1; index <= 4; index++) transport.dialBehaviour.set(`/ip4/192.0.2.${index}/tcp/1`, 'hang')
    const dials = [1, 2, 3].map(index => manager.dial(`/ip4/192.0.2.${index}/tcp/1`))
    for (const dial of dials) dial.catch(() => {})
    await flush()
    await expect(manager.dial('/ip4/192.0.2.4/tcp/1')).rejects.toBeInstanceOf(DialQueueFullError)
    expect(transport.maxInFlight).toBe(2)
    expect(manager.metrics().dialQueue).toMatchObject({ running: 2, queued: 1, refused: 1 })
  })

  it('joins concurrent dials to the same address or peer into one connection', async () => {
    const { manager, transport } = await setup()
    const peer = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
    const [a, b, c] = await Promise.all([
      manager.dial(`/ip4/192.0.2.1/tcp/1/p2p/${peer}`),
      manager.dial('/ip4/192.0.2.1/tcp/2', { peer }),
      manager.dial(`/ip4/192.0.2.1/tcp/1/p2p/${peer}`)
    ])
    expect(a).toBe(b)
    expect(b).toBe(c)
    expect(transport.dialled).toHaveLength(1)
    expect(a.record.peer).toBe(peer)
  })

  it('applies dialTimeout to every attempt and closes the record with reason timeout', async () => {
    vi.useFakeTimers()
    const { manager, transport } = await setup({ dialTimeout: 500 })
    transport.dialBehaviour.set('/ip4/192.0.2.1/tcp/1', 'hang')
    const dial = manager.dial('/ip4/192.0.2.1/tcp/1')
    const outcome = expect(dial).rejects.toBeInstanceOf(DialTimeoutError)
    await vi.advanceTimersByTimeAsync(500)
    await outcome
    expect(manager.connections.history().map(record => record.closeReason)).toEqual(['timeout'])
    expect(manager.metrics().dialFailures).toBe(1)
  })

  it('cancels a queued or running dial with the caller\'s signal', async () => {
    const { manager, transport } = await setup({ maxParallelDials: 1 })
    transport.dialBehaviour.set('/ip4/192.0.2.1/tcp/1', 'hang')
    const running = new AbortController()
    const queued = new AbortController()
    const first = manager.dial('/ip4/192.0.2.1/tcp/1', { signal: running.signal })
    const second = manager.dial('/ip4/192.0.2.2/tcp/1', { signal: queued.signal })
    await flush()
    queued.abort(new Error('not needed'))
    await expect(second).rejects.toThrow('not needed')
    running.abort(new Error('changed my mind'))
    await expect(first).rejects.toThrow('changed my mind')
    await flush()
    expect(transport.dialled).toEqual(['/ip4/192.0.2.1/tcp/1'])
    expect(manager.metrics().dialQueue).toMatchObject({ running: 0, queued: 0 })
    expect(manager.connections.history().map(record => record.closeReason)).toEqual(['aborted'])
  })

  it('refuses to dial while stopped', async () => {
    const manager = createConnectionManager({ transport: new MemoryTransport() })
    await expect(manager.dial('/ip4/192.0.2.1/tcp/1')).rejects.toBeInstanceOf(NotStartedError)
  })
})

describe('ConnectionManager - limits and pruning', () => {
  it('prunes when outbound dials take the node over maxConnections, and reports it', async () => {
    const { manager, transport } = await setup({ maxConnections: 2, maxConnectionsPerPeer: 1 })
    const pruned = collect(manager, 'connection:prune')
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.2')
    await flush()
    const dialled = await manager.dial('/ip4/198.51.100.1/tcp/1')
    manager.tag(dialled, 'important', 50)
    await flush()
    expect(manager.connections.count({ state: 'open' })).toBe(2)
    expect(pruned).toHaveLength(1)
    expect(pruned[0]?.reason).toBe('max-connections')
    // least-valuable: untagged inbound, newest first.
    expect(pruned[0]?.connection.remoteIp).toBe('192.0.2.2')
    expect(manager.metrics().pruned['max-connections']).toBe(1)
  })

  it('prunes a peer over maxConnectionsPerPeer among its own connections', async () => {
    const peer = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
    const { manager, transport } = await setup({ maxConnectionsPerPeer: 2 }, { upgrade: async () => ({ peer }) })
    for (let index = 1; index <= 3; index++) transport.inject(`192.0.2.${index}`)
    await flush()
    expect(manager.connections.count({ state: 'open', peer })).toBe(2)
    expect(manager.metrics().pruned['max-connections-per-peer']).toBe(1)
  })

  it('closes a connection whose peer is denied once identified', async () => {
    const peer = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
    const { manager, transport, opened } = await setup({ denyList: [peer] }, { upgrade: async () => ({ peer }) })
    const denied = collect(manager, 'connection:deny')
    transport.inject('192.0.2.1')
    await flush()
    expect(opened).toHaveLength(0)
    expect(denied).toMatchObject([{ reason: 'peer-denied', peer }])
    expect(manager.connections.history().map(record => record.closeReason)).toEqual(['denied'])
  })

  it('lowering maxConnections at run time prunes at once', async () => {
    const { manager, transport } = await setup({ maxConnections: 10 })
    for (let index = 1; index <= 5; index++) transport.inject(`192.0.2.${index}`)
    await flush()
    expect(manager.updateConfig({ maxConnections: 3 })).toEqual(['maxConnections'])
    await flush()
    expect(manager.connections.count({ state: 'open' })).toBe(3)
  })

  it('adding a deny rule at run time closes the matching connections', async () => {
    const { manager, transport } = await setup()
    transport.inject('192.0.2.1')
    transport.inject('198.51.100.1')
    await flush()
    manager.updateConfig({ denyList: ['192.0.2.0/24'] })
    await flush()
    expect(manager.connections.list({ state: 'open' }).map(record => record.remoteIp)).toEqual(['198.51.100.1'])
    transport.inject('192.0.2.9')
    expect(manager.metrics().refused['deny-list']).toBe(2)
    // A ban at run time, with a ttl.
    expect(manager.deny('198.51.100.0/24', { ttl: 60_000 })).toBe(1)
  })

  it('keeps deny rules added at run time when the configured list changes', async () => {
    const { manager } = await setup({ denyList: ['192.0.2.0/24'] })
    manager.deny('203.0.113.7', { ttl: 60_000 })
    manager.updateConfig({ denyList: ['198.51.100.0/24'] })
    expect(manager.gate.rules('deny').map(rule => rule.text).sort()).toEqual(['198.51.100.0/24', '203.0.113.7'])
  })

  it('refuses an invalid runtime change whole, with every problem', async () => {
    const { manager } = await setup({ maxConnections: 10 })
    expect(() => manager.updateConfig({ maxConnections: 0, denyList: ['nope'] })).toThrow(/2 problems/)
    expect(manager.config.maxConnections).toBe(10)
  })
})

describe('ConnectionManager - closing', () => {
  beforeEach(() => { vi.useFakeTimers() })

  it('destroys a connection whose graceful close does not finish within connectionCloseTimeout, reason timeout', async () => {
    const { manager, transport, opened } = await setup({ connectionCloseTimeout: 1_000 })
    const raw = transport.inject('192.0.2.1')
    await vi.advanceTimersByTimeAsync(0)
    raw.closeBehaviour = 'hang'
    const closing = opened[0]!.close()
    expect(opened[0]!.record.state).toBe('closing')
    await vi.advanceTimersByTimeAsync(999)
    expect(raw.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await closing
    expect(raw.aborted).toBe(true)
    expect(opened[0]!.record.closeReason).toBe('timeout')
    expect(manager.metrics().closeTimeouts).toBe(1)
  })

  it('closes gracefully with the reason given', async () => {
    const { manager, transport, opened } = await setup()
    transport.inject('192.0.2.1')
    await vi.advanceTimersByTimeAsync(0)
    await manager.close(opened[0]!)
    expect(opened[0]!.record.closeReason).toBe('local')
    await manager.close(opened[0]!) // idempotent
  })
})

describe('ConnectionManager - reconnection', () => {
  beforeEach(() => { vi.useFakeTimers() })

  it('redials a keep-alive connection after an unexpected close, n-th retry after interval × factor^(n-1)', async () => {
    const { manager, transport } = await setup({ reconnectRetries: 3, reconnectRetryInterval: 1_000, reconnectBackoffFactor: 2 })
    const attempts = collect(manager, 'reconnect:attempt')
    const failures = collect(manager, 'reconnect:failure')
    const address = '/ip4/192.0.2.1/tcp/1'
    const connection = await manager.dial(address, { keepAlive: true })
    transport.dialBehaviour.set(address, 'refuse')
    connection.raw.remoteClose()
    await vi.advanceTimersByTimeAsync(0)
    expect(attempts.map(detail => [detail.attempt, detail.delayMs])).toEqual([[1, 1_000]])
    await vi.advanceTimersByTimeAsync(999)
    expect(transport.dialled).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(transport.dialled).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(transport.dialled).toHaveLength(3)
    await vi.advanceTimersByTimeAsync(4_000)
    expect(transport.dialled).toHaveLength(4)
    expect(attempts.map(detail => detail.delayMs)).toEqual([1_000, 2_000, 4_000])
    expect(failures).toMatchObject([{ address, attempts: 3 }])
    expect(manager.metrics().reconnects).toMatchObject({ attempts: 3, failures: 1, scheduled: 0 })
  })

  it('reports success and keeps the new connection alive', async () => {
    const { manager, transport } = await setup({ reconnectRetryInterval: 100 })
    const successes = collect(manager, 'reconnect:success')
    const connection = await manager.dial('/ip4/192.0.2.1/tcp/1', { keepAlive: true })
    connection.raw.remoteClose()
    await vi.advanceTimersByTimeAsync(100)
    expect(successes).toHaveLength(1)
    expect(successes[0]?.attempt).toBe(1)
    expect(transport.dialled).toHaveLength(2)
    // The new connection is kept alive too.
    transport.connections.at(-1)!.remoteClose()
    await vi.advanceTimersByTimeAsync(100)
    expect(transport.dialled).toHaveLength(3)
  })

  it('does not redial after a local close, a prune or a deny; stop() cancels pending redials', async () => {
    const { manager, transport } = await setup({ reconnectRetryInterval: 100 })
    const local = await manager.dial('/ip4/192.0.2.1/tcp/1', { keepAlive: true })
    await local.close()
    const denied = await manager.dial('/ip4/192.0.2.2/tcp/1', { keepAlive: true })
    manager.deny('192.0.2.2')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(denied.record.closeReason).toBe('denied')
    expect(transport.dialled).toHaveLength(2)
    const dropped = await manager.dial('/ip4/192.0.2.3/tcp/1', { keepAlive: true })
    dropped.raw.remoteClose()
    expect(manager.metrics().reconnects.scheduled).toBe(1)
    await manager.stop()
    expect(manager.metrics().reconnects.scheduled).toBe(0)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(transport.dialled).toHaveLength(3)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('adds jitter and caps the delay when configured', async () => {
    const { manager, transport } = await setup({ reconnectRetries: 4, reconnectRetryInterval: 1_000, reconnectMaxDelay: 3_000, reconnectJitter: 0.5 }, { random: () => 1 - Number.EPSILON })
    const attempts = collect(manager, 'reconnect:attempt')
    const address = '/ip4/192.0.2.1/tcp/1'
    const connection = await manager.dial(address, { keepAlive: true })
    transport.dialBehaviour.set(address, 'refuse')
    connection.raw.remoteClose()
    await vi.advanceTimersByTimeAsync(20_000)
    expect(attempts.map(detail => Math.round(detail.delayMs))).toEqual([500, 1_000, 1_500, 1_500])
  })
})

describe('ConnectionManager - lifecycle and events', () => {
  it('stop() closes everything it owns and leaves no timers; it is idempotent', async () => {
    vi.useFakeTimers()
    const { manager, transport } = await setup()
    transport.inject('192.0.2.1')
    transport.dialBehaviour.set('/ip4/192.0.2.9/tcp/1', 'hang')
    const dial = manager.dial('/ip4/192.0.2.9/tcp/1')
    dial.catch(() => {})
    await vi.advanceTimersByTimeAsync(0)
    await Promise.all([manager.stop(), manager.stop()])
    await expect(dial).rejects.toMatchObject({ name: 'ManagerStoppedError' })
    expect(manager.connections.size).toBe(0)
    expect(transport.connections.every(connection => connection.closed)).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
    await manager.stop()
  })

  it('a listener that throws does not break the manager', async () => {
    const errors: unknown[] = []
    const { manager, transport } = await setup({}, { onListenerError: error => { errors.push(error) }, onConnection: () => { throw new Error('app bug') } })
    manager.events.addEventListener('connection:open', () => { throw new Error('listener bug') })
    manager.events.addEventListener('connection:deny', () => { throw new Error('deny listener bug') })
    transport.inject('192.0.2.1')
    await flush()
    expect(manager.connections.count({ state: 'open' })).toBe(1)
    manager.deny('192.0.2.1')
    await flush()
    expect(manager.connections.count({ state: 'open' })).toBe(0)
    expect(errors.map(error => (error as Error).message).sort()).toEqual(['app bug', 'deny listener bug', 'listener bug'])
  })
})

describe('ConnectionManager - peer identity', () => {
  it('records the peer an upgrade returns before connection:open, so its listeners see it', async () => {
    const peer = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
    const { manager, transport } = await setup({}, { upgrade: async () => ({ peer }) })
    const seen: Array<string | undefined> = []
    manager.events.addEventListener('connection:open', event => { seen.push(event.detail.connection.peer) })
    transport.inject('192.0.2.1')
    await flush()
    expect(seen).toEqual([peer])
  })

  it('refuses a dialled connection whose upgrade names another peer than the one dialled', async () => {
    const expected = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
    const other = 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'
    const { manager, transport } = await setup({}, { upgrade: async () => ({ peer: other }) })
    await expect(manager.dial(`/ip4/192.0.2.1/tcp/1/p2p/${expected}`)).rejects.toMatchObject({ name: 'PeerMismatchError' })
    expect(transport.connections.at(-1)?.aborted).toBe(true)
    expect(manager.connections.size).toBe(0)
  })
})
