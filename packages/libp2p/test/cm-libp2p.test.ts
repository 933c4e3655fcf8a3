import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { cmLibp2p } from '../src/cm-libp2p.ts'
import { addressOf, makeNode, portOf, stopNodes, until } from './support/nodes.ts'
import { closeSockets, stallingClient, stallingServer } from './support/sockets.ts'
import { problemsOf } from './support/problems.ts'
import type { CmLibp2pInit, CmService, Libp2pConfig } from '../src/cm-libp2p.ts'
import type { ConnectionPruneDetail } from '../src/pruning.ts'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'

afterEach(async () => {
  await stopNodes()
  await closeSockets()
})

/** A node set up by `cmLibp2p(config, init)` (TCP, noise, yamux, loopback). */
async function cmNode (config: Libp2pConfig, init?: CmLibp2pInit): Promise<Libp2p<{ cm: CmService }>> {
  return await makeNode({ ...cmLibp2p(config, init) })
}

/** Every connection a node's pruner closed, in order. */
function pruneEvents (node: Libp2p<{ cm: CmService }>): ConnectionPruneDetail[] {
  const prunes: ConnectionPruneDetail[] = []
  node.services.cm.pruning.events.addEventListener('connection:prune', event => { prunes.push(event.detail) })
  return prunes
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Streams a remote node paused, kept so that they stay paused. */
const held: Stream[] = []
const HOLD = '/cm-test/hold/1.0.0'

/** Makes `connection` slow to close: 4 MB queued on a stream the remote never reads. */
async function stall (connection: Connection): Promise<void> {
  const stream = await connection.newStream(HOLD)
  for (let chunk = 0; chunk < 64; chunk++) stream.send(new Uint8Array(64 * 1024))
}

describe('cmLibp2p() on real js-libp2p nodes (TCP, noise, yamux, loopback)', () => {
  it('denyList, allowList, denyListDirection, allowListDirection - the gater decides, in the directions set', async () => {
    const plain = await makeNode()
    const denying = await cmNode({ denyList: ['127.0.0.0/8'], denyListDirection: 'inbound' })
    await expect(plain.dial(addressOf(denying))).rejects.toThrow()
    await expect(denying.dial(addressOf(plain))).resolves.toBeDefined() // dials are not denied
    const allowing = await cmNode({ allowList: ['192.0.2.0/24'], allowListDirection: 'outbound' })
    await expect(allowing.dial(addressOf(plain))).rejects.toThrow(/denied|gater/i)
    await expect(plain.dial(addressOf(allowing))).resolves.toBeDefined() // inbound is not restricted
    await until(() => denying.services.cm.gater.stats().denied['deny-list'] === 1)
    expect(allowing.services.cm.gater.stats().denied['not-allow-listed']).toBe(1)
  })

  it('inboundConnectionThreshold, rateLimit, trustedList - the gater rate limits, trusted hosts exempt; js-libp2p\'s own limit is out of the way', async () => {
    const dialer = await makeNode()
    const closed = await cmNode({ inboundConnectionThreshold: 0 }) // admits no one but the trusted
    const trusting = await cmNode({ inboundConnectionThreshold: 0, trustedList: ['127.0.0.1'] })
    const unlimited = await cmNode({ rateLimit: { enabled: false } })
    await expect(dialer.dial(addressOf(closed))).rejects.toThrow()
    await until(() => closed.services.cm.gater.stats().denied['rate-limit'] === 1)
    await expect(dialer.dial(addressOf(trusting))).resolves.toBeDefined()
    // js-libp2p's default (5 per second per host) would refuse the sixth.
    for (let attempt = 0; attempt < 6; attempt++) {
      await dialer.dial(addressOf(unlimited), { force: true })
    }
    expect(unlimited.services.cm.gater.stats().inboundAdmitted).toBe(6)
  })

  it('maxIncomingPendingConnections (the gater), inboundUpgradeTimeout (js-libp2p) - stalled clients hold pending slots until the timeout closes them', async () => {
    const node = await cmNode({ maxIncomingPendingConnections: 11, inboundUpgradeTimeout: 400, inboundConnectionThreshold: 100 })
    const { gater, monitor } = node.services.cm
    const stalled = Array.from({ length: 11 }, () => stallingClient(portOf(node)))
    // js-libp2p's own pending limit (10) would have refused the eleventh.
    await until(() => gater.stats().inboundAdmitted === 11)
    expect(monitor.tracker.count({ state: 'pending', direction: 'inbound' })).toBe(11)
    await stallingClient(portOf(node)).closedAfter // the twelfth is refused at once
    expect(gater.stats().denied['pending-limit']).toBe(1)
    const closedAfter = await Promise.all(stalled.map(async client => await client.closedAfter))
    expect(Math.min(...closedAfter)).toBeGreaterThanOrEqual(380)
    expect(Math.max(...closedAfter)).toBeLessThan(5_000) // js-libp2p's default is 10 s
    expect(monitor.tracker.history().every(record => /timeout/.test(record.closeError?.message ?? ''))).toBe(true)
    const dialer = await makeNode()
    await expect(dialer.dial(addressOf(node))).resolves.toBeDefined() // the slots are free again
  })

  it('maxConnections, pruneStrategy - the gater refuses inbound at the limit, the pruner closes the surplus of dials, oldest first', async () => {
    const hub = await cmNode({ maxConnections: 2, maxConnectionsPerPeer: 1, pruneStrategy: 'oldest' })
    const { gater, monitor } = hub.services.cm
    const prunes = pruneEvents(hub)
    const [a, b, c] = await Promise.all([0, 1, 2].map(async () => await makeNode()))
    for (const spoke of [a!, b!]) {
      await spoke.dial(addressOf(hub))
      await until(() => monitor.tracker.count({ peer: spoke.peerId.toString(), state: 'open' }) === 1)
    }
    await expect(c!.dial(addressOf(hub))).rejects.toThrow()
    await until(() => gater.stats().denied['max-connections'] === 1)
    await hub.dial(addressOf(c!)) // a dial is not refused: the surplus is pruned
    await until(() => prunes.length === 1 && hub.getConnections().length === 2)
    expect(prunes.map(entry => [entry.reason, entry.connection.peer])).toEqual([['max-connections', a!.peerId.toString()]])
  })

  it('maxConnectionsPerPeer - the pruner prunes a peer down to it', async () => {
    const hub = await cmNode({ maxConnectionsPerPeer: 1 })
    const prunes = pruneEvents(hub)
    const spoke = await makeNode()
    await spoke.dial(addressOf(hub))
    await spoke.dial(addressOf(hub), { force: true })
    await until(() => prunes.length === 1 && hub.getConnections().length === 1)
    expect(prunes.map(entry => entry.reason)).toEqual(['max-connections-per-peer'])
  })

  it('pruneHighWatermark, pruneLowWatermark, pruneGracePeriod (the pruner), connectionHistorySize (the monitor)', async () => {
    const hub = await cmNode({ pruneHighWatermark: 2, pruneLowWatermark: 1, pruneGracePeriod: 2_000, connectionHistorySize: 1 })
    const { monitor, pruning } = hub.services.cm
    const spokes = await Promise.all([0, 1, 2].map(async () => await makeNode()))
    await Promise.all(spokes.map(async spoke => await spoke.dial(addressOf(hub))))
    await until(() => monitor.tracker.count({ state: 'open' }) === 3)
    const allOpen = Date.now()
    const early = await pruning.prune() // every connection is in its grace period
    expect(early.closed).toHaveLength(0)
    expect(hub.getConnections()).toHaveLength(3)
    await sleep(2_000 + 100 - (Date.now() - allOpen))
    const late = await pruning.prune() // above the high watermark: down to the low one
    expect(late.closed.map(entry => entry.reason)).toEqual(['high-watermark', 'high-watermark'])
    await until(() => hub.getConnections().length === 1)
    expect(monitor.tracker.history()).toHaveLength(1)
  })

  it('maxParallelDials, maxDialQueueLength, dialTimeout - js-libp2p\'s dial queue, with the values cmLibp2p passes', async () => {
    const servers = await Promise.all([0, 1, 2].map(async () => await stallingServer()))
    const node = await cmNode({ maxParallelDials: 1, maxDialQueueLength: 1, dialTimeout: 300 })
    const started = Date.now()
    const outcomes = servers.map(async server => await node.dial(multiaddr(`/ip4/127.0.0.1/tcp/${server.port}`))
      .then(() => ({ name: 'open', after: Date.now() - started }), (error: Error) => ({ name: error.name, after: Date.now() - started })))
    // One dial runs, one waits, and the third finds the queue full (a DialError, not a timeout).
    const third = await outcomes[2]!
    expect(third.name).toBe('DialError')
    await until(() => servers[0]!.accepted() === 1)
    expect(servers[1]!.accepted()).toBe(0)
    const [first, second] = await Promise.all(outcomes.slice(0, 2))
    expect(first).toMatchObject({ name: 'TimeoutError' })
    expect(first!.after).toBeGreaterThanOrEqual(280)
    expect(first!.after).toBeLessThan(3_000)
    // js-libp2p counts the time a dial waits in the queue: the second timed out with the first.
    expect(second?.name).toBe('TimeoutError')
    expect(second!.after).toBeLessThan(first!.after + 250)
  })

  it('connectionCloseTimeout - js-libp2p gives up a graceful close after it; the monitor aborts the pruner\'s victims after it', async () => {
    const hub = await cmNode({ connectionCloseTimeout: 100, maxConnections: 2, maxConnectionsPerPeer: 1, pruneStrategy: 'oldest' })
    const { monitor } = hub.services.cm
    const spokes = await Promise.all([0, 1, 2, 3].map(async () => await makeNode()))
    for (const spoke of spokes) await spoke.handle(HOLD, stream => { held.push(stream); stream.pause() })

    const first = await hub.dial(addressOf(spokes[0]!))
    await stall(first)
    const started = Date.now()
    await expect(first.close()).rejects.toThrow(expect.objectContaining({ name: 'TimeoutError' }))
    expect(Date.now() - started).toBeLessThan(900) // js-libp2p's default is 1 s
    expect(first.status).toBe('open') // js-libp2p leaves it to the caller to abort
    first.abort(new Error('closing took too long'))
    await until(() => monitor.tracker.count({ state: 'open' }) === 0)

    const oldest = await hub.dial(addressOf(spokes[1]!))
    await stall(oldest)
    await hub.dial(addressOf(spokes[2]!))
    const closing: number[] = []
    const closed: number[] = []
    monitor.tracker.events.addEventListener('connection:closing', () => { closing.push(Date.now()) })
    monitor.tracker.events.addEventListener('connection:close', () => { closed.push(Date.now()) })
    await hub.dial(addressOf(spokes[3]!)) // one over maxConnections: the oldest goes
    await until(() => closed.length === 1)
    // Closed as pruned, then aborted when the graceful close ran out of time.
    expect(monitor.tracker.history().at(-1)).toMatchObject({ peer: spokes[1]!.peerId.toString(), closeReason: 'timeout' })
    expect(oldest.status).not.toBe('open')
    expect(closed[0]! - closing[0]!).toBeGreaterThanOrEqual(90)
    expect(closed[0]! - closing[0]!).toBeLessThan(900)
  })

  it('.services.cm - records the node\'s stop as a shutdown, and follows the node again when it restarts', async () => {
    const node = await cmNode({})
    const { monitor } = node.services.cm
    const spoke = await makeNode()
    await spoke.dial(addressOf(node))
    await until(() => monitor.tracker.count({ state: 'open' }) === 1)
    await node.stop()
    expect(monitor.tracker.history().map(record => record.closeReason)).toEqual(['shutdown'])
    expect(monitor.node).toBeUndefined()
    await node.start()
    await spoke.dial(addressOf(node))
    await until(() => monitor.tracker.count({ state: 'open' }) === 1)
  })
})

describe('cmLibp2p()', () => {
  it('.connectionManager - js-libp2p\'s own admission limits out of the way, the dial and upgrade options from the config', () => {
    const { connectionManager } = cmLibp2p(
      { maxParallelDials: 10, maxDialQueueLength: 20, dialTimeout: 5_000, connectionCloseTimeout: 2_000, inboundUpgradeTimeout: 3_000 },
      { connectionManager: { addressDialTimeout: 1_000 } }
    )
    expect(connectionManager).toEqual({
      addressDialTimeout: 1_000,
      maxConnections: Number.MAX_SAFE_INTEGER,
      maxIncomingPendingConnections: Number.MAX_SAFE_INTEGER,
      inboundConnectionThreshold: Number.MAX_SAFE_INTEGER,
      maxParallelDials: 10,
      maxDialQueueLength: 30, // js-libp2p counts the running dials too
      dialTimeout: 5_000,
      connectionCloseTimeout: 2_000,
      inboundUpgradeTimeout: 3_000
    })
  })

  it('cmLibp2p() - refuses what no part of a js-libp2p node enforces, and the js-libp2p options it sets, every problem at once', () => {
    // @ts-expect-error the reconnect options cannot be enforced in a js-libp2p node
    const config: Libp2pConfig = { reconnectRetries: 3, reconnectJitter: 0.5, maxConnections: 0 }
    // @ts-expect-error cmLibp2p sets js-libp2p's maxConnections itself
    const init: CmLibp2pInit = { connectionManager: { maxConnections: 5, deny: ['/ip4/10.0.0.1'], addressDialTimeout: 1_000 } }
    expect(problemsOf(() => cmLibp2p(config, init))).toEqual([
      expect.stringMatching(/^`reconnectRetries` is not enforced by cmLibp2p; no part of a js-libp2p node can enforce it as @cm defines it .*`connectionManager.reconnectRetries` instead$/),
      expect.stringMatching(/^`reconnectJitter` is not enforced by cmLibp2p; no part of a js-libp2p node can enforce it \(js-libp2p's reconnect queue has no jitter\)$/),
      expect.stringMatching(/^`connectionManager.maxConnections` is set by cmLibp2p: give `maxConnections` in the config/),
      expect.stringMatching(/^`connectionManager.deny` is set by cmLibp2p: give `denyList` in the config/),
      'Expected `maxConnections` to be an integer >= 1, got 0 (number)'
    ])
  })

  it('cmLibp2p() - checks the relations between options, lists fail closed, and a strategy excludes pruneStrategy', () => {
    const holey: string[] = []
    holey[1] = '192.0.2.1'
    expect(problemsOf(() => cmLibp2p({ maxConnections: 2, denyList: holey, allowList: ['10.0.0.1', 7 as never] }))).toEqual([
      expect.stringMatching(/^Expected `allowList\[1\]` to be an IP address/),
      expect.stringMatching(/^Expected `denyList\[0\]` to be an IP address, CIDR range, multiaddr or peer ID, got undefined: the array has a hole here/),
      expect.stringMatching(/^Expected `maxConnectionsPerPeer` \(3\) to be at most `maxConnections` \(2\)/)
    ])
    expect(problemsOf(() => cmLibp2p({ pruneStrategy: 'newest' }, { strategy: 'oldest' }))).toEqual([
      '`pruneStrategy` is not used when `strategy` is given: give one or the other'
    ])
  })

  it('.services.cm - one cmLibp2p() result sets up one node', async () => {
    const options = cmLibp2p()
    await makeNode({ ...options, start: false })
    await expect(makeNode({ ...options, start: false })).rejects.toThrow(/once per node/)
  })
})
