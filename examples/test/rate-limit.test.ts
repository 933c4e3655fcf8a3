import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../src/rate-limit.ts', import.meta.url))

describe('examples/rate-limit.ts', () => {
  it('throttles the hammering host, admits the polite one, groups a /64 and holds a flood at the cap', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 })
    expect(output).toContain('Hammering host (40 attempts in 2 s): 14 admitted')
    expect(output).toContain('Polite host (8 attempts in 2 s): 8 admitted')
    expect(output).toContain('Six addresses of one IPv6 /64 at once: 5 admitted')
    expect(output).toContain('"reason":"rate-limit"')
    expect(output).toContain('the polite host was admitted 4 of 4 times')
    expect(output).toContain('host tier: 10001 keys held in both families (cap 10000 per family)')
  })
})
