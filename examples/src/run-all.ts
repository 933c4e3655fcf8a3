/**
 * Runs every example in turn, each in its own process with a time limit, and fails if any
 * fails. Run: pnpm examples
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Every example script, in the order they run: the single packages, the libp2p adapter, the manager's, then the fleet's. */
export const EXAMPLES: readonly string[] = [
  'config.ts',
  'gate.ts',
  'rate-limit.ts',
  'state.ts',
  'libp2p.ts',
  'connection-limits.ts',
  'rate-limiting.ts',
  'allow-deny.ts',
  'state-monitoring.ts',
  'comprehensive.ts',
  'fleet.ts'
]

/** Each example finishes in well under this (they stop themselves after 14 s). */
const TIME_LIMIT_MS = 20_000

let failed = 0
for (const script of EXAMPLES) {
  const path = fileURLToPath(new URL(script, import.meta.url))
  console.log(`\n=== ${script} ===`)
  const started = performance.now()
  const result = spawnSync(process.execPath, ['--import', 'tsx', path], { stdio: 'inherit', timeout: TIME_LIMIT_MS })
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  if (result.status === 0) {
    console.log(`=== ${script}: ok (${seconds} s) ===`)
  } else {
    failed++
    console.log(`=== ${script}: FAILED (${result.signal ?? `exit ${result.status}`}, ${seconds} s) ===`)
  }
}
console.log(`\n${EXAMPLES.length - failed} of ${EXAMPLES.length} examples passed.`)
process.exitCode = failed === 0 ? 0 : 1
