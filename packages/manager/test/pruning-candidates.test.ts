import { afterEach, describe, expect, it, vi } from 'vitest'
import { createConnectionManager } from '../src/manager.ts'
import { MemoryTransport } from './helpers/memory-transport.ts'
import type { ConnectionManager } from '../src/manager.ts'
import type { ConnectionManagerInit, ManagedConnection } from '../src/types.ts'
import type { MemoryConnection } from './helpers/memory-transport.ts'
import type { ConnectionConfigInit } from '@cm/config'

const managers: Array<ConnectionManager<MemoryConnection>> = []
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.stop()
  vi.useRealTimers()
})

async function started (config: ConnectionConfigInit, init: Partial<ConnectionManagerInit<MemoryConnection>> = {}): Promise<{ manager: ConnectionManager<MemoryConnection>, transport: MemoryTransport, opened: Array<ManagedConnection<MemoryConnection>> }> {
  const transport = new MemoryTransport()
  const opened: Array<ManagedConnection<MemoryConnection>> = []
  const manager = createConnectionManager({ transport, config: { maxConnectionsPerPeer: 1, ...config }, onConnection: connection => { opened.push(connection) }, ...init })
  managers.push(manager)
  await manager.start()
  await manager.listen('/ip4/127.0.0.1/tcp/4001')
  return { manager, transport, opened }
}

const flush = async (): Promise<void> => { for (let index = 0; index < 5; index++) await new Promise(resolve => setImmediate(resolve)) }
const openIps = (manager: ConnectionManager<MemoryConnection>): Array<string | undefined> => manager.connections.list({ state: 'open' }).map(record => record.remoteIp).sort()

describe('pruning candidates', () => {
  it('least-valuable keeps the connection whose tags sum highest', async () => {
    const { manager, transport, opened } = await started({ maxConnections: 10 })
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.2')
    transport.inject('192.0.2.3')
    await flush()
    const [single, pair] = opened
    manager.tag(single!, 'a', 10)
    manager.tag(pair!, 'a', 6)
    manager.tag(pair!, 'b', 6)
    manager.updateConfig({ maxConnections: 1 })
    await flush()
    expect(openIps(manager)).toEqual(['192.0.2.2'])
  })

  it('a trusted connection is never pruned', async () => {
    const { manager, transport, opened } = await started({ maxConnections: 10, trustedList: ['192.0.2.1'] })
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.2')
    await flush()
    manager.tag(opened[1]!, 'a', 100)
    manager.updateConfig({ maxConnections: 1 })
    await flush()
    expect(openIps(manager)).toEqual(['192.0.2.1'])
  })

  it('pending connections are not candidates', async () => {
    const { manager, transport, opened } = await started({ maxConnections: 10 }, {
      upgrade: async (raw, { signal }) => {
        if (raw.remote.ip !== '192.0.2.1') return
        await new Promise<void>((_resolve, reject) => { signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true }) })
      }
    })
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.2')
    transport.inject('192.0.2.3')
    await flush()
    manager.tag(opened[0]!, 'a', 5)
    manager.tag(opened[1]!, 'a', 1)
    manager.updateConfig({ maxConnections: 1 })
    await flush()
    expect(openIps(manager)).toEqual(['192.0.2.2'])
    expect(manager.connections.count({ state: 'pending' })).toBe(1)
  })

  it('a peer\'s closing connections are not candidates when its surplus is pruned', async () => {
    const { manager, transport, opened } = await started({ maxConnections: 10 })
    const closing = transport.inject('192.0.2.1')
    transport.inject('192.0.2.2')
    transport.inject('192.0.2.3')
    await flush()
    closing.closeBehaviour = 'hang'
    manager.identify(opened[0]!, 'QmPeer')
    void opened[0]!.close()
    manager.tag(opened[1]!, 'a', 5)
    manager.tag(opened[2]!, 'a', 1)
    manager.identify(opened[1]!, 'QmPeer')
    manager.identify(opened[2]!, 'QmPeer') // one over maxConnectionsPerPeer
    await flush()
    expect(openIps(manager)).toEqual(['192.0.2.2'])
    closing.finishClose()
  })

  it('oldest measures age from when a connection opened, not from when it was accepted', async () => {
    vi.useFakeTimers()
    const transport = new MemoryTransport()
    const finishers = new Map<string, () => void>()
    const manager = createConnectionManager({
      transport,
      config: { maxConnections: 10, maxConnectionsPerPeer: 1, pruneStrategy: 'oldest', inboundUpgradeTimeout: 60_000 },
      upgrade: async (raw) => { await new Promise<void>(resolve => { finishers.set(raw.remote.ip ?? '', resolve) }) }
    })
    managers.push(manager)
    await manager.start()
    await manager.listen('/ip4/127.0.0.1/tcp/4001')
    transport.inject('192.0.2.1') // accepted first, opens last
    await vi.advanceTimersByTimeAsync(1_000)
    transport.inject('192.0.2.2')
    await vi.advanceTimersByTimeAsync(500)
    finishers.get('192.0.2.2')?.()
    await vi.advanceTimersByTimeAsync(1_500)
    finishers.get('192.0.2.1')?.()
    await vi.advanceTimersByTimeAsync(600_000)
    manager.updateConfig({ maxConnections: 1 })
    await vi.advanceTimersByTimeAsync(0)
    expect(openIps(manager)).toEqual(['192.0.2.1'])
  })

  it('a record added straight to the tracker does not stop a pruning pass', async () => {
    const { manager, transport } = await started({ maxConnections: 10 })
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.2')
    await flush()
    const foreign = manager.connections.add({ direction: 'inbound', remoteAddress: '/ip4/203.0.113.1/tcp/1' })
    manager.connections.open(foreign.id)
    manager.connections.tag(foreign.id, 'a', 100)
    manager.updateConfig({ maxConnections: 1 })
    await flush()
    expect(openIps(manager)).toEqual(['203.0.113.1'])
  })

  it('a custom strategy sees no peer field on a candidate whose peer is unknown', async () => {
    const seen: boolean[] = []
    const { transport } = await started({ maxConnections: 10, pruneHighWatermark: 2, pruneLowWatermark: 1 }, {
      pruneStrategy: { score: candidate => { seen.push(Object.hasOwn(candidate, 'peer')); return 0 } }
    })
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.2')
    transport.inject('192.0.2.3')
    await flush()
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.filter(hasPeer => hasPeer)).toEqual([])
  })
})
