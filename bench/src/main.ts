import { formatTable, runSuite } from './harness.ts'
import { configSuite } from './suites/config.ts'
import { gateBuildSuite, gateScaleSuite, gateSuite } from './suites/gate.ts'
import { libp2pSuite } from './suites/libp2p.ts'
import { managerAdmissionSuite, managerTcpSuite } from './suites/manager.ts'
import { prunerSuites } from './suites/pruner.ts'
import { rateLimitFloodSuite, rateLimitSuite } from './suites/rate-limit.ts'
import { stateCountSuite, stateSuite } from './suites/state.ts'
import type { BenchSuite } from './harness.ts'

/** Every suite, in the order they run. `pnpm bench <name>…` runs only the named ones. */
const SUITES: readonly BenchSuite[] = [configSuite, gateSuite, gateScaleSuite, gateBuildSuite, ...prunerSuites, managerAdmissionSuite, managerTcpSuite, rateLimitSuite, rateLimitFloodSuite, stateSuite, stateCountSuite, libp2pSuite]

const wanted = process.argv.slice(2).filter(argument => !argument.startsWith('-'))
const unknown = wanted.filter(name => !SUITES.some(suite => suite.name === name))
if (unknown.length > 0) {
  console.error(`Unknown suite(s): ${unknown.join(', ')}. Suites: ${SUITES.map(suite => suite.name).join(', ')}`)
  process.exit(2)
}
const selected = wanted.length === 0 ? SUITES : SUITES.filter(suite => wanted.includes(suite.name))

console.log(`# @cm benchmarks\n\nNode ${process.version} on ${process.platform}/${process.arch}; medians per operation, each suite side by side in one process.\n`)
for (const suite of selected) {
  const rows = await runSuite(suite)
  console.log(`## ${suite.name}: ${suite.description}\n`)
  console.log(formatTable(rows))
  for (const line of await suite.report?.() ?? []) {
    console.log(line)
  }
  console.log('')
}
