#!/usr/bin/env node
// `pnpm mutate [package…] [--force] [--baseline]`: mutation testing with Stryker, one package
// after another, then a table of scores. See TESTING.md.
//
// Each package is tested in incremental mode: its results file,
// reports/mutation/<package>/incremental.json, is seeded from the committed baseline
// mutation/<package>.json, so only the mutants in code or tests that changed since the
// baseline run again. --force runs every mutant; --baseline copies each package's results
// back to mutation/<package>.json once its run has ended, to be committed.
import { spawnSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const THRESHOLD = 92
const root = join(import.meta.dirname, '..')
const packagesDir = join(root, 'packages')
const stryker = join(root, 'node_modules', '.bin', 'stryker')

const args = process.argv.slice(2)
const flags = new Set(args.filter(arg => arg.startsWith('--')))
for (const flag of flags) {
  if (!['--force', '--baseline', '--help'].includes(flag)) fail(`unknown option ${flag}`)
}
if (flags.has('--help')) {
  console.log('usage: pnpm mutate [package…] [--force] [--baseline]')
  process.exit(0)
}

const known = readdirSync(packagesDir).filter(name => existsSync(join(packagesDir, name, 'stryker.config.mjs'))).sort(byRunOrder)
const chosen = args.filter(arg => !arg.startsWith('--')).map(name => name.replace(/^@cm\//, ''))
for (const name of chosen) {
  if (!known.includes(name)) fail(`no mutation testing set up for "${name}"; known: ${known.join(', ')}`)
}
const names = chosen.length > 0 ? chosen : known

// A run killed hard leaves instrumented src behind: put it back before anything builds from it.
for (const name of names) restoreIfInstrumented(join(packagesDir, name, 'src'), join(root, 'reports', 'mutation', name, 'src-backup'))

// The tests import the other @cm packages from their dist: build them (turbo caches).
const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', ...names.map(name => `--filter=@cm/${name}...`)], { cwd: root, stdio: 'inherit' })
if (build.status !== 0) fail('the build failed')

const rows = []
for (const name of names) {
  const dir = join(packagesDir, name)
  const reports = join(root, 'reports', 'mutation', name)
  const results = join(reports, 'incremental.json')
  const baseline = join(root, 'mutation', `${name}.json`)
  mkdirSync(reports, { recursive: true })
  if (!existsSync(results) && existsSync(baseline)) copyFileSync(baseline, results)
  // Stryker mutates src in place (stryker.base.mjs) and restores it when it ends; a run killed
  // hard would leave instrumented src behind, so keep a copy until the run has ended.
  const src = join(dir, 'src')
  const backup = join(reports, 'src-backup')
  rmSync(backup, { recursive: true, force: true })
  cpSync(src, backup, { recursive: true })

  console.log(`\n=== mutate @cm/${name} ===`)
  const started = Date.now()
  const run = spawnSync(stryker, ['run', ...(flags.has('--force') ? ['--force'] : [])], { cwd: dir, stdio: 'inherit' })
  const seconds = Math.round((Date.now() - started) / 1000)
  restoreIfInstrumented(src, backup)
  rmSync(backup, { recursive: true, force: true })
  // The vitest runner's setup files, which an interrupted run leaves in the package.
  for (const file of readdirSync(dir)) {
    if (/^stryker-setup-\d+\.js$/.test(file)) rmSync(join(dir, file), { force: true })
  }
  const report = join(reports, 'mutation.json')
  // Stryker exits 1 when the score is under the break threshold; the report is still written.
  if (run.status === null || !existsSync(report)) {
    rows.push({ name, failed: true, seconds })
    continue
  }
  rows.push({ name, seconds, ...count(JSON.parse(readFileSync(report, 'utf8'))) })
  if (flags.has('--baseline')) {
    mkdirSync(join(root, 'mutation'), { recursive: true })
    copyFileSync(results, baseline)
  }
}

console.log('\n' + table(rows))
const failed = rows.filter(row => row.failed || row.score < THRESHOLD)
if (failed.length > 0) {
  console.error(`\nunder ${THRESHOLD}% or failed: ${failed.map(row => row.name).join(', ')} (reports/mutation/<package>/index.html lists the survivors)`)
  process.exit(1)
}

/** Counts a mutation-testing-report-schema report, and the score as Stryker computes it. */
function count (report) {
  const totals = { mutants: 0, killed: 0, survived: 0, timeout: 0, noCoverage: 0, ignored: 0, errors: 0 }
  for (const file of Object.values(report.files)) {
    for (const mutant of file.mutants) {
      totals.mutants++
      switch (mutant.status) {
        case 'Killed': totals.killed++; break
        case 'Survived': totals.survived++; break
        case 'Timeout': totals.timeout++; break
        case 'NoCoverage': totals.noCoverage++; break
        case 'Ignored': totals.ignored++; break
        default: totals.errors++ // CompileError, RuntimeError, Pending: not in the score
      }
    }
  }
  const detected = totals.killed + totals.timeout
  const valid = detected + totals.survived + totals.noCoverage
  return { ...totals, score: valid === 0 ? 100 : (100 * detected) / valid }
}

function table (rows) {
  const header = ['package', 'mutants', 'killed', 'survived', 'timeout', 'no cov.', 'ignored', 'errors', 'score', 'time']
  const lines = rows.map(row => row.failed
    ? [`@cm/${row.name}`, 'run failed', '', '', '', '', '', '', '', `${row.seconds}s`]
    : [`@cm/${row.name}`, row.mutants, row.killed, row.survived, row.timeout, row.noCoverage, row.ignored, row.errors, `${row.score.toFixed(2)}%`, `${row.seconds}s`].map(String))
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map(line => line[column].length)))
  const format = line => line.map((cell, column) => column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])).join('  ')
  return [format(header), format(widths.map(width => '-'.repeat(width))), ...lines.map(format)].join('\n')
}

/** Dependencies first, so that a run over several packages reads bottom-up. */
function byRunOrder (a, b) {
  const order = ['config', 'gate', 'rate-limit', 'pruner', 'state', 'manager', 'fleet']
  return (order.indexOf(a) + 1 || order.length + 1) - (order.indexOf(b) + 1 || order.length + 1) || a.localeCompare(b)
}

/** Puts src back from the copy if Stryker's instrumentation is still in it (a run killed hard). */
function restoreIfInstrumented (src, backup) {
  if (!existsSync(backup)) return
  const instrumented = readdirSync(src, { recursive: true, withFileTypes: true })
    .some(entry => entry.isFile() && readFileSync(join(entry.parentPath, entry.name), 'utf8').includes('stryMutAct_9fa48'))
  if (!instrumented) return
  console.error(`mutate: ${src} still held mutated code from an interrupted run; restored it`)
  rmSync(src, { recursive: true, force: true })
  cpSync(backup, src, { recursive: true })
}

function fail (message) {
  console.error(`mutate: ${message}`)
  process.exit(2)
}
