import type { PhaseResult } from './phases.ts'

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`

function signedKib (bytes: number): string {
  if (Number.isNaN(bytes)) return 'n/a'
  const kib = bytes / 1024
  return `${kib >= 0 ? '+' : ''}${kib.toFixed(0)} KiB`
}

/** The results as one Markdown table, the checks that failed, and the notes. */
export function formatResults (results: readonly PhaseResult[], run: { readonly short: boolean, readonly seconds: number }): string {
  const lines = [
    `# pnpm attack${run.short ? ' --short' : ''}`,
    '',
    `Node ${process.version} on ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}; the server in its own process, the clients in another, loopback only; ${run.seconds.toFixed(0)} s in all.`,
    '',
    '| phase | attack | attempts | peak sockets held (limit) | peak kernel sockets | peak unsent | kernel sockets left | heap after GC | good client served | refusals/s (bare server) | result |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
  ]
  for (const result of results) {
    const failed = result.checks.filter(check => !check.ok)
    lines.push(`| ${[
      result.phase,
      result.attack,
      result.attempts.toLocaleString('en-US'),
      `${result.peakHeld}${result.limit === undefined ? '' : ` (${result.limit})`}`,
      String(result.peakKernel),
      mib(result.peakUnsentBytes),
      `${result.kernelLeft} after ${Math.round(result.settleMs)} ms`,
      signedKib(result.heapDeltaBytes),
      result.good === undefined ? '—' : `${result.good.served}/${result.good.attempts}`,
      result.refusals === undefined ? '—' : `${Math.round(result.refusals.managed).toLocaleString('en-US')} (${Math.round(result.refusals.bare).toLocaleString('en-US')}, ${(result.refusals.managed / result.refusals.bare).toFixed(2)}×)`,
      failed.length === 0 ? 'pass' : 'FAIL'
    ].join(' | ')} |`)
  }
  lines.push('')
  for (const result of results) {
    for (const check of result.checks) {
      lines.push(`- ${check.ok ? 'pass' : 'FAIL'}: ${result.phase}: ${check.name}`)
    }
    for (const note of result.notes) {
      lines.push(`- note: ${result.phase}: ${note}`)
    }
  }
  return lines.join('\n')
}
