import { afterEach, describe, expect, it } from 'vitest'
import { DialDeniedError } from '../src/errors.ts'
import { details, lateManagers, lateSetup, OTHER_PEER, PEER, settle } from './helpers/late-setup.ts'

afterEach(async () => {
  for (const manager of lateManagers.splice(0)) await manager.stop()
})

describe('ConnectionManager.updateConfig() - what a caller sees', () => {
  it('a change that changes nothing returns [] and announces nothing', async () => {
    const { manager } = await lateSetup({ maxConnections: 10 })
    const changes = details(manager, 'config:change')
    expect(manager.updateConfig({ maxConnections: 10 })).toEqual([])
    expect(changes).toEqual([])
  })

  it('announces a change with the new config and the options that changed', async () => {
    const { manager } = await lateSetup({ maxConnections: 10 })
    const changes = details(manager, 'config:change')
    manager.updateConfig({ maxConnections: 20 })
    expect(changes).toHaveLength(1)
    expect(changes[0]?.changed).toEqual(['maxConnections'])
    expect(changes[0]?.config.maxConnections).toBe(20)
  })

  it('keeps the rate limiter (and who it refuses) when neither threshold nor rateLimit changes', async () => {
    const { manager, transport } = await lateSetup({ inboundConnectionThreshold: 1 })
    const denied = details(manager, 'connection:deny')
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.1')
    expect(denied.map(detail => detail.reason)).toEqual(['rate-limit'])
    manager.updateConfig({ maxConnections: 50 })
    transport.inject('192.0.2.1')
    expect(denied.map(detail => detail.reason)).toEqual(['rate-limit', 'rate-limit'])
  })

  it('a new inboundConnectionThreshold takes effect at once', async () => {
    const { manager, transport } = await lateSetup({ inboundConnectionThreshold: 1 })
    const denied = details(manager, 'connection:deny')
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.1')
    expect(denied).toHaveLength(1)
    manager.updateConfig({ inboundConnectionThreshold: 5 })
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.1')
    expect(denied).toHaveLength(1)
  })

  it('a new rateLimit section takes effect at once', async () => {
    const { manager, transport } = await lateSetup({ inboundConnectionThreshold: 1 })
    const denied = details(manager, 'connection:deny')
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.1')
    expect(denied).toHaveLength(1)
    manager.updateConfig({ rateLimit: { enabled: false } })
    expect(manager.metrics().rateLimit.enabled).toBe(false)
    transport.inject('192.0.2.1')
    expect(denied).toHaveLength(1)
  })

  it('new dial limits take effect at once', async () => {
    const { manager, transport } = await lateSetup({ maxParallelDials: 10 })
    manager.updateConfig({ maxParallelDials: 1 })
    transport.dialBehaviour.set('/ip4/198.51.100.1/tcp/1', 'hang')
    transport.dialBehaviour.set('/ip4/198.51.100.2/tcp/1', 'hang')
    const controller = new AbortController()
    const dials = [manager.dial('/ip4/198.51.100.1/tcp/1', { signal: controller.signal }), manager.dial('/ip4/198.51.100.2/tcp/1', { signal: controller.signal })]
    await settle()
    expect(transport.maxInFlight).toBe(1)
    controller.abort()
    await Promise.allSettled(dials)
  })

  it('with closeDeniedConnections false, a new deny rule leaves open connections open', async () => {
    const { manager, transport } = await lateSetup({}, { closeDeniedConnections: false })
    transport.inject('192.0.2.1')
    await settle()
    manager.updateConfig({ denyList: ['192.0.2.0/24'] })
    await settle()
    expect(manager.connections.count({ state: 'open' })).toBe(1)
    expect(manager.deny('192.0.2.1')).toBe(0)
  })

  it('a narrower allow list closes the connections it no longer admits, reason not-allow-listed', async () => {
    const { manager, transport } = await lateSetup()
    const denied = details(manager, 'connection:deny')
    transport.inject('192.0.2.1')
    await settle()
    manager.updateConfig({ allowList: ['198.51.100.0/24'] })
    await settle()
    expect(denied.map(detail => detail.reason)).toEqual(['not-allow-listed'])
    expect(manager.connections.count({ state: 'open' })).toBe(0)
  })
})

