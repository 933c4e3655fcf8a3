import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../src/libp2p.ts', import.meta.url))

describe('examples/libp2p.ts', () => {
  it('guards a real js-libp2p node: a denied peer both ways, a rate-limited flood, a pruned peer, in under 15 s', () => {
    const started = performance.now()
    // execFileSync throws if the example exits non-zero (a check failed) or runs past 15 s.
    const output = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 15_000 })
    expect(performance.now() - started).toBeLessThan(15_000)
    expect(output).toMatch(/deny {2}denyInboundConnection: rate-limit/)
    expect(output).toContain('ok    the flood from one host is rate limited')
    expect(output).toMatch(/deny {2}denyInboundEncryptedConnection: deny-list \(peer \w+\)/)
    expect(output).toMatch(/deny {2}denyDialPeer: deny-list/)
    expect(output).toContain('ok    the guard does not dial a denied peer (DialDeniedError)')
    expect(output).toMatch(/prune #\d+ of \w+: max-connections-per-peer/)
    expect(output).toContain('ok    the monitor recorded one denial after the handshake and one prune')
    expect(output).toContain('All as expected.')
  })
})
