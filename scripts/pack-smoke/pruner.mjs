// Smoke test of @cm/pruner installed alone: valid as ESM JavaScript and as TypeScript.
import { InvalidConfigError } from '@cm/config'
import { Pruner, selectVictims } from '@cm/pruner'

// An untyped Map, so that this file is both plain JavaScript and valid TypeScript.
const open = new Map()
for (const candidate of [
  { id: 1, peer: 'QmA', direction: 'outbound', openedAt: 1_000, streams: 3, value: 50 },
  { id: 2, peer: 'QmB', direction: 'inbound', openedAt: 2_000, streams: 0, value: 0 },
  { id: 3, peer: 'QmC', direction: 'inbound', openedAt: 3_000, streams: 1, value: 0 }
]) {
  open.set(candidate.id, candidate)
}
const selection = selectVictims(open.values(), { target: 1 })
if (selection.victims.map(victim => victim.id).join() !== '2,3' || selection.shortfall !== 0) {
  throw new Error('selectVictims chose the wrong victims')
}

const pruner = new Pruner({
  config: { maxConnections: 2, maxConnectionsPerPeer: 1 },
  connections: () => open.values(),
  close: async victim => open.delete(victim.id)
})
pruner.protection.protect('QmB', 'bootstrap')
const report = await pruner.prune()
if (report.closed.length !== 1 || report.closed[0].connection.id !== 3 || open.size !== 2) {
  throw new Error('the pruner closed the wrong connections')
}

let refused = false
try {
  new Pruner({ config: { maxConnections: 10, pruneLowWatermark: 5, pruneHighWatermark: 10 }, connections: () => [], close: () => true })
} catch (error) {
  refused = InvalidConfigError.isInstance(error)
}
if (!refused) {
  throw new Error('a high watermark at maxConnections was not refused')
}
await pruner.stop()
console.log('@cm/pruner ok')
