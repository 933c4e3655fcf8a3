// Smoke test of @cm/config installed alone: valid as ESM JavaScript and as TypeScript.
import { InvalidConfigError, resolveConfig } from '@cm/config'
import { parseAddressEntry } from '@cm/config/address'

const config = resolveConfig({ maxConnections: 10, denyList: ['10.0.0.0/8'] })
if (config.maxConnections !== 10 || config.dialTimeout !== 10_000) {
  throw new Error('resolveConfig returned the wrong values')
}
if (parseAddressEntry('192.168.1.5/24').text !== '192.168.1.0/24') {
  throw new Error('parseAddressEntry did not normalise')
}
let refused = false
try {
  resolveConfig({ maxConnections: 0 })
} catch (error) {
  refused = InvalidConfigError.isInstance(error)
}
if (!refused) {
  throw new Error('an invalid config was not refused')
}
console.log('@cm/config ok')
