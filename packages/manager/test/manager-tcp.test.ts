import { afterEach, describe, expect, it } from 'vitest'
import { DialTimeoutError } from '../src/errors.ts'
import { createConnectionManager } from '../src/manager.ts'
import { tcp } from '../src/tcp.ts'
import { client, plainServer, portOf, readLine, until } from './helpers/clients.ts'
import type { ConnectionDenyDetail } from '../src/events.ts'
import type { ConnectionManager } from '../src/manager.ts'
import type { ConnectionManagerInit } from '../src/types.ts'
import type { Client } from './helpers/clients.ts'
import type { ConnectionConfigInit } from '@cm/config'
import type { Socket } from 'node:net'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A handshake: the client sends one line first, its peer ID (or anything). */
const lineHandshake: ConnectionManagerInit<Socket>['upgrade'] = async (socket, { direction, signal }) => {
  if (direction === 'outbound') {
    socket.write('hello\n')
  }
  const line = await readLine(socket, signal)
  return line.startsWith('peer:') ? { peer: line.slice(5) } : {}
}

async function managedServer (config: ConnectionConfigInit, init: Partial<ConnectionManagerInit<Socket>> = {}, address = '/ip4/127.0.0.1/tcp/0'): Promise<{ manager: ConnectionManager<Socket>, port: number, denied: ConnectionDenyDetail[], maxOpen: () => number }> {
  const manager = createConnectionManager({ transport: tcp(), config, ...init })
  cleanups.push(async () => { await manager.stop() })
  const denied: ConnectionDenyDetail[] = []
  manager.events.addEventListener('connection:deny', event => { denied.push(event.detail) })
  let maxOpen = 0
  manager.events.addEventListener('connection:open', () => { maxOpen = Math.max(maxOpen, manager.connections.count({ state: 'open' })) })
  await manager.start()
  const listener = await manager.listen(address)
  return { manager, port: portOf(listener.addresses[0]), denied, maxOpen: () => maxOpen }
}

function track (...clients: Client[]): void {
  cleanups.push(() => { for (const each of clients) each.socket.destroy() })
}

describe('ConnectionManager over TCP - admission', () => {
  it('refuses at each stage, in order, by source address, and closes refused sockets at once', async () => {
    const { manager, port, denied } = await managedServer({
      denyList: ['127.0.1.0/24'],
      allowList: ['127.0.0.0/16'],
      maxIncomingPendingConnections: 2,
      inboundConnectionThreshold: 1,
      maxConnections: 3
    }, {
      upgrade: lineHandshake,
      // Time stands still for the rate limiter: the test's steps may take seconds on a loaded machine.
      clock: { now: () => 0 }
    })
    // One client at a time, so that the order of refusals is the order of the stages.
    const deniedClient = client(port, { localAddress: '127.0.1.9' }) // deny list (also allowed: deny wins)
    track(deniedClient)
    await until(() => denied.length === 1)
    const outsider = client(port, { localAddress: '127.1.0.1' }) // not on the allow list
    track(outsider)
    await until(() => denied.length === 2)
    const first = client(port, { localAddress: '127.0.2.1' }) // pending (stalls)
    track(first)
    await until(() => manager.metrics().pendingInbound.total === 1)
    const again = client(port, { localAddress: '127.0.2.1' }) // the same host again: rate limited
    track(again)
    await until(() => denied.length === 3)
    const second = client(port, { localAddress: '127.0.2.2' }) // pending (2 of 2)
    track(second)
    await until(() => manager.metrics().pendingInbound.total === 2)
    const third = client(port, { localAddress: '127.0.2.3' }) // pending limit
    track(third)
    await until(() => denied.length === 4)
    // Complete both handshakes: 2 open. One more fits (3); the next is over maxConnections.
    first.socket.write('hi\n')
    second.socket.write('hi\n')
    await until(() => manager.connections.count({ state: 'open' }) === 2)
    const fits = client(port, { localAddress: '127.0.2.4', send: 'hi' })
    track(fits)
    await until(() => manager.connections.count({ state: 'open' }) === 3)
    const over = client(port, { localAddress: '127.0.2.5' })
    track(over)
    await until(() => denied.length === 5)
    expect(denied.map(detail => [detail.remoteIp, detail.reason])).toEqual([
      ['127.0.1.9', 'deny-list'],
      ['127.1.0.1', 'not-allow-listed'],
      ['127.0.2.1', 'rate-limit'],
      ['127.0.2.3', 'pending-limit'],
      ['127.0.2.5', 'max-connections']
    ])
    // Every refused client sees its connection closed by the server.
    await Promise.all([deniedClient.closed, outsider.closed, again.closed, third.closed, over.closed])
    expect(first.socket.destroyed).toBe(false)
  })

  it('applies CIDR rules to IPv6 loopback (::1) clients', async () => {
    const { port, denied } = await managedServer({ denyList: ['::1/128'] }, {}, '/ip6/::1/tcp/0')
    const refused = client(port, { host: '::1' })
    track(refused)
    await refused.closed
    expect(denied).toMatchObject([{ remoteIp: '::1', reason: 'deny-list', rule: '::1' }])
  })

  it('with maxConnections 3 and ten clients, never more than 3 are open', async () => {
    const { manager, port, denied, maxOpen } = await managedServer({ maxConnections: 3, maxConnectionsPerPeer: 1 })
    const clients = Array.from({ length: 10 }, (_, index) => client(port, { localAddress: `127.0.3.${index + 1}` }))
    track(...clients)
    await until(() => denied.length + manager.connections.count({ state: 'open' }) === 10)
    expect(maxOpen()).toBe(3)
    expect(manager.connections.count({ state: 'open' })).toBe(3)
    expect(denied.every(detail => detail.reason === 'max-connections')).toBe(true)
    expect(denied).toHaveLength(7)
  })

  it('applies maxConnectionsPerPeer once the handshake names the peer', async () => {
    const peer = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
    const { manager, port } = await managedServer({ maxConnectionsPerPeer: 2 }, { upgrade: lineHandshake })
    const clients = [1, 2, 3].map(index => client(port, { localAddress: `127.0.4.${index}`, send: `peer:${peer}` }))
    track(...clients)
    await until(() => manager.metrics().pruned['max-connections-per-peer'] === 1)
    await until(() => manager.connections.count({ state: 'open', peer }) === 2)
    // The pruned client sees its connection closed.
    await Promise.any(clients.map(async each => { await each.closed }))
    expect(clients.filter(each => each.socket.destroyed)).toHaveLength(1)
  })

  it('holds the pending limit against clients that connect and stall, and frees it after inboundUpgradeTimeout', async () => {
    const { manager, port, denied } = await managedServer({ maxIncomingPendingConnections: 3, inboundUpgradeTimeout: 1_500 }, { upgrade: lineHandshake })
    const stalled = [1, 2, 3].map(index => client(port, { localAddress: `127.0.5.${index}` }))
    track(...stalled)
    await until(() => manager.metrics().pendingInbound.total === 3)
    const refused = [4, 5].map(index => client(port, { localAddress: `127.0.5.${index}` }))
    track(...refused)
    await until(() => denied.length === 2)
    expect(denied.map(detail => detail.reason)).toEqual(['pending-limit', 'pending-limit'])
    expect(manager.metrics().pendingInbound.total).toBe(3)
    await until(() => manager.metrics().pendingInbound.total === 0, 5_000)
    expect(manager.connections.history().filter(record => record.closeReason === 'timeout')).toHaveLength(3)
    const later = client(port, { localAddress: '127.0.5.9', send: 'hi' })
    track(later)
    await until(() => manager.connections.count({ state: 'open' }) === 1)
  })
})

