import { describe, expect, it } from 'vitest'
import { runExample } from './run-example.ts'

describe('examples/rate-limiting.ts', () => {
  it('admits a burst of 3 per host, says when to retry, admits again on time, and holds a flood to its rate', async () => {
    const { output, result } = await runExample('rate-limiting.ts')
    expect(result['burst']).toEqual({
      '127.0.2.1': { attempts: 6, admitted: 3, refused: 3, retryAfterMs: [334, 334, 334] },
      '127.0.2.2': { attempts: 2, admitted: 2, refused: 0, retryAfterMs: [] },
      '127.0.2.3': { attempts: 4, admitted: 3, refused: 1, retryAfterMs: [334] },
      '::1': { attempts: 3, admitted: 3, refused: 0, retryAfterMs: [] }
    })
    expect(result['again']).toEqual({ retryAfterMs: 334, early: false, onTime: true, greedy: false, earlyRetryAfterMs: 1 })
    expect(result['steady']).toEqual({
      '127.0.2.1': { attempts: 20, admitted: 6 },
      '127.0.2.2': { attempts: 5, admitted: 5 },
      admittedAtMs: [400, 700, 1000, 1400, 1700, 2000]
    })
    // 23 admitted, 20 refused in all; each client saw the server's decision.
    expect(result['clients']).toEqual({ welcomed: 23, reset: 20 })
    expect(result['refused']).toBe(20)
    expect(output).toContain('All 7 checks held')
  })
})