describe('ConnectionManager.deny() - closing at run time', () => {
  it('denying a peer closes its connections, reason peer-denied', async () => {
    const { manager, transport } = await lateSetup({}, { upgrade: async () => ({ peer: PEER }) })
    const denied = details(manager, 'connection:deny')
    transport.inject('192.0.2.1')
    await settle()
    expect(manager.deny(PEER)).toBe(1)
    expect(denied).toMatchObject([{ reason: 'peer-denied', peer: PEER, rule: PEER, remoteIp: '192.0.2.1' }])
    await settle()
    expect(manager.connections.history().map(record => record.closeReason)).toEqual(['denied'])
  })

  it('denying the address of an identified connection reports deny-list, not peer-denied', async () => {
    const { manager, transport } = await lateSetup({}, { upgrade: async () => ({ peer: PEER }) })
    const denied = details(manager, 'connection:deny')
    transport.inject('192.0.2.1')
    await settle()
    expect(manager.deny('192.0.2.1')).toBe(1)
    expect(denied).toMatchObject([{ reason: 'deny-list', peer: PEER, rule: '192.0.2.1' }])
  })

  it('closes a pending connection the new rule matches', async () => {
    const { manager, transport } = await lateSetup({}, { upgrade: async (_raw, { signal }) => await new Promise((_resolve, reject) => { signal.addEventListener('abort', () => { reject(signal.reason) }) }) })
    const raw = transport.inject('192.0.2.1')
    await settle()
    expect(manager.deny('192.0.2.1')).toBe(1)
    await settle()
    expect(raw.aborted).toBe(true)
    expect(manager.connections.history().map(record => record.closeReason)).toEqual(['denied'])
  })

  it('does not count nor report again a connection already closing', async () => {
    const { manager, transport, opened } = await lateSetup()
    const raw = transport.inject('192.0.2.1')
    await settle()
    raw.closeBehaviour = 'hang'
    const closing = opened[0]!.close()
    const denied = details(manager, 'connection:deny')
    expect(manager.deny('192.0.2.1')).toBe(0)
    expect(denied).toEqual([])
    raw.finishClose()
    await closing
  })
})

describe('ConnectionManager - peer rules', () => {
  it('identify() of a denied peer returns false and closes the connection', async () => {
    const { manager, transport, opened } = await lateSetup({ denyList: [PEER] })
    transport.inject('192.0.2.1')
    await settle()
    expect(manager.identify(opened[0]!, PEER)).toBe(false)
    await settle()
    expect(manager.connections.history().map(record => record.closeReason)).toEqual(['denied'])
  })

  it('identify() of an allowed peer returns true', async () => {
    const { manager, transport, opened } = await lateSetup({ denyList: [OTHER_PEER] })
    transport.inject('192.0.2.1')
    await settle()
    expect(manager.identify(opened[0]!, PEER)).toBe(true)
  })

  it('with closeDeniedConnections false, an address denied during the upgrade still opens', async () => {
    const upgrades: Array<() => void> = []
    const { manager, transport, opened } = await lateSetup({}, { closeDeniedConnections: false, upgrade: async () => { await new Promise<void>(resolve => { upgrades.push(resolve) }) } })
    transport.inject('192.0.2.1')
    await settle()
    manager.deny('192.0.2.1')
    for (const release of upgrades) release()
    await settle()
    expect(opened).toHaveLength(1)
    expect(manager.connections.count({ state: 'open' })).toBe(1)
  })

  it('identify() returns false when a listener closes the connection as it is identified', async () => {
    const { manager, transport, opened } = await lateSetup()
    manager.events.addEventListener('peer:connect', event => { void manager.close(event.detail.connection.id) })
    transport.inject('192.0.2.1')
    await settle()
    expect(manager.identify(opened[0]!, PEER)).toBe(false)
  })

  it('maxConnectionsPerPeer does not apply to connections without a peer', async () => {
    const { manager, transport } = await lateSetup({ maxConnectionsPerPeer: 1 })
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.2')
    await settle()
    expect(manager.connections.count({ state: 'open' })).toBe(2)
    expect(manager.metrics().pruned['max-connections-per-peer']).toBe(0)
  })

  it('a dial to an address without IP, naming a peer, opens', async () => {
    const { manager } = await lateSetup()
    const connection = await manager.dial(`/dns4/example.com/tcp/4001/p2p/${PEER}`)
    expect(connection.record.state).toBe('open')
    expect(connection.record.peer).toBe(PEER)
  })
})

