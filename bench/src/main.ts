import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_ROUNDS, formatResultsFile, formatSuite, formatTargets, measureSuite } from './harness.ts'
import { configSuite } from './suites/config.ts'
import { fleetSuite, fleetTcpSuite } from './suites/fleet.ts'
import { gateBuildSuite, gateHostileSuite, gateScaleSuite, gateSuite } from './suites/gate.ts'
import { libp2pSuite } from './suites/libp2p.ts'
import { managerAdmissionSuite, managerTcpSuite } from './suites/manager.ts'
import { prunerSuites } from './suites/pruner.ts'
import { rateLimitFloodSuite, rateLimitSuite } from './suites/rate-limit.ts'
import { soakSuite } from './suites/soak.ts'
import { stateCountSuite, stateSuite } from './suites/state.ts'
import type { BenchSuite, SuiteResult } from './harness.ts'

/** Every suite, in the order they run. `pnpm bench <name>…` runs only the named ones. */
const SUITES: readonly BenchSuite[] = [configSuite, gateSuite, gateScaleSuite, gateBuildSuite, gateHostileSuite, ...prunerSuites, managerAdmissionSuite, managerTcpSuite, rateLimitSuite, rateLimitFloodSuite, stateSuite, stateCountSuite, libp2pSuite, fleetSuite, fleetTcpSuite, soakSuite]

const flag = (name: string): string | undefined => process.argv.find(argument => argument.startsWith(`--${name}=`))?.slice(name.length + 3)
const wanted = process.argv.slice(2).filter(argument => !argument.startsWith('-'))
const unknown = wanted.filter(name => !SUITES.some(suite => suite.name === name))
if (unknown.length > 0) {
  console.error(`Unknown suite(s): ${unknown.join(', ')}. Suites: ${[...new Set(SUITES.map(suite => suite.name))].join(', ')}`)
  process.exit(2)
}
const roundsText = flag('rounds')
const rounds = roundsText === undefined ? DEFAULT_ROUNDS : Number(roundsText)
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`--rounds wants a positive integer, got ${JSON.stringify(roundsText)}`)
  process.exit(2)
}
const report = process.argv.includes('--report')
if (report && wanted.length > 0) {
  console.error('--report writes bench/RESULTS.md from a run of every suite: name no suite with it')
  process.exit(2)
}
const names = [...new Set((wanted.length === 0 ? SUITES : SUITES.filter(suite => wanted.includes(suite.name))).map(suite => suite.name))]
const results: SuiteResult[] = []

if (process.argv.includes('--in-process') || names.length === 1) {
  // The suites named, one after another in this process (suites sharing a name run together).
  if (!process.argv.includes('--no-header')) printHeader()
  for (const suite of SUITES.filter(each => names.includes(each.name))) {
    const result = await measureSuite(suite, { rounds })
    console.log(formatSuite(result))
    results.push(result)
  }
  const json = flag('json')
  if (json !== undefined) writeFileSync(json, JSON.stringify(results))
} else {
  // Each suite name in a fresh process, so that no suite measures another's garbage or JIT
  // state; each hands its results back in a file. `--expose-gc` for the memory figures.
  printHeader()
  const folder = mkdtempSync(join(tmpdir(), 'cm-bench-'))
  try {
    for (const name of names) {
      const file = join(folder, `${name}.json`)
      const child = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), name, `--rounds=${rounds}`, '--no-header', `--json=${file}`], { stdio: 'inherit' })
      if (child.status !== 0) {
        console.error(`suite ${name} failed (${child.signal ?? `exit ${child.status}`})`)
        process.exitCode = 1
        continue
      }
      results.push(...JSON.parse(readFileSync(file, 'utf8')) as SuiteResult[])
    }
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
}

if (!process.argv.includes('--no-header') && results.some(result => result.targets.length > 0)) {
  console.log(`## Targets\n\n${formatTargets(results)}\n`)
}

if (report) {
  if (process.exitCode === 1) {
    console.error('A suite failed: bench/RESULTS.md is left as it was.')
  } else {
    const file = fileURLToPath(new URL('../RESULTS.md', import.meta.url))
    writeFileSync(file, `${formatResultsFile(results, runInfo())}\n`)
    console.log(`Wrote ${file}`)
  }
}

function runInfo (): Parameters<typeof formatResultsFile>[1] {
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  } catch {
    // Not a git checkout: the commit stays unknown.
  }
  const cpu = cpus()
  return {
    date: new Date().toISOString().slice(0, 10),
    commit,
    machine: `Node ${process.version}, ${process.platform}/${process.arch}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
    command: 'pnpm bench --report',
    rounds
  }
}

function printHeader (): void {
  console.log(`# @cm benchmarks\n\nNode ${process.version} on ${process.platform}/${process.arch}; medians per operation; the tasks of a suite side by side in one process, ${rounds === 1 ? 'each task in one stretch' : `sampled in ${rounds} rounds (forward, then backward)`}, each suite in a process of its own.\n`)
}
