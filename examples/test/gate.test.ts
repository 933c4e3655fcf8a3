import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../src/gate.ts', import.meta.url))

describe('examples/gate.ts', () => {
  it('prints the verdicts, the ban lapsing, and the saved lists', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 })
    expect(output).toMatch(/10\.1\.2\.3 \(denied and allowed: deny wins\)\s+refused: deny-list \(rule 10\.0\.0\.0\/8\)/)
    expect(output).toMatch(/::ffff:10\.1\.2\.3 \(the same IPv4 address\)\s+refused: deny-list/)
    expect(output).toMatch(/192\.168\.1\.1 \(allowed and trusted\)\s+allowed: allowed \(rule 192\.168\.0\.0\/16\), trusted/)
    expect(output).toMatch(/as another\s+refused: not-allow-listed/)
    expect(output).toMatch(/010\.1\.2\.3 \(ambiguous text\)\s+refused: invalid-address/)
    expect(output).toMatch(/ten minutes later\s+allowed: allowed/)
    expect(output).toContain('{"entry":"192.168.8.8","expiresInMs":60000}')
    expect(output).toMatch(/restored gate, 192\.168\.8\.8\s+refused: deny-list/)
  })
})
