import { afterEach, describe, expect, it } from 'vitest'
import { createConnectionManager } from '../src/manager.ts'
import { MemoryTransport } from './helpers/memory-transport.ts'
import type { ConnectionManager } from '../src/manager.ts'
import type { ManagedConnection } from '../src/index.ts'
import type { MemoryConnection } from './helpers/memory-transport.ts'

const managers: Array<ConnectionManager<MemoryConnection>> = []
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.stop()
})

const settle = async (): Promise<void> => { for (let round = 0; round < 5; round++) await new Promise(resolve => setImmediate(resolve)) }

/**
 * Three inbound connections, then maxConnections lowered to 2, so one is pruned. The lowest
 * score goes first; scoring the second connection also closes it, as an application might
 * between the pruner's choice and its close. `closeBehaviour: 'hang'` keeps it closing, still
 * in the table; 'finish' lets it leave the table before the pruner reaches it.
 */
async function pruneWhileTheFirstChoiceCloses (closeBehaviour: MemoryConnection['closeBehaviour']): Promise<{ manager: ConnectionManager<MemoryConnection>, pruned: string[], doomedId: number }> {
  const transport = new MemoryTransport()
  const opened: Array<ManagedConnection<MemoryConnection>> = []
  const chosen: { doomed?: ManagedConnection<MemoryConnection> | undefined } = {}
  const manager = createConnectionManager({
    transport,
    config: { maxConnections: 3, maxConnectionsPerPeer: 1 },
    pruneStrategy: {
      score: candidate => {
        const doomed = chosen.doomed
        if (candidate.id !== doomed?.id) return Number(candidate.id)
        doomed.raw.closeBehaviour = closeBehaviour
        void doomed.close()
        return -1
      }
    },
    onConnection: connection => { opened.push(connection) }
  })
  managers.push(manager)
  await manager.start()
  await manager.listen('/ip4/127.0.0.1/tcp/4001')
  const pruned: string[] = []
  manager.events.addEventListener('connection:prune', event => { pruned.push(event.detail.connection.remoteIp ?? '') })
  for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) transport.inject(ip)
  await settle()
  chosen.doomed = opened[1]
  manager.updateConfig({ maxConnections: 2 })
  await settle()
  return { manager, pruned, doomedId: chosen.doomed?.id ?? -1 }
}

describe('a prune victim that stopped being open before the pruner reached it', () => {
  it('is neither counted nor announced as pruned while it closes, and the next candidate goes instead', async () => {
    const { manager, pruned, doomedId } = await pruneWhileTheFirstChoiceCloses('hang')
    expect(pruned).toEqual(['192.0.2.1'])
    expect(Object.values(manager.metrics().pruned).reduce((sum, count) => sum + count, 0)).toBe(1)
    expect(manager.connections.count({ state: 'open' })).toBe(1)
    expect(manager.connections.get(doomedId)?.state).toBe('closing')
  })

  it('is skipped when its close already finished and it left the table', async () => {
    const { manager, pruned, doomedId } = await pruneWhileTheFirstChoiceCloses('finish')
    expect(pruned).toEqual(['192.0.2.1'])
    expect(manager.connections.get(doomedId)?.state ?? 'gone').not.toBe('open')
    expect(manager.connections.count({ state: 'open' })).toBe(1)
  })
})