describe('ConnectionManager.dial() - the gate', () => {
  it('refuses a dial to a denied peer before any socket, reporting the remote end', async () => {
    const { manager, transport } = await lateSetup({ denyList: [PEER] })
    const denied = details(manager, 'connection:deny')
    await expect(manager.dial(`/ip4/192.0.2.1/tcp/1/p2p/${PEER}`)).rejects.toBeInstanceOf(DialDeniedError)
    expect(transport.dialled).toEqual([])
    expect(denied).toMatchObject([{ direction: 'outbound', reason: 'deny-list', rule: PEER, peer: PEER, remoteIp: '192.0.2.1', remoteAddress: `/ip4/192.0.2.1/tcp/1/p2p/${PEER}` }])
  })

  it('checks a dial against the peer given in the options, before any socket', async () => {
    const { manager, transport } = await lateSetup({ denyList: [PEER] })
    await expect(manager.dial('/ip4/192.0.2.1/tcp/1', { peer: PEER })).rejects.toMatchObject({ name: 'DialDeniedError', reason: 'deny-list' })
    expect(transport.dialled).toEqual([])
  })

  it('a deny list for inbound connections only does not refuse dials, with or without a peer', async () => {
    const { manager } = await lateSetup({ denyList: ['192.0.2.0/24'], denyListDirection: 'inbound' })
    await expect(manager.dial('/ip4/192.0.2.1/tcp/1')).resolves.toHaveProperty('record.state', 'open')
    await expect(manager.dial('/ip4/192.0.2.2/tcp/1', { peer: PEER })).resolves.toHaveProperty('record.state', 'open')
  })

  it('refuses an outbound dial when outbound connections are not allowed', async () => {
    const { manager, transport } = await lateSetup({ allowList: ['192.0.2.0/24'] })
    await expect(manager.dial('/ip4/198.51.100.1/tcp/1')).rejects.toMatchObject({ reason: 'not-allow-listed' })
    expect(transport.dialled).toEqual([])
  })

  it('refuses to dial what is not a multiaddr, reason invalid-address', async () => {
    const { manager, transport } = await lateSetup()
    await expect(manager.dial('not-a-multiaddr')).rejects.toMatchObject({ name: 'DialDeniedError', reason: 'invalid-address' })
    expect(transport.dialled).toEqual([])
  })

  it('a trusted dialled connection is exempt from pruning; an untrusted one is not', async () => {
    const { manager } = await lateSetup({ maxConnections: 1, maxConnectionsPerPeer: 1, trustedList: ['198.51.100.0/24'] })
    await manager.dial('/ip4/192.0.2.1/tcp/1')
    await manager.dial('/ip4/198.51.100.1/tcp/1')
    await settle()
    expect(manager.connections.list({ state: 'open' }).map(record => record.remoteIp)).toEqual(['198.51.100.1'])
  })

  it('a new deny rule leaves a connection to a named host open, and a peer deny closes it', async () => {
    const { manager } = await lateSetup()
    await manager.dial(`/dns4/example.com/tcp/4001/p2p/${PEER}`)
    expect(manager.deny('198.51.100.0/24')).toBe(0)
    expect(manager.deny(PEER)).toBe(1)
  })

  it('records the remote IP of a dialled connection, and no peer when none was named', async () => {
    const { manager } = await lateSetup()
    const connection = await manager.dial('/ip4/198.51.100.1/tcp/1')
    expect(connection.record.remoteIp).toBe('198.51.100.1')
    expect(connection.record.peer).toBeUndefined()
  })
})
