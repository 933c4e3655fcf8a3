import { afterEach, describe, expect, it, vi } from 'vitest'
import { details, lateManagers, lateSetup, PEER, settle } from './helpers/late-setup.ts'
import { MemoryConnection } from './helpers/memory-transport.ts'

// What a caller sees when a connection stops being pending on the way to open: closed by a
// hook during admission, refused for the peer its upgrade names, or caught by stop(); and
// where a hook's error goes when nobody gave onListenerError.

afterEach(async () => {
  for (const manager of lateManagers.splice(0)) await manager.stop()
  vi.restoreAllMocks()
})

describe('a connection that stops being pending before it opens', () => {
  it('is not reported open when an admission observer bans its host (no upgrade)', async () => {
    const { manager, opened } = await lateSetup()
    manager.observeAdmissions(remote => { if (remote.ip !== undefined) manager.deny(remote.ip) })
    const closed = details(manager, 'connection:close')
    const result = await manager.accept(new MemoryConnection({ ip: '192.0.2.1', multiaddr: '/ip4/192.0.2.1/tcp/4001' }))
    expect(result.outcome).not.toBe('open')
    expect(opened).toHaveLength(0)
    expect(closed.map(detail => detail.connection.closeReason)).toEqual(['denied'])
  })

  it('fails a dial with ConnectionRefusedError when its upgrade names a denied peer', async () => {
    const { manager, opened } = await lateSetup({}, { upgrade: async () => ({ peer: PEER }) })
    manager.deny(PEER)
    const address = '/ip4/192.0.2.1/tcp/1'
    await expect(manager.dial(address)).rejects.toMatchObject({ name: 'ConnectionRefusedError', address, reason: 'denied' })
    expect(opened).toHaveLength(0)
    expect(manager.connections.count()).toBe(0)
  })

  it('closes a dial in flight at stop() as a shutdown, not as the caller\'s abort', async () => {
    const { manager, transport } = await lateSetup()
    transport.dialBehaviour.set('/ip4/192.0.2.9/tcp/1', 'hang')
    const closed = details(manager, 'connection:close')
    const dial = manager.dial('/ip4/192.0.2.9/tcp/1')
    dial.catch(() => {})
    await settle()
    expect(manager.connections.count({ state: 'pending' })).toBe(1)
    await manager.stop()
    await expect(dial).rejects.toMatchObject({ name: 'ManagerStoppedError' })
    expect(closed.map(detail => detail.connection.closeReason)).toEqual(['shutdown'])
  })
})

describe('a hook\'s error without onListenerError', () => {
  it('goes to console.error, naming where it came from', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    const failure = new Error('the hook broke')
    const { manager, transport } = await lateSetup({}, { onConnection: () => { throw failure } })
    transport.inject('192.0.2.1')
    await settle()
    expect(manager.connections.count({ state: 'open' })).toBe(1)
    expect(logged).toHaveBeenCalledWith('@cm/manager: connection:open', failure)
  })
})
