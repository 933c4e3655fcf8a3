import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../src/libp2p.ts', import.meta.url))

describe('examples/libp2p.ts', () => {
  it('guards a real js-libp2p node: a denied peer both ways, a rate-limited flood, a pruned peer, in under 15 s', () => {
    // execFileSync throws if the example exits non-zero (a check failed). The process may
    // take longer than its own run on a loaded machine (starting Node, loading js-libp2p).
    const output = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 })
    const seconds = Number(/finished in ([\d.]+) s/.exec(output)?.[1])
    expect(seconds).toBeLessThan(15)
    expect(output).toMatch(/deny {2}denyInboundConnection: rate-limit/)
    expect(output).toContain('ok    the flood from one host is rate limited')
    expect(output).toMatch(/deny {2}denyInboundEncryptedConnection: deny-list \(peer \w+\)/)
    expect(output).toMatch(/deny {2}denyDialPeer: deny-list/)
    expect(output).toContain('ok    the guard does not dial a denied peer (DialDeniedError)')
    expect(output).toMatch(/prune #\d+ of \w+: max-connections-per-peer/)
    expect(output).toContain('ok    the monitor recorded one denial after the handshake and one prune')
    expect(output).toMatch(/^All as expected\.$/m)
  })
})
