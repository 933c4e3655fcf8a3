import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConnectionRefusedError } from '../src/errors.ts'
import { createConnectionManager } from '../src/manager.ts'
import { details, lateManagers, lateSetup, PEER, settle } from './helpers/late-setup.ts'
import { MemoryConnection, MemoryTransport } from './helpers/memory-transport.ts'

afterEach(async () => {
  for (const manager of lateManagers.splice(0)) await manager.stop()
})

/** An upgrade that waits until aborted, as a handshake with a silent peer does. */
const hangingUpgrade = async (_raw: MemoryConnection, { signal }: { signal: AbortSignal }): Promise<undefined> => await new Promise((_resolve, reject) => {
  signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
})

/** A memory transport that reports the close of an already closed connection at once. */
class EagerCloseTransport extends MemoryTransport {
  override onClose (raw: MemoryConnection, listener: (error?: Error) => void): void {
    if (raw.closed) {
      listener()
      return
    }
    super.onClose(raw, listener)
  }
}

describe('ConnectionManager - a connection closed while it opens', () => {
  it('accept() says closed, and onConnection is not called, when a connection:open listener closes it', async () => {
    const { manager, transport, opened } = await lateSetup()
    manager.events.addEventListener('connection:open', event => { void manager.close(event.detail.connection.id) })
    const result = await manager.accept(new MemoryConnection({ ip: '192.0.2.1', multiaddr: '/ip4/192.0.2.1/tcp/5000' }))
    expect(result).toMatchObject({ outcome: 'closed', record: { closeReason: 'local' } })
    expect(opened).toEqual([])
    expect(transport.connections).toEqual([])
  })

  it('accept() reports a peer refused at open as refused, with its reason', async () => {
    const { manager } = await lateSetup({ denyList: [PEER] }, { upgrade: async () => ({ peer: PEER }) })
    const raw = new MemoryConnection({ ip: '192.0.2.1', multiaddr: '/ip4/192.0.2.1/tcp/5001' })
    const result = await manager.accept(raw)
    expect(result).toMatchObject({ outcome: 'refused', refusal: { reason: 'peer-denied', peer: PEER } })
  })

  it('a dial whose upgrade names a denied peer rejects with ConnectionRefusedError, reason denied, and is no dial failure', async () => {
    const { manager, opened } = await lateSetup({ denyList: [PEER] }, { upgrade: async () => ({ peer: PEER }) })
    const error: unknown = await manager.dial('/ip4/192.0.2.1/tcp/1').catch((failure: unknown) => failure)
    expect(error).toBeInstanceOf(ConnectionRefusedError)
    expect(error).toMatchObject({ reason: 'denied', address: '/ip4/192.0.2.1/tcp/1' })
    expect(opened).toEqual([])
    expect(manager.metrics().dialFailures).toBe(0)
  })

  it('a dial closed by a connection:open listener rejects with the reason it was closed with', async () => {
    const { manager, opened } = await lateSetup()
    manager.events.addEventListener('connection:open', event => { void manager.close(event.detail.connection.id, 'local') })
    await expect(manager.dial('/ip4/192.0.2.1/tcp/1')).rejects.toMatchObject({ name: 'ConnectionRefusedError', reason: 'local' })
    expect(opened).toEqual([])
    expect(manager.metrics().dialFailures).toBe(0)
  })

  it('a refused dial closes its record with reason error and counts a dial failure', async () => {
    const { manager, transport } = await lateSetup()
    const closed = details(manager, 'connection:close')
    transport.dialBehaviour.set('/ip4/192.0.2.1/tcp/1', 'refuse')
    await expect(manager.dial('/ip4/192.0.2.1/tcp/1')).rejects.toThrow(/ECONNREFUSED/)
    expect(closed.map(detail => detail.connection.closeReason)).toEqual(['error'])
    expect(manager.metrics().dialFailures).toBe(1)
  })

  it('accept() of a connection the transport reports closed at once says closed, reason remote', async () => {
    const transport = new EagerCloseTransport()
    const { manager } = await lateSetup({}, { upgrade: hangingUpgrade }, transport)
    const raw = new MemoryConnection({ ip: '192.0.2.1', multiaddr: '/ip4/192.0.2.1/tcp/5002' })
    raw.remoteClose()
    const result = await manager.accept(raw)
    expect(result).toMatchObject({ outcome: 'closed', record: { closeReason: 'remote' } })
    expect(manager.connections.size).toBe(0)
  })

  it('accept() without an upgrade, of a connection already closed, does not throw', async () => {
    const transport = new EagerCloseTransport()
    const { manager } = await lateSetup({}, {}, transport)
    const raw = new MemoryConnection({ ip: '192.0.2.1', multiaddr: '/ip4/192.0.2.1/tcp/5003' })
    raw.remoteClose()
    await expect(manager.accept(raw)).resolves.toMatchObject({ outcome: 'closed' })
  })
})

/** A memory transport that reports every close twice, as a socket's error and close events may. */
class TwiceCloseTransport extends MemoryTransport {
  override onClose (raw: MemoryConnection, listener: (error?: Error) => void): void {
    super.onClose(raw, error => { listener(error); listener(error) })
  }
}

