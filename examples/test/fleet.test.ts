import { describe, expect, it } from 'vitest'
import { runExample } from './run-example.ts'

describe('examples/fleet.ts', () => {
  it('refuses a subnet banned on one node on all three, and holds a spraying host to the fleet budget', async () => {
    const { output, result } = await runExample('fleet.ts')
    expect(result['banned']).toEqual(['deny-list', 'deny-list', 'deny-list'])
    const spray = result['spray'] as { sent: number, admitted: number, bound: number, limit: number }
    expect(spray.admitted).toBeGreaterThanOrEqual(spray.limit)
    expect(spray.admitted).toBeLessThan(spray.sent / 2)
    expect(result['states']).toEqual(['synced', 'synced', 'synced'])
    expect(output).toMatch(/All \d+ checks held/)
  })
})
