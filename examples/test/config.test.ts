import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../src/config.ts', import.meta.url))

describe('examples/config.ts', () => {
  it('prints the resolved defaults, the update and every problem of a bad config', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 })
    expect(output).toMatch(/maxConnectionsPerPeer\s+3/)
    expect(output).toMatch(/dialTimeout\s+10000/)
    expect(output).toContain('Updated options: maxConnections, dialTimeout')
    expect(output).toContain('Invalid configuration (5 problems):')
    expect(output).toContain('Unknown option `maxConection` (did you mean `maxConnections`?)')
    expect(output).toContain('Expected `denyList[1]` to be an IP address, CIDR range, multiaddr or peer ID, got "example.com" (string)')
  })
})
