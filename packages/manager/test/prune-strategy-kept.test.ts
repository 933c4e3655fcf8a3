import { afterEach, describe, expect, it } from 'vitest'
import { createConnectionManager } from '../src/manager.ts'
import { MemoryTransport } from './helpers/memory-transport.ts'
import type { ConnectionManager } from '../src/manager.ts'
import type { MemoryConnection } from './helpers/memory-transport.ts'

const managers: Array<ConnectionManager<MemoryConnection>> = []
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.stop()
})

const flush = async (): Promise<void> => { for (let index = 0; index < 5; index++) await new Promise(resolve => setImmediate(resolve)) }

describe('a custom pruneStrategy given at creation', () => {
  it('still chooses the connection pruned after updateConfig() changed other options', async () => {
    // Lowest score first: the oldest inbound connection, which least-valuable would keep.
    let favoured = -1
    const transport = new MemoryTransport()
    const opened: number[] = []
    const manager = createConnectionManager({
      transport,
      config: { maxConnections: 3, maxConnectionsPerPeer: 1 },
      pruneStrategy: { score: candidate => candidate.id === favoured ? -1 : 0 },
      onConnection: connection => { opened.push(connection.id) }
    })
    managers.push(manager)
    await manager.start()
    await manager.listen('/ip4/127.0.0.1/tcp/4001')
    const pruned: string[] = []
    manager.events.addEventListener('connection:prune', event => { pruned.push(event.detail.connection.remoteIp ?? '') })
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) transport.inject(ip)
    await flush()
    favoured = opened[0] ?? -1
    // Lowering maxConnections prunes at once: with the strategy kept, the favoured one goes.
    expect(manager.updateConfig({ maxConnections: 2 })).toEqual(['maxConnections'])
    await flush()
    expect(pruned).toEqual(['192.0.2.1'])
  })
})
