import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { DEFAULT_ROUNDS, formatTable, runSuite } from './harness.ts'
import { configSuite } from './suites/config.ts'
import { fleetSuite, fleetTcpSuite } from './suites/fleet.ts'
import { gateBuildSuite, gateScaleSuite, gateSuite } from './suites/gate.ts'
import { libp2pSuite } from './suites/libp2p.ts'
import { managerAdmissionSuite, managerTcpSuite } from './suites/manager.ts'
import { prunerSuites } from './suites/pruner.ts'
import { rateLimitFloodSuite, rateLimitSuite } from './suites/rate-limit.ts'
import { stateCountSuite, stateSuite } from './suites/state.ts'
import type { BenchSuite } from './harness.ts'

/** Every suite, in the order they run. `pnpm bench <name>…` runs only the named ones. */
const SUITES: readonly BenchSuite[] = [configSuite, gateSuite, gateScaleSuite, gateBuildSuite, ...prunerSuites, managerAdmissionSuite, managerTcpSuite, rateLimitSuite, rateLimitFloodSuite, stateSuite, stateCountSuite, libp2pSuite, fleetSuite, fleetTcpSuite]

const wanted = process.argv.slice(2).filter(argument => !argument.startsWith('-'))
const unknown = wanted.filter(name => !SUITES.some(suite => suite.name === name))
if (unknown.length > 0) {
  console.error(`Unknown suite(s): ${unknown.join(', ')}. Suites: ${[...new Set(SUITES.map(suite => suite.name))].join(', ')}`)
  process.exit(2)
}
const roundsFlag = process.argv.find(argument => argument.startsWith('--rounds='))
const rounds = roundsFlag === undefined ? DEFAULT_ROUNDS : Number(roundsFlag.slice('--rounds='.length))
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`--rounds wants a positive integer, got ${JSON.stringify(roundsFlag)}`)
  process.exit(2)
}
const names = [...new Set((wanted.length === 0 ? SUITES : SUITES.filter(suite => wanted.includes(suite.name))).map(suite => suite.name))]

if (process.argv.includes('--in-process') || names.length === 1) {
  // The suites named, one after another in this process (suites sharing a name run together).
  if (!process.argv.includes('--no-header')) printHeader()
  for (const suite of SUITES.filter(each => names.includes(each.name))) {
    const rows = await runSuite(suite, { rounds })
    console.log(`## ${suite.name}: ${suite.description}\n`)
    console.log(formatTable(rows))
    for (const line of await suite.report?.() ?? []) {
      console.log(line)
    }
    console.log('')
  }
} else {
  // Each suite name in a fresh process, so that no suite measures another's garbage or JIT state.
  printHeader()
  for (const name of names) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name, `--rounds=${rounds}`, '--no-header'], { stdio: 'inherit' })
    if (child.status !== 0) {
      console.error(`suite ${name} failed (${child.signal ?? `exit ${child.status}`})`)
      process.exitCode = 1
    }
  }
}

function printHeader (): void {
  console.log(`# @cm benchmarks\n\nNode ${process.version} on ${process.platform}/${process.arch}; medians per operation; the tasks of a suite side by side in one process, ${rounds === 1 ? 'each task in one stretch' : `sampled in ${rounds} rounds (forward, then backward)`}, each suite in a process of its own.\n`)
}
