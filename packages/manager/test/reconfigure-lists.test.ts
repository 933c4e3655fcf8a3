import { afterEach, describe, expect, it } from 'vitest'
import { createConnectionManager } from '../src/manager.ts'
import { MemoryTransport } from './helpers/memory-transport.ts'
import type { ConnectionManager } from '../src/manager.ts'
import type { MemoryConnection } from './helpers/memory-transport.ts'
import type { ConnectionConfigInit } from '@cm/config'

const managers: Array<ConnectionManager<MemoryConnection>> = []
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.stop()
})

async function started (config: ConnectionConfigInit = {}): Promise<{ manager: ConnectionManager<MemoryConnection>, transport: MemoryTransport }> {
  const transport = new MemoryTransport()
  const manager = createConnectionManager({ transport, config })
  managers.push(manager)
  await manager.start()
  await manager.listen('/ip4/127.0.0.1/tcp/4001')
  return { manager, transport }
}

const flush = async (): Promise<void> => { for (let index = 0; index < 5; index++) await new Promise(resolve => setImmediate(resolve)) }
const openIps = (manager: ConnectionManager<MemoryConnection>): Array<string | undefined> => manager.connections.list({ state: 'open' }).map(record => record.remoteIp).sort()
const texts = (manager: ConnectionManager<MemoryConnection>, list: 'deny' | 'allow' | 'trusted'): string[] => manager.gate.rules(list).map(rule => rule.text).sort()

describe('.updateConfig() - gate lists', () => {
  it('an allow list entry added at run time goes to the allow list only', async () => {
    const { manager } = await started()
    manager.updateConfig({ allowList: ['192.0.2.0/24'] })
    expect(texts(manager, 'allow')).toEqual(['192.0.2.0/24'])
    expect(texts(manager, 'deny')).toEqual([])
    expect(texts(manager, 'trusted')).toEqual([])
  })

  it('a trusted list entry added at run time goes to the trusted list only', async () => {
    const { manager } = await started()
    manager.updateConfig({ trustedList: ['192.0.2.0/24'] })
    expect(texts(manager, 'trusted')).toEqual(['192.0.2.0/24'])
    expect(texts(manager, 'deny')).toEqual([])
    expect(texts(manager, 'allow')).toEqual([])
  })

  it('entries kept across a change stay, once each; entries dropped go', async () => {
    const { manager } = await started({ denyList: ['192.0.2.0/24', '198.51.100.0/24'], allowList: ['203.0.113.0/24'] })
    manager.updateConfig({ denyList: ['192.0.2.0/24', '203.0.113.7'] })
    expect(texts(manager, 'deny')).toEqual(['192.0.2.0/24', '203.0.113.7'])
    expect(texts(manager, 'allow')).toEqual(['203.0.113.0/24'])
  })

  it('an entry removed from the gate at run time stays removed while the configured list keeps it', async () => {
    const { manager } = await started({ denyList: ['192.0.2.0/24', '198.51.100.0/24'] })
    manager.gate.remove('deny', '192.0.2.0/24')
    manager.updateConfig({ denyList: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.7'] })
    expect(texts(manager, 'deny')).toEqual(['198.51.100.0/24', '203.0.113.7'])
  })

  it('a deny list direction change applies to the deny list', async () => {
    const { manager, transport } = await started({ denyList: ['192.0.2.0/24'] })
    manager.updateConfig({ denyListDirection: 'outbound' })
    transport.inject('192.0.2.1')
    await flush()
    expect(openIps(manager)).toEqual(['192.0.2.1'])
    expect(manager.gate.check('192.0.2.1', { direction: 'outbound' }).allowed).toBe(false)
  })

  it('an allow list direction change applies to the allow list', async () => {
    const { manager, transport } = await started({ allowList: ['192.0.2.0/24'] })
    manager.updateConfig({ allowListDirection: 'outbound' })
    transport.inject('198.51.100.1')
    await flush()
    expect(openIps(manager)).toEqual(['198.51.100.1'])
    expect(manager.gate.check('198.51.100.1', { direction: 'outbound' }).allowed).toBe(false)
  })

  it('a change to other options leaves the gate\'s directions as they are', async () => {
    const { manager, transport } = await started({ denyList: ['192.0.2.0/24'], allowList: ['192.0.2.0/24', '198.51.100.0/24'] })
    manager.gate.setDirection('deny', 'outbound')
    manager.gate.setDirection('allow', 'outbound')
    manager.updateConfig({ maxConnections: 50 })
    transport.inject('192.0.2.1')
    transport.inject('203.0.113.1')
    await flush()
    expect(openIps(manager)).toEqual(['192.0.2.1', '203.0.113.1'])
  })

  it('a change to other options does not close connections', async () => {
    const { manager, transport } = await started()
    transport.inject('192.0.2.1')
    await flush()
    manager.gate.deny('192.0.2.1') // straight on the gate: no closing
    manager.updateConfig({ maxConnections: 50 })
    await flush()
    expect(openIps(manager)).toEqual(['192.0.2.1'])
  })

  it('narrowing the allow list closes the connections it no longer admits', async () => {
    const { manager, transport } = await started()
    transport.inject('192.0.2.1')
    transport.inject('198.51.100.1')
    await flush()
    manager.updateConfig({ allowList: ['198.51.100.0/24'] })
    await flush()
    expect(openIps(manager)).toEqual(['198.51.100.1'])
  })

  it('turning the deny list to inbound closes the connections it now refuses', async () => {
    const { manager, transport } = await started({ denyList: ['192.0.2.0/24'], denyListDirection: 'outbound' })
    transport.inject('192.0.2.1')
    await flush()
    expect(openIps(manager)).toEqual(['192.0.2.1'])
    manager.updateConfig({ denyListDirection: 'both' })
    await flush()
    expect(openIps(manager)).toEqual([])
  })

  it('turning the allow list to inbound closes the connections it now refuses', async () => {
    const { manager, transport } = await started({ allowList: ['198.51.100.0/24'], allowListDirection: 'outbound' })
    transport.inject('192.0.2.1')
    await flush()
    expect(openIps(manager)).toEqual(['192.0.2.1'])
    manager.updateConfig({ allowListDirection: 'both' })
    await flush()
    expect(openIps(manager)).toEqual([])
  })
})
