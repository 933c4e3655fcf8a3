import { describe, expect, it } from 'vitest'
import { libp2pSuite } from '../src/suites/libp2p.ts'

describe('libp2p suite', () => {
  it('builds both nodes, checks that they decide alike, and stops them', async () => {
    const tasks = await libp2pSuite.tasks()
    expect(tasks.map(task => task.name)).toContain(libp2pSuite.baseline)
    // One measured call of each: the refused hits and the admitted misses.
    for (const task of tasks) {
      expect(task.fn()).toBeTypeOf('number')
    }
    await libp2pSuite.report?.()
  })
})
