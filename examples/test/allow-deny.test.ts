import { describe, expect, it } from 'vitest'
import { runExample } from './run-example.ts'

describe('examples/allow-deny.ts', () => {
  it('applies deny over allow, IPv6 ranges, peer rules, trust, runtime changes and a lapsing ban', async () => {
    const { output, result } = await runExample('allow-deny.ts')
    expect(result['outcomes']).toEqual([
      { step: 'start', host: '127.0.3.7', outcome: 'deny-list', rule: '127.0.3.0/24' },
      { step: 'start', host: '127.0.5.5', outcome: 'admitted' },
      { step: 'start', host: '127.1.0.1', outcome: 'not-allow-listed' },
      { step: 'start', host: '::1', outcome: 'admitted' },
      { step: 'start', host: '127.0.5.66', outcome: 'peer-denied' },
      { step: 'runtime', host: '::1', outcome: 'deny-list', rule: '::1' },
      { step: 'runtime', host: '127.1.0.1', outcome: 'admitted' },
      { step: 'runtime', host: '127.0.3.7', outcome: 'admitted' },
      { step: 'ban', host: '127.0.5.5', outcome: 'deny-list', rule: '127.0.5.5' },
      { step: 'ban', host: '127.0.5.5', outcome: 'deny-list', rule: '127.0.5.5' },
      { step: 'ban', host: '127.0.5.5', outcome: 'admitted' }
    ])
    expect(result['trusted']).toEqual({ attempts: 4, admitted: 4 })
    expect(result['untrusted']).toEqual({ attempts: 4, admitted: 2 })
    expect(result['dialRefusal']).toBe('deny-list')
    expect(result['banClosed']).toBe(1)
    // 3 refused at accept, 2 open connections closed by new rules, 1 dial, 1 peer after its handshake.
    expect(result['refused']).toMatchObject({ 'deny-list': 7, 'not-allow-listed': 1, 'rate-limit': 2, 'peer-denied': 1 })
    expect(output).toMatch(/connection:deny ::1 \(peer peer@::1\): deny-list, rule ::1; the open connection is closed/)
    expect(output).toContain('All 4 checks held')
  })
})
