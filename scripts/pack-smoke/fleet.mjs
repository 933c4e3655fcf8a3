// Smoke test of @cm/fleet installed alone: valid as ESM JavaScript and as TypeScript.
// It needs no Redis: it checks the options, the bound, and that a fleet with no Redis to
// reach keeps its own rule and stops cleanly.
import { createGate } from '@cm/gate'
import { budgetBound, createFleet, createFleetAdmin, FleetStoppedError } from '@cm/fleet'

if (budgetBound(30, 3) !== 59) {
  throw new Error('budgetBound(30, 3) is not 59')
}
let refused = false
try {
  createFleet({ budget: { limit: 0 } })
} catch (error) {
  refused = error instanceof Error && error.name === 'InvalidConfigError'
}
if (!refused) {
  throw new Error('a budget limit of 0 was not refused')
}
const gate = createGate()
const fleet = createFleet({ redis: { url: 'redis://127.0.0.1:1', connectTimeoutMs: 200 }, reconnect: { initialDelayMs: 10, maxDelayMs: 10 } })
fleet.attach({ gate })
const starting = fleet.start()
const write = fleet.deny('203.0.113.0/24')
if (gate.check('203.0.113.9').reason !== 'deny-list') {
  throw new Error('a ban written while Redis is away was not enforced locally')
}
await fleet.stop()
for (const pending of [starting, write]) {
  const outcome = await pending.then(() => 'resolved', (error) => FleetStoppedError.isInstance(error) ? 'stopped' : String(error))
  if (outcome !== 'stopped') throw new Error(`expected FleetStoppedError, got ${outcome}`)
}
createFleetAdmin({ prefix: 'cm:fleet:smoke:' }).close()
console.log('@cm/fleet ok')
