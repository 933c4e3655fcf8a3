import { InvalidConfigError } from '@cm/config'
import { createGate } from '@cm/gate'
import { afterEach, describe, expect, it } from 'vitest'
import { cmGater } from '../src/gater.ts'
import { createNodeMonitor } from '../src/monitor.ts'
import { createNodePruner } from '../src/pruning.ts'
import { addressOf, makeNode, stopNodes, until } from './support/nodes.ts'
import { problemsOf } from './support/problems.ts'
import type { ConnectionPruneDetail, PrunerConfig } from '../src/pruning.ts'

const stopping: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const stop of stopping.splice(0)) await stop()
  await stopNodes()
})

/** A hub node followed by a monitor and pruned by a node pruner with `config`. */
async function prunedHub (config: { maxConnections: number, maxConnectionsPerPeer: number }, gate = createGate()): Promise<{
  hub: Awaited<ReturnType<typeof makeNode>>
  monitor: ReturnType<typeof createNodeMonitor>
  pruning: ReturnType<typeof createNodePruner>
  prunes: ConnectionPruneDetail[]
  /** The state of each pruned connection's record as its event was dispatched. */
  states: string[]
}> {
  const monitor = createNodeMonitor()
  // js-libp2p's own limit sits above ours, so that ours decides what is pruned.
  const hub = await makeNode({ connectionGater: cmGater({ gate, monitor }), connectionManager: { maxConnections: 50 } })
  monitor.start(hub)
  const pruning = createNodePruner({ monitor, gate, config })
  const prunes: ConnectionPruneDetail[] = []
  const states: string[] = []
  pruning.events.addEventListener('connection:prune', event => {
    prunes.push(event.detail)
    states.push(event.detail.connection.state)
  })
  stopping.push(async () => { await pruning.stop() }, () => { monitor.stop() })
  return { hub, monitor, pruning, prunes, states }
}

describe('createNodePruner() on real js-libp2p nodes', () => {
  it('.pruner - a peer over maxConnectionsPerPeer is pruned down to it', async () => {
    const { hub, monitor, prunes, states } = await prunedHub({ maxConnections: 10, maxConnectionsPerPeer: 1 })
    const spoke = await makeNode()
    await spoke.dial(addressOf(hub))
    await spoke.dial(addressOf(hub), { force: true })
    await until(() => prunes.length === 1 && hub.getConnections().length === 1)
    expect(prunes.map(entry => entry.reason)).toEqual(['max-connections-per-peer'])
    expect(states).toEqual(['closing'])
    expect(monitor.tracker.count({ peer: spoke.peerId.toString(), state: 'open' })).toBe(1)
    expect(monitor.tracker.history().map(record => record.closeReason)).toEqual(['pruned'])
    await until(() => spoke.getConnections().length === 1)
  })

  it('.pruner - a node over maxConnections closes the least valuable: untagged, then newest', async () => {
    const { hub, monitor, pruning, prunes } = await prunedHub({ maxConnections: 3, maxConnectionsPerPeer: 3 })
    const spokes = await Promise.all([0, 1, 2, 3].map(async () => await makeNode()))
    const [plainOld, plainNew, tagged, protectedPeer] = spokes as [typeof spokes[number], typeof spokes[number], typeof spokes[number], typeof spokes[number]]
    await hub.peerStore.merge(tagged.peerId, { tags: { important: { value: 50 } } })
    pruning.protection.protect(protectedPeer.peerId.toString(), 'bootstrap')
    for (const spoke of [plainOld, plainNew, tagged]) {
      await spoke.dial(addressOf(hub))
      await until(() => monitor.tracker.count({ peer: spoke.peerId.toString(), state: 'open' }) === 1)
    }
    expect(prunes).toHaveLength(0)
    await protectedPeer.dial(addressOf(hub)) // the fourth: one must go
    await until(() => prunes.length === 1 && hub.getConnections().length === 3)
    expect(prunes.map(entry => entry.connection.peer)).toEqual([plainNew.peerId.toString()])
    expect(prunes[0]?.reason).toBe('max-connections')
    expect(hub.getConnections().map(connection => connection.remotePeer.toString()).sort())
      .toEqual([plainOld, tagged, protectedPeer].map(spoke => spoke.peerId.toString()).sort())
  })

  it('.pruner - trusted connections are never pruned: the shortfall is reported', async () => {
    const { hub, pruning } = await prunedHub({ maxConnections: 1, maxConnectionsPerPeer: 1 }, createGate({ trustedList: ['127.0.0.1'] }))
    const spokes = await Promise.all([0, 1].map(async () => await makeNode()))
    for (const spoke of spokes) await spoke.dial(addressOf(hub))
    await until(() => hub.getConnections().length === 2)
    const report = await pruning.prune()
    expect(report.closed).toHaveLength(0)
    expect(report.shortfall).toBe(1)
    expect(hub.getConnections()).toHaveLength(2)
  })

  it('.stop() - no pass starts once stopped', async () => {
    const { hub, pruning, prunes } = await prunedHub({ maxConnections: 10, maxConnectionsPerPeer: 1 })
    await pruning.stop()
    await pruning.stop()
    const spoke = await makeNode()
    await spoke.dial(addressOf(hub))
    await spoke.dial(addressOf(hub), { force: true })
    await until(() => hub.getConnections().length === 2)
    expect(prunes).toHaveLength(0)
  })
})

describe('createNodePruner()', () => {
  it('createNodePruner() - refuses malformed options, every problem at once', () => {
    let paths: string[] = []
    try {
      createNodePruner({ monitor: {} as never, gate: 5 as never, config: { maxConnections: 0 } })
    } catch (error) {
      if (!InvalidConfigError.isInstance(error)) throw error
      paths = error.problems.map(problem => problem.path)
    }
    expect(paths).toEqual(['monitor', 'gate', 'maxConnections'])
  })

  it('createNodePruner({ config }) - takes only the options it enforces, at compile time and at run time; the others name who enforces them', () => {
    const monitor = createNodeMonitor()
    // @ts-expect-error denyList and connectionHistorySize are not the pruner's options
    const config: PrunerConfig = { maxConnections: 10, denyList: ['10.0.0.0/8'], connectionHistorySize: 5 }
    expect(problemsOf(() => createNodePruner({ monitor, config }))).toEqual([
      '`denyList` is not enforced by createNodePruner; cmGater enforces it',
      '`connectionHistorySize` is not enforced by createNodePruner; createNodeMonitor enforces it (its own `connectionHistorySize` option)'
    ])
    expect(problemsOf(() => createNodePruner({ monitor, strategy: 'oldest', config: { pruneStrategy: 'newest' } }))).toEqual([
      '`pruneStrategy` is not used when `strategy` is given: give one or the other'
    ])
  })

  it('.prune() - without a node, prunes nothing', async () => {
    const pruning = createNodePruner({ monitor: createNodeMonitor() })
    await expect(pruning.prune()).resolves.toEqual({ closed: [], failed: [], shortfall: 0 })
    await pruning.stop()
  })
})
