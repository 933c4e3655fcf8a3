// Smoke test of @cm/libp2p installed alone with its peer dependencies (libp2p,
// @libp2p/interface): valid as ESM JavaScript and as TypeScript. It sets up a real js-libp2p
// node with cmLibp2p (not started, so no network and no Node 22 API are needed), asks the
// gater's hooks, and uses the parts on their own.
import { cmGater, cmLibp2p, createNodeMonitor, createNodePruner } from '@cm/libp2p'
import { createLibp2p } from 'libp2p'

const node = await createLibp2p({ start: false, ...cmLibp2p({ maxConnections: 10, maxConnectionsPerPeer: 1, inboundConnectionThreshold: 5 }) })
const { gater, monitor, pruning } = node.services.cm
if (gater.denyDialPeer(node.peerId) !== false || gater.rateLimiter === undefined) {
  throw new Error('the gater of cmLibp2p decided wrongly')
}

const closed = cmGater({ config: { denyList: [node.peerId.toString()] } })
if (closed.denyDialPeer(node.peerId) !== true || closed.stats().denied['deny-list'] !== 1) {
  throw new Error(`denyDialPeer() decided wrongly: ${JSON.stringify(closed.stats())}`)
}
let refused = ''
try {
  cmGater({ config: JSON.parse('{ "dialTimeout": 1 }') }) // a config read from a file
} catch (error) {
  refused = error instanceof Error ? error.message : ''
}
if (!refused.includes('`dialTimeout` is not enforced by cmGater')) {
  throw new Error(`an option the gater does not enforce was not refused: ${refused}`)
}

const standalone = createNodeMonitor()
standalone.start(node)
const report = await createNodePruner({ monitor: standalone, config: { maxConnections: 10, maxConnectionsPerPeer: 1 } }).prune()
if (monitor.tracker.count() !== 0 || report.closed.length !== 0 || standalone.snapshot().connections.total.total !== 0 || pruning.pruner.needsPruning(11) !== true) {
  throw new Error('the monitor or the pruner saw connections that do not exist')
}
standalone.stop()
await node.stop()
console.log('@cm/libp2p smoke test passed')
