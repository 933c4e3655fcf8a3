import { describe, expect, it } from 'vitest'
import { runExample } from './run-example.ts'

describe('examples/comprehensive.ts', () => {
  it('holds every limit under a mixed burst and reports each kind of client exactly', async () => {
    const { output, result } = await runExample('comprehensive.ts')
    expect(result['kinds']).toEqual({
      good: { attempts: 8, admitted: 7, refused: { 'pending-limit': 1 }, closed: { pruned: 2 }, open: 5 },
      denied: { attempts: 3, admitted: 0, refused: { 'deny-list': 3 }, closed: {}, open: 0 },
      flooder: { attempts: 18, admitted: 3, refused: { 'rate-limit': 15 }, closed: { pruned: 1, denied: 2 }, open: 0 },
      staller: { attempts: 14, admitted: 10, refused: { 'pending-limit': 4 }, closed: { limit: 1, timeout: 9 }, open: 0 },
      monitor: { attempts: 5, admitted: 5, refused: {}, closed: {}, open: 5 }
    })
    expect(result['prunedAtLowerLimit']).toEqual(['good-1', 'good-2'])
    expect(result['pruned']).toEqual({ 'max-connections': 2, 'high-watermark': 0, 'max-connections-per-peer': 1 })
    expect(result['bannedClosed']).toBe(2)
    expect(result['open']).toBe(10)
    expect(result['peakOpen']).toBeLessThanOrEqual(24)
    expect(output).toMatch(/status \[\s*\d+\.\d+ s\] open/)
    expect(output).toContain('All 7 checks held')
  })
})
