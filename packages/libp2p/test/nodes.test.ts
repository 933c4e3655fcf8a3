import { createGate } from '@cm/gate'
import { createRateLimiter } from '@cm/rate-limit'
import { afterEach, describe, expect, it } from 'vitest'
import { cmGater } from '../src/gater.ts'
import { createNodeMonitor } from '../src/monitor.ts'
import { addressOf, makeNode, stopNodes, until } from './support/nodes.ts'
import type { GaterDenyDetail } from '../src/gater.ts'
import type { Clock } from '@cm/config'

/** A clock that stands still: the rate limiter's budget does not refill during a test. */
const stillClock: Clock = { now: () => 1_000 }

function denials (gater: ReturnType<typeof cmGater>): GaterDenyDetail[] {
  const seen: GaterDenyDetail[] = []
  gater.events.addEventListener('connection:deny', event => { seen.push(event.detail) })
  return seen
}

afterEach(stopNodes)

describe('cmGater() on real js-libp2p nodes (TCP, noise, yamux, loopback)', () => {
  it('.denyInboundConnection() - a denied address cannot connect in', async () => {
    const gater = cmGater({ gate: createGate({ denyList: ['127.0.0.0/8'] }) })
    const seen = denials(gater)
    const listener = await makeNode({ connectionGater: gater })
    const dialer = await makeNode()
    await expect(dialer.dial(addressOf(listener))).rejects.toThrow()
    await until(() => seen.length === 1)
    expect(seen[0]).toMatchObject({ hook: 'denyInboundConnection', reason: 'deny-list', rule: '127.0.0.0/8' })
    expect(listener.getConnections()).toHaveLength(0)
    expect(dialer.getConnections()).toHaveLength(0)
  })

  it('.denyDialMultiaddr() - a denied address cannot be dialled out', async () => {
    const gater = cmGater({ gate: createGate({ denyList: ['/ip4/127.0.0.1'] }) })
    const seen = denials(gater)
    const listenerGater = cmGater()
    const listener = await makeNode({ connectionGater: listenerGater })
    const dialer = await makeNode({ connectionGater: gater })
    await expect(dialer.dial(addressOf(listener))).rejects.toThrow(/denied|gater/i)
    expect(seen[0]).toMatchObject({ hook: 'denyDialMultiaddr', direction: 'outbound', reason: 'deny-list' })
    // Refused before any socket was opened: the listener saw nothing.
    expect(listenerGater.stats().inboundAdmitted).toBe(0)
    expect(listener.getConnections()).toHaveLength(0)
  })

  it('.denyInboundEncryptedConnection() - a denied peer cannot connect in', async () => {
    const dialer = await makeNode()
    const gater = cmGater({ gate: createGate({ denyList: [dialer.peerId.toString()] }) })
    const seen = denials(gater)
    const listener = await makeNode({ connectionGater: gater })
    let opened = 0
    listener.addEventListener('connection:open', () => { opened++ })
    // The dialer may finish its side of the upgrade (its muxer selection is optimistic)
    // before the listener refuses; the connection then closes at once.
    await dialer.dial(addressOf(listener)).catch(() => undefined)
    await until(() => seen.length === 1)
    expect(seen[0]).toMatchObject({ hook: 'denyInboundEncryptedConnection', peer: dialer.peerId.toString(), reason: 'deny-list' })
    expect(opened).toBe(0)
    // The socket was admitted by address, then refused once the handshake named the peer.
    expect(gater.stats().inboundAdmitted).toBe(1)
    await until(() => dialer.getConnections().length === 0 && listener.getConnections().length === 0)
  })

  it('.denyDialPeer() - a denied peer cannot be dialled out', async () => {
    const listener = await makeNode()
    const gater = cmGater({ gate: createGate({ denyList: [listener.peerId.toString()] }) })
    const seen = denials(gater)
    const dialer = await makeNode({ connectionGater: gater })
    await expect(dialer.dial(addressOf(listener))).rejects.toThrow(/denied|gater/i)
    expect(seen[0]).toMatchObject({ hook: 'denyDialPeer', direction: 'outbound', peer: listener.peerId.toString(), reason: 'deny-list' })
    expect(listener.getConnections()).toHaveLength(0)
  })

  it('.denyOutboundEncryptedConnection() - a denied peer reached at an address without its ID is refused after the handshake', async () => {
    const listener = await makeNode()
    const gater = cmGater({ gate: createGate({ denyList: [listener.peerId.toString()] }) })
    const seen = denials(gater)
    const dialer = await makeNode({ connectionGater: gater })
    await expect(dialer.dial(addressOf(listener).decapsulateCode(421))).rejects.toThrow()
    expect(seen.map(detail => detail.hook)).toEqual(['denyOutboundEncryptedConnection'])
    await until(() => listener.getConnections().length === 0)
  })

  it('cmGater() - allowed addresses and peers connect, both ways, through an exclusive allow list', async () => {
    const gate = createGate({ allowList: ['127.0.0.0/8'], denyList: ['10.0.0.0/8'] })
    const a = await makeNode({ connectionGater: cmGater({ gate }) })
    const b = await makeNode({ connectionGater: cmGater({ gate }) })
    const outbound = await a.dial(addressOf(b))
    expect(outbound.status).toBe('open')
    await until(() => b.getConnections().length === 1)
    expect(b.getConnections()[0]?.remotePeer.toString()).toBe(a.peerId.toString())
    await outbound.close()
    const reverse = await b.dial(addressOf(a))
    expect(reverse.remotePeer.toString()).toBe(a.peerId.toString())
  })

  it('cmGater() - an allow list that does not name loopback keeps loopback out', async () => {
    const gater = cmGater({ gate: createGate({ allowList: ['192.0.2.0/24'] }) })
    const seen = denials(gater)
    const listener = await makeNode({ connectionGater: gater })
    const dialer = await makeNode()
    await expect(dialer.dial(addressOf(listener))).rejects.toThrow()
    await until(() => seen.length === 1)
    expect(seen[0]?.reason).toBe('not-allow-listed')
  })

  it('.denyInboundConnection() - an inbound flood from one host is rate limited', async () => {
    const gater = cmGater({ rateLimiter: createRateLimiter({ threshold: 3, clock: stillClock }) })
    const seen = denials(gater)
    const listener = await makeNode({ connectionGater: gater })
    const dialer = await makeNode()
    const outcomes: boolean[] = []
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        await dialer.dial(addressOf(listener), { force: true })
        outcomes.push(true)
      } catch {
        outcomes.push(false)
      }
    }
    expect(outcomes).toEqual([true, true, true, false, false, false, false, false])
    await until(() => seen.length === 5)
    expect(seen.every(detail => detail.reason === 'rate-limit' && detail.hook === 'denyInboundConnection')).toBe(true)
    expect(gater.stats()).toEqual({ denied: { 'deny-list': 0, 'not-allow-listed': 0, 'invalid-address': 0, 'rate-limit': 5, 'pending-limit': 0, 'max-connections': 0 }, inboundAdmitted: 3 })
    expect(gater.rateLimiter?.stats()).toMatchObject({ admitted: 3, refused: 5 })
    await until(() => listener.getConnections().length === 3)
  })

  it('cmGater() - a ban added at run time refuses the next connection', async () => {
    const gater = cmGater()
    const listener = await makeNode({ connectionGater: gater })
    const dialer = await makeNode()
    const first = await dialer.dial(addressOf(listener))
    await first.close()
    gater.gate.deny('127.0.0.1', { ttl: 60_000 })
    await expect(dialer.dial(addressOf(listener))).rejects.toThrow()
    gater.gate.remove('deny', '127.0.0.1')
    await expect(dialer.dial(addressOf(listener))).resolves.toBeDefined()
  })
})

