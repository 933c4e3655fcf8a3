/**
 * `pnpm attack [phase…] [--short]`: runs the attack phases against a managed server in its
 * own process, on loopback, and prints one table. Exits 1 if any check failed.
 */
import { PHASES } from './phases.ts'
import { formatResults } from './report.ts'
import type { PhaseResult } from './phases.ts'

const short = process.argv.includes('--short')
const wanted = process.argv.slice(2).filter(argument => !argument.startsWith('-'))
const unknown = wanted.filter(name => !PHASES.some(phase => phase.name === name))
if (unknown.length > 0) {
  console.error(`Unknown phase(s): ${unknown.join(', ')}. Phases: ${PHASES.map(phase => phase.name).join(', ')}`)
  process.exit(2)
}
if (process.platform !== 'linux') {
  console.error('The attack suite reads the kernel\'s socket table from /proc/net/tcp: it runs on Linux only.')
  process.exit(2)
}

const results: PhaseResult[] = []
const started = performance.now()
for (const phase of PHASES.filter(each => wanted.length === 0 || wanted.includes(each.name))) {
  process.stderr.write(`attack: ${phase.name}…\n`)
  results.push(await phase.run({ short }))
}
console.log(formatResults(results, { short, seconds: (performance.now() - started) / 1_000 }))
if (results.some(result => result.checks.some(check => !check.ok))) {
  process.exitCode = 1
}
