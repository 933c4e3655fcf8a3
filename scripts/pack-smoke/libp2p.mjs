// Smoke test of @cm/libp2p installed alone with its peer dependencies (libp2p,
// @libp2p/interface): valid as ESM JavaScript and as TypeScript. It builds a real js-libp2p
// node with the gater (not started, so no network and no Node 22 API are needed), asks the
// gater's hooks, and follows the node with the monitor and the pruner.
import { cmGater, createNodeMonitor, createNodePruner } from '@cm/libp2p'
import { createLibp2p } from 'libp2p'

const monitor = createNodeMonitor()
const open = cmGater({ config: { inboundConnectionThreshold: 5 }, monitor })
const node = await createLibp2p({ start: false, connectionGater: open })

const closed = cmGater({ config: { denyList: [node.peerId.toString()] } })
if (closed.denyDialPeer(node.peerId) !== true || open.denyDialPeer(node.peerId) !== false) {
  throw new Error('denyDialPeer() decided wrongly')
}
if (closed.stats().denied['deny-list'] !== 1 || open.rateLimiter === undefined) {
  throw new Error(`wrong stats: ${JSON.stringify(closed.stats())}`)
}

monitor.start(node)
const pruning = createNodePruner({ monitor, gate: open.gate, config: { maxConnections: 10, maxConnectionsPerPeer: 1 } })
const report = await pruning.prune()
if (monitor.tracker.count() !== 0 || report.closed.length !== 0 || monitor.snapshot().connections.total.total !== 0) {
  throw new Error('the monitor or the pruner saw connections that do not exist')
}
await pruning.stop()
monitor.stop()
await node.stop()
console.log('@cm/libp2p smoke test passed')