describe('createNodeMonitor() on real js-libp2p nodes', () => {
  /** What both views say: each open connection's peer and direction, sorted. */
  function nodeView (connections: ReadonlyArray<{ remotePeer: { toString: () => string }, direction: string }>): string[] {
    return connections.map(connection => `${connection.remotePeer.toString()} ${connection.direction}`).sort()
  }

  it('.tracker - matches node.getConnections() after connects and disconnects', async () => {
    const monitor = createNodeMonitor()
    const hub = await makeNode({ connectionGater: cmGater({ monitor }) })
    monitor.start(hub)
    const tracker = monitor.tracker
    const trackerView = (): string[] => nodeView(tracker.list({ state: 'open' }).map(record => ({ remotePeer: { toString: () => record.peer ?? '' }, direction: record.direction })))
    const pending: string[] = []
    tracker.events.addEventListener('connection:pending', event => { pending.push(event.detail.connection.direction) })

    const spokes = await Promise.all([0, 1, 2].map(async () => await makeNode()))
    const inbound = await Promise.all(spokes.map(async spoke => await spoke.dial(addressOf(hub))))
    const outbound = await hub.dial(addressOf(spokes[0]!), { force: true })
    await until(() => hub.getConnections().length === 4 && tracker.count({ state: 'open' }) === 4)
    expect(trackerView()).toEqual(nodeView(hub.getConnections()))
    expect(tracker.count({ state: 'open', direction: 'inbound' })).toBe(3)
    expect(tracker.count({ state: 'open', direction: 'outbound' })).toBe(1)
    expect(tracker.count({ peer: spokes[0]!.peerId.toString() })).toBe(2)
    expect(tracker.count({ host: '127.0.0.1' })).toBe(4)
    // Every connection was seen pending first, through the gater.
    expect(pending.sort()).toEqual(['inbound', 'inbound', 'inbound', 'outbound'])
    for (const connection of hub.getConnections()) {
      expect(monitor.record(connection)?.state).toBe('open')
      expect(monitor.connection(monitor.record(connection)!.id)).toBe(connection)
    }

    await inbound[1]!.close() // the remote end closes
    await monitor.close(outbound, 'local') // this node closes, through the monitor
    await until(() => hub.getConnections().length === 2 && tracker.count({ state: 'open' }) === 2)
    expect(trackerView()).toEqual(nodeView(hub.getConnections()))
    const reasons = tracker.history().map(record => record.closeReason).sort()
    expect(reasons).toEqual(['local', 'remote'])

    await spokes[2]!.stop()
    await until(() => hub.getConnections().length === 1 && tracker.count({ state: 'open' }) === 1)
    expect(trackerView()).toEqual(nodeView(hub.getConnections()))
    const snapshot = monitor.snapshot()
    expect(snapshot.connections.open.total).toBe(1)
    expect(snapshot.closed.total).toBe(3)
  })

  it('.start() - adopts the connections a node already has; its stop is a shutdown', async () => {
    const a = await makeNode()
    const b = await makeNode()
    await a.dial(addressOf(b))
    const monitor = createNodeMonitor()
    monitor.start(a)
    expect(monitor.tracker.count({ state: 'open', direction: 'outbound' })).toBe(1)
    expect(monitor.tracker.list()[0]?.peer).toBe(b.peerId.toString())
    monitor.start(a) // the same node again: nothing changes
    expect(monitor.tracker.size).toBe(1)
    await a.stop()
    expect(monitor.tracker.history().map(record => record.closeReason)).toEqual(['shutdown'])
    monitor.stop()
    monitor.stop()
  })

  it('.tracker - a connection refused after the handshake is recorded as denied', async () => {
    const dialer = await makeNode()
    const monitor = createNodeMonitor()
    const listener = await makeNode({ connectionGater: cmGater({ gate: createGate({ denyList: [dialer.peerId.toString()] }), monitor }) })
    monitor.start(listener)
    await dialer.dial(addressOf(listener)).catch(() => undefined)
    await until(() => monitor.tracker.history().length === 1)
    expect(monitor.tracker.history()[0]).toMatchObject({ direction: 'inbound', state: 'closed', closeReason: 'denied', peer: undefined })
    expect(monitor.tracker.size).toBe(0)
  })

  it('.close() - records the closing state and the reason given', async () => {
    const monitor = createNodeMonitor()
    const a = await makeNode()
    const b = await makeNode()
    monitor.start(a)
    const connection = await a.dial(addressOf(b))
    const states: string[] = []
    monitor.tracker.events.addEventListener('connection:closing', event => { states.push(event.detail.state) })
    monitor.tracker.events.addEventListener('connection:close', event => { states.push(event.detail.state) })
    await expect(monitor.close(connection, 'pruned')).resolves.toBe(true)
    await until(() => states.length === 2)
    expect(states).toEqual(['closing', 'closed'])
    expect(monitor.tracker.history()[0]?.closeReason).toBe('pruned')
    await expect(monitor.close(connection, 'pruned')).resolves.toBe(false)
  })
})
