import { describe, expect, it } from 'vitest'
import { runExample } from './run-example.ts'

describe('examples/connection-limits.ts', () => {
  it('refuses over maxConnections, admits after raising it, prunes by strategy and per peer', async () => {
    const { output, result } = await runExample('connection-limits.ts')
    const { refused, ...rest } = result
    expect(refused).toMatchObject({ 'max-connections': 3, 'rate-limit': 0, 'pending-limit': 0 })
    expect(rest).toEqual({
      refusedAtLimit3: ['dave', 'erin', 'frank'],
      admittedAfterRaise: ['dave', 'erin', 'frank'],
      prunedOldest: ['alice', 'bob'],
      prunedLeastValuable: ['frank', 'erin'],
      prunedPerPeer: [{ peer: 'carol', reason: 'max-connections-per-peer', newest: true }],
      finalOpen: ['carol', 'dave', 'carol'],
      pruned: { 'max-connections': 4, 'high-watermark': 0, 'max-connections-per-peer': 1 }
    })
    expect(output).toMatch(/dave\s+from 127\.0\.1\.4: refused \(max-connections\)/)
    expect(output).toContain('All 7 checks held')
  })
})