describe('ConnectionManager - closes from the remote end', () => {
  it('a close reported twice redials a keep-alive connection once', async () => {
    vi.useFakeTimers()
    try {
      const transport = new TwiceCloseTransport()
      const { manager } = await lateSetup({ reconnectRetryInterval: 1_000, reconnectJitter: 0 }, {}, transport)
      await manager.dial('/ip4/198.51.100.1/tcp/1', { keepAlive: true })
      transport.connections[0]!.remoteClose()
      await vi.advanceTimersByTimeAsync(10_000)
      expect(transport.dialled).toEqual(['/ip4/198.51.100.1/tcp/1', '/ip4/198.51.100.1/tcp/1'])
    } finally {
      vi.useRealTimers()
    }
  })

  it('a remote close during the upgrade aborts the upgrade and frees the pending slot', async () => {
    const signals: AbortSignal[] = []
    const { manager, transport } = await lateSetup({ maxIncomingPendingConnections: 1 }, {
      upgrade: async (raw, options) => { signals.push(options.signal); return await hangingUpgrade(raw, options) }
    })
    const denied = details(manager, 'connection:deny')
    const closed = details(manager, 'connection:close')
    const first = transport.inject('192.0.2.1')
    await settle()
    first.remoteClose()
    await settle()
    expect(signals[0]?.aborted).toBe(true)
    expect(closed.map(detail => detail.connection.closeReason)).toEqual(['remote'])
    transport.inject('192.0.2.2')
    expect(denied).toEqual([])
    expect(manager.metrics().connections.pending.inbound).toBe(1)
  })

  it('an upgrade that fails closes the record once, with its reason, not remote', async () => {
    const { manager, transport } = await lateSetup({}, { upgrade: async () => { throw new Error('bad handshake') } })
    const closed = details(manager, 'connection:close')
    const raw = transport.inject('192.0.2.1')
    await settle()
    expect(raw.aborted).toBe(true)
    expect(closed.map(detail => detail.connection.closeReason)).toEqual(['error'])
  })

  it('an open connection reset by the remote closes with reason error; a clean remote close with reason remote', async () => {
    const { manager, transport } = await lateSetup()
    const closed = details(manager, 'connection:close')
    const reset = transport.inject('192.0.2.1')
    const clean = transport.inject('192.0.2.2')
    await settle()
    reset.remoteClose(new Error('ECONNRESET'))
    clean.remoteClose()
    expect(closed.map(detail => [detail.connection.remoteIp, detail.connection.closeReason])).toEqual([['192.0.2.1', 'error'], ['192.0.2.2', 'remote']])
  })
})

describe('ConnectionManager - closing twice', () => {
  it('a second close waits for the first, and the connection closes once', async () => {
    const { manager, transport, opened } = await lateSetup()
    const closed = details(manager, 'connection:close')
    const raw = transport.inject('192.0.2.1')
    await settle()
    raw.closeBehaviour = 'hang'
    const first = manager.close(opened[0]!)
    let secondDone = false
    const second = manager.close(opened[0]!, 'pruned').then(() => { secondDone = true })
    await settle()
    expect(secondDone).toBe(false)
    raw.finishClose()
    await Promise.all([first, second])
    expect(closed.map(detail => detail.connection.closeReason)).toEqual(['local'])
  })
})

describe('ConnectionManager - hooks and their errors', () => {
  it('without onConnection, opening reports no error', async () => {
    const errors: unknown[] = []
    const transport = new MemoryTransport()
    const manager = createConnectionManager({ transport, onListenerError: error => { errors.push(error) } })
    lateManagers.push(manager)
    await manager.start()
    const result = await manager.accept(new MemoryConnection({ ip: '192.0.2.1', multiaddr: '/ip4/192.0.2.1/tcp/5004' }))
    expect(result.outcome).toBe('open')
    expect(errors).toEqual([])
  })

  it('an onConnection that throws is reported as connection:open; the connection stays', async () => {
    const reported: Array<[unknown, string]> = []
    const failure = new Error('hook failed')
    const { manager, transport } = await lateSetup({}, { onConnection: () => { throw failure }, onListenerError: (error, event) => { reported.push([error, event.type]) } })
    transport.inject('192.0.2.1')
    await settle()
    expect(reported).toEqual([[failure, 'connection:open']])
    expect(manager.connections.count({ state: 'open' })).toBe(1)
  })

  it('a pruning strategy that throws is reported as connection:prune', async () => {
    const reported: Array<[unknown, string]> = []
    const failure = new Error('strategy failed')
    const { manager, transport } = await lateSetup({ maxConnections: 1, maxConnectionsPerPeer: 1 }, { pruneStrategy: { score: () => { throw failure } }, onListenerError: (error, event) => { reported.push([error, event.type]) } })
    await manager.dial('/ip4/198.51.100.1/tcp/1')
    transport.inject('192.0.2.9')
    await manager.dial('/ip4/198.51.100.2/tcp/1')
    await settle()
    expect(reported.map(([, type]) => type)).toContain('connection:prune')
    expect(reported.find(([, type]) => type === 'connection:prune')?.[0]).toBe(failure)
  })

  it('a pruning failure that ends as the manager stops is not reported', async () => {
    const reported: string[] = []
    const { manager } = await lateSetup({ maxConnections: 5 }, { pruneStrategy: { score: () => { throw new Error('strategy failed') } }, onListenerError: (_error, event) => { reported.push(event.type) } })
    await manager.dial('/ip4/198.51.100.1/tcp/1')
    await manager.dial('/ip4/198.51.100.2/tcp/1')
    manager.updateConfig({ maxConnections: 1, maxConnectionsPerPeer: 1 })
    await manager.stop()
    await settle()
    expect(reported).toEqual([])
  })
})
