/**
 * Example: resolving a connection config, deriving an update, and what a bad config says.
 *
 * Run: pnpm --filter @cm/examples config
 */
import { changedOptions, InvalidConfigError, resolveConfig, updateConfig } from '@cm/config'

const config = resolveConfig({
  maxConnections: 100,
  inboundConnectionThreshold: 10,
  denyList: ['10.0.0.0/8', '/ip6/2001:db8::/ipcidr/32', '::ffff:192.168.0.0/112']
})
console.log('Resolved config (durations in milliseconds):')
for (const [name, value] of Object.entries(config)) {
  console.log(`  ${name.padEnd(30)} ${JSON.stringify(value)}`)
}

const lower = updateConfig(config, { maxConnections: 50, dialTimeout: 5_000 })
console.log(`\nUpdated options: ${changedOptions(config, lower).join(', ')}`)

let refused = false
try {
  resolveConfig({ maxConnections: 0, maxConection: 5, dialTimeout: Number.NaN, denyList: ['1.2.3.4/33', 'example.com'] } as never)
} catch (error) {
  if (!InvalidConfigError.isInstance(error)) {
    throw error
  }
  refused = true
  console.log(`\nA bad config is refused with every problem at once:\n${error.message}`)
}

if (!refused || lower.maxConnections !== 50 || config.dialTimeout !== 10_000) {
  console.error('The example did not behave as described.')
  process.exit(1)
}
