import { describe, expect, it } from 'vitest'
import { changedOptions, resolveConfig, updateConfig } from '../src/index.ts'
import type { ConfigProblem } from '../src/index.ts'
import { refusal } from './refusal.ts'

const problemsOf = (init: unknown): readonly ConfigProblem[] => refusal(init).problems

const shape = (problem: ConfigProblem): Omit<ConfigProblem, 'message'> => ({ path: problem.path, expected: problem.expected, received: problem.received })

// The checks that relate two options, each problem as a caller reads it (the mutation run
// found their fields untested; TESTING.md).
describe('checks across options', () => {
  it('names the watermark that is missing when only one is set', () => {
    expect(problemsOf({ pruneHighWatermark: 5 }).map(shape)).toEqual([
      { path: 'pruneLowWatermark', expected: 'an integer >= 1, since `pruneHighWatermark` is set', received: '0 (number)' }
    ])
    expect(problemsOf({ pruneLowWatermark: 3 }).map(shape)).toEqual([
      { path: 'pruneHighWatermark', expected: 'an integer >= 1, since `pruneLowWatermark` is set', received: '0 (number)' }
    ])
  })

  it('refuses a low watermark over the high one, and a high watermark at maxConnections', () => {
    expect(problemsOf({ maxConnections: 100, pruneLowWatermark: 8, pruneHighWatermark: 5 }).map(shape)).toEqual([
      { path: 'pruneLowWatermark', expected: 'an integer <= pruneHighWatermark (5)', received: '8 (number)' }
    ])
    expect(problemsOf({ maxConnections: 10, pruneLowWatermark: 5, pruneHighWatermark: 10 }).map(shape)).toEqual([
      { path: 'pruneHighWatermark', expected: 'an integer < maxConnections (10)', received: '10 (number)' }
    ])
    expect(resolveConfig({ maxConnections: 10, pruneLowWatermark: 5, pruneHighWatermark: 9 }).pruneHighWatermark).toBe(9)
  })

  it('refuses more connections per peer than in all', () => {
    expect(problemsOf({ maxConnections: 4, maxConnectionsPerPeer: 5 }).map(shape)).toEqual([
      { path: 'maxConnectionsPerPeer', expected: 'an integer <= maxConnections (4)', received: '5 (number)' }
    ])
    expect(resolveConfig({ maxConnections: 4, maxConnectionsPerPeer: 4 }).maxConnectionsPerPeer).toBe(4)
  })

  it('reports an option that failed its own rule once, not again in a check across options', () => {
    for (const [init, path] of [
      [{ pruneLowWatermark: 5, pruneHighWatermark: 'x' }, 'pruneHighWatermark'],
      [{ pruneLowWatermark: 'x', pruneHighWatermark: 5 }, 'pruneLowWatermark'],
      [{ maxConnections: 1, maxConnectionsPerPeer: -1 }, 'maxConnectionsPerPeer'],
      [{ maxConnections: 'x', maxConnectionsPerPeer: 50, pruneLowWatermark: 60, pruneHighWatermark: 70 }, 'maxConnections']
    ] as const) {
      expect(problemsOf(init).map(problem => problem.path), path).toEqual([path])
    }
  })

  it('sees a list that grew by one entry at its end as changed', () => {
    const before = resolveConfig({ denyList: ['10.0.0.1'] })
    const after = updateConfig(before, { denyList: ['10.0.0.1', '10.0.0.2'] })
    expect(changedOptions(before, after)).toEqual(['denyList'])
    expect(changedOptions(after, before)).toEqual(['denyList'])
  })
})