describe('ConnectionManager over TCP - dialling and closing', () => {
  it('stop() closes inbound connections whose clients stay connected, and resolves', async () => {
    const { manager, port } = await managedServer({})
    const connected = client(port, { localAddress: '127.0.6.1' })
    await until(() => manager.connections.count({ state: 'open' }) === 1)
    await manager.stop()
    expect(manager.connections.size).toBe(0)
    await connected.closed
  })

  it('applies dialTimeout against a server that accepts and never completes the handshake', async () => {
    const silent = await plainServer(() => {})
    cleanups.push(silent.close)
    const manager = createConnectionManager({ transport: tcp(), config: { dialTimeout: 300 }, upgrade: lineHandshake })
    cleanups.push(async () => { await manager.stop() })
    await manager.start()
    const started = performance.now()
    await expect(manager.dial(`/ip4/127.0.0.1/tcp/${silent.port}`)).rejects.toBeInstanceOf(DialTimeoutError)
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    expect(manager.connections.history().map(record => record.closeReason)).toEqual(['timeout'])
    await until(() => silent.sockets.size === 0)
  })

  it('destroys a connection whose peer never finishes closing, after connectionCloseTimeout, reason timeout', async () => {
    const holder = await plainServer(() => {}, { allowHalfOpen: true })
    cleanups.push(holder.close)
    const manager = createConnectionManager({ transport: tcp(), config: { connectionCloseTimeout: 200 } })
    cleanups.push(async () => { await manager.stop() })
    await manager.start()
    const connection = await manager.dial(`/ip4/127.0.0.1/tcp/${holder.port}`)
    await connection.close()
    expect(connection.record.closeReason).toBe('timeout')
    expect(connection.raw.destroyed).toBe(true)
    expect(manager.metrics().closeTimeouts).toBe(1)
  })

  it('redials a keep-alive connection with backoff until a restarted server is back, and not after a local close', async () => {
    let server = await plainServer(() => {})
    const port = server.port
    cleanups.push(async () => { await server.close() })
    const manager = createConnectionManager({ transport: tcp(), config: { reconnectRetries: 6, reconnectRetryInterval: 50, reconnectBackoffFactor: 2 } })
    cleanups.push(async () => { await manager.stop() })
    const attempts: number[] = []
    let succeeded = 0
    manager.events.addEventListener('reconnect:attempt', event => { attempts.push(event.detail.delayMs) })
    manager.events.addEventListener('reconnect:success', () => { succeeded++ })
    await manager.start()
    const address = `/ip4/127.0.0.1/tcp/${port}`
    await manager.dial(address, { keepAlive: true })
    await server.close() // the server goes away: the connection drops, redials are refused
    await until(() => attempts.length >= 3)
    server = await plainServer(() => {}, { port }) // back, on the same port
    await until(() => succeeded === 1, 5_000)
    expect(attempts.slice(0, 3)).toEqual([50, 100, 200])
    expect(manager.connections.count({ state: 'open', direction: 'outbound' })).toBe(1)
    // A local close does not redial.
    const [connection] = manager.connections.list({ state: 'open' })
    await manager.close(connection!.id)
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(attempts.length).toBeLessThanOrEqual(6)
    expect(manager.metrics().reconnects.scheduled).toBe(0)
    expect(manager.connections.count({ state: 'open' })).toBe(0)
  })
})
