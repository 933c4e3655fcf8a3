import { ConnectionTracker } from '@cm/state'
import { describe, expect, it } from 'vitest'
import { createNodeMonitor } from '../src/monitor.ts'
import { problemsOf } from './support/problems.ts'

describe('createNodeMonitor()', () => {
  it('createNodeMonitor({ tracker }) - refuses a history size the tracker given would not use', () => {
    expect(problemsOf(() => createNodeMonitor({ tracker: new ConnectionTracker(), connectionHistorySize: 10 }))).toEqual([
      '`connectionHistorySize` is not used when `tracker` is given: give it to the tracker instead'
    ])
    expect(createNodeMonitor({ connectionHistorySize: 10 }).tracker.size).toBe(0)
  })
})
