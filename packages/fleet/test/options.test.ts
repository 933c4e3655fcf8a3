import { InvalidConfigError } from '@cm/config'
import { describe, expect, it } from 'vitest'
import { createFleet, createFleetAdmin } from '../src/index.ts'
import type { FleetInit } from '../src/index.ts'

function problems (init: unknown): string[] {
  try {
    createFleet(init as FleetInit)
  } catch (error) {
    if (InvalidConfigError.isInstance(error)) return error.problems.map(problem => problem.path)
    throw error
  }
  return []
}

describe('createFleet() options', () => {
  it('has working defaults', () => {
    const fleet = createFleet()
    expect(fleet.state).toBe('stopped')
    expect(fleet.node).toMatch(/^node-[0-9a-f]{12}$/)
    expect(fleet.metrics()).toMatchObject({ state: 'stopped', connected: 0, budget: null, rules: { deny: 0, allow: 0, trusted: 0 } })
  })

  it('lists every problem at once, with the paths', () => {
    expect(problems({
      redis: { url: 'http://x', database: -1, tls: 'yes' },
      prefix: 'has space',
      node: '',
      budget: { limit: 0, windowMs: 50, tiers: [{ limit: 5, windowMs: 10 }, { name: 'host', limit: 1 }] },
      syncIntervalMs: 1,
      accept: ['deny', 'all'],
      widestAllow: { ipv4PrefixLength: 40 },
      maxRules: 0,
      reconnect: { factor: 0 },
      clock: {},
      prefx: 'typo'
    })).toEqual([
      'prefx', 'redis.url', 'redis.database', 'redis.tls', 'prefix', 'node', 'budget.limit', 'budget.windowMs',
      'budget.tiers[1].name', 'budget.tiers[0].windowMs', 'syncIntervalMs', 'accept', 'widestAllow.ipv4PrefixLength', 'maxRules',
      'reconnect.factor', 'clock'
    ])
  })

  it('requires a budget limit', () => {
    expect(problems({ budget: {} })).toEqual(['budget.limit'])
  })

  it('createFleetAdmin() validates its own options', () => {
    expect(() => createFleetAdmin({ name: 'two words' })).toThrow(/name/)
    expect(() => createFleetAdmin({ budget: { limit: 1 } } as never)).toThrow(/Unknown option `budget`/)
  })
})
