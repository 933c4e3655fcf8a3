// Smoke test of @cm/state installed alone: valid as ESM JavaScript and as TypeScript.
import { createConnectionTracker, InvalidTransitionError } from '@cm/state'

let listenerErrors = 0
const tracker = createConnectionTracker({ connectionHistorySize: 5, onListenerError: () => { listenerErrors++ } })
let events = ''
tracker.events.addEventListener('peer:connect', event => { events += `connect ${event.detail.peer}, ` })
tracker.events.addEventListener('peer:disconnect', event => { events += `disconnect ${event.detail.peer}` })
tracker.events.addEventListener('connection:open', () => { throw new Error('a listener bug must not crash anything') })

const record = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/4001', peer: 'peer-a' })
tracker.open(record.id)
if (tracker.count({ state: 'open', direction: 'inbound', host: '::ffff:10.0.0.1' }) !== 1) {
  throw new Error('count() is wrong')
}
let refused = false
try {
  tracker.open(record.id)
} catch (error) {
  refused = InvalidTransitionError.isInstance(error)
}
if (!refused) {
  throw new Error('an illegal transition was not refused')
}
tracker.close(record.id, 'remote')
if (tracker.close(record.id, 'local') !== false || tracker.size !== 0) {
  throw new Error('a second close was not a no-op')
}
if (events !== 'connect peer-a, disconnect peer-a' || listenerErrors !== 1) {
  throw new Error(`wrong events: ${events}; listener errors: ${listenerErrors}`)
}
if (tracker.snapshot().closed.byReason.remote !== 1 || tracker.history()[0]?.closeReason !== 'remote') {
  throw new Error('the snapshot or the history is wrong')
}
console.log('@cm/state ok')
