import { describe, expect, it } from 'vitest'
import { runExample } from './run-example.ts'

describe('examples/state-monitoring.ts', () => {
  it('reports every state event in order, the queries, the close reasons and the snapshot', async () => {
    const { output, result } = await runExample('state-monitoring.ts')
    expect(result['events']).toEqual([
      'alice:pending', 'alice:open', 'alice:peer:connect',
      'bob:pending', 'bob:open', 'bob:peer:connect',
      'relay:pending', 'relay:open', 'relay:peer:connect',
      'staller:pending',
      'staller:close:timeout',
      'bob:close:remote', 'bob:peer:disconnect',
      'alice:closing:local', 'alice:close:local', 'alice:peer:disconnect',
      'relay:closing:shutdown', 'relay:close:shutdown', 'relay:peer:disconnect'
    ])
    expect(result['queries']).toEqual({ open: 3, pending: 1, inbound: 3, outbound: 1, openInbound: 2, alice: 1, host: 1 })
    expect(result['closeReasons']).toEqual(['staller:timeout', 'bob:remote', 'alice:local', 'relay:shutdown'])
    expect(result['snapshot']).toMatchObject({
      open: { inbound: 0, outbound: 1, total: 1 },
      closed: 3,
      byReason: { local: 1, remote: 1, timeout: 1, shutdown: 0, pruned: 0, error: 0 }
    })
    expect(output).toMatch(/staller\s+pending \+0 -> closed \+\d+\s+reason: timeout/)
    expect(output).toContain('All 3 checks held')
  })
})
