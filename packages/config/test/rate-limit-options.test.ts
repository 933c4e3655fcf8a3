import { describe, expect, it } from 'vitest'
import { attemptLimitRule, DEFAULT_RATE_LIMIT_OPTIONS, RATE_LIMIT_OPTIONS_SCHEMA, rateLimitOptionsRule } from '../src/index.ts'
import { ProblemCollector, resolveOptions } from '../src/validation/index.ts'

/** The problems' messages for a `rateLimit` section. */
function problemsOf (value: unknown): string[] {
  const problems = new ProblemCollector()
  rateLimitOptionsRule.check(value, 'rateLimit', problems)
  return problems.problems.map(problem => problem.message)
}

/** The section resolved over the defaults. */
function resolved (value: unknown): unknown {
  expect(problemsOf(value)).toEqual([])
  return rateLimitOptionsRule.resolve?.(value, DEFAULT_RATE_LIMIT_OPTIONS)
}

describe('DEFAULT_RATE_LIMIT_OPTIONS', () => {
  // Golden: a change to any default must be deliberate, and this test changed with it.
  it('keys IPv4 by address and IPv6 by /64, keeps 65,536 keys per tier, with no wider tier and no global rate', () => {
    expect(DEFAULT_RATE_LIMIT_OPTIONS).toStrictEqual({ enabled: true, ipv4PrefixLength: 32, ipv6PrefixLength: 64, maxKeys: 65_536, tiers: [], global: null })
    expect(Object.keys(RATE_LIMIT_OPTIONS_SCHEMA)).toEqual(Object.keys(DEFAULT_RATE_LIMIT_OPTIONS))
  })
})

describe('attemptLimitRule', () => {
  it('accepts integers from 0 to 1000000', () => {
    const problems = new ProblemCollector()
    expect([0, 1, 5, 1_000_000].every(value => attemptLimitRule.check(value, 'limit', problems))).toBe(true)
    expect([-1, 1.5, 1_000_001, Number.NaN, '5'].some(value => attemptLimitRule.check(value, 'limit', problems))).toBe(false)
    expect(problems.problems).toHaveLength(5)
  })
})

describe('rateLimitOptionsRule', () => {
  it('.check() - accepts any subset of the options', () => {
    expect(problemsOf({})).toEqual([])
    expect(problemsOf({ enabled: false, ipv4PrefixLength: 0, ipv6PrefixLength: 128, maxKeys: 16_777_216, tiers: [], global: null })).toEqual([])
    expect(problemsOf({ ipv4PrefixLength: undefined })).toEqual([])
  })

  it('.check() - refuses a section that is not an object', () => {
    for (const [value, text] of [[null, 'null'], [[], 'an array of 0'], ['on', '"on" (string)'], [5, '5 (number)']] as const) {
      expect(problemsOf(value)).toEqual([`Expected \`rateLimit\` to be an object of rate-limit options, got ${text}`])
    }
  })

  it('.check() - names the option, what it must be and what was given, for every problem at once', () => {
    expect(problemsOf({ enabled: 1, ipv4PrefixLength: 33, ipv6PrefixLength: -1, maxKeys: 16_777_217, tier: [] })).toEqual([
      'Unknown option `rateLimit.tier` (did you mean `rateLimit.tiers`?); known options are `enabled`, `ipv4PrefixLength`, `ipv6PrefixLength`, `maxKeys`, `tiers`, `global`',
      'Expected `rateLimit.enabled` to be a boolean, got 1 (number)',
      'Expected `rateLimit.ipv4PrefixLength` to be an integer >= 0 and <= 32, got 33 (number)',
      'Expected `rateLimit.ipv6PrefixLength` to be an integer >= 0 and <= 128, got -1 (number)',
      'Expected `rateLimit.maxKeys` to be an integer >= 1 and <= 16777216, got 16777217 (number)'
    ])
    expect(problemsOf({ ipv4PrefixLength: 24.5, maxKeys: Number.POSITIVE_INFINITY })).toEqual([
      'Expected `rateLimit.ipv4PrefixLength` to be an integer >= 0 and <= 32, got 24.5 (number)',
      'Expected `rateLimit.maxKeys` to be an integer >= 1 and <= 16777216, got Infinity (number)'
    ])
  })

  it('.check() - checks every tier: a required limit, its rate, its prefixes, a unique name', () => {
    expect(problemsOf({
      tiers: [
        { limit: 10 },
        {},
        { limit: -1, windowMs: 0, ipv4PrefixLength: 40, ipv6PrefixLength: 129, name: '' },
        { limit: 20 },
        { name: 'global', limit: 1 },
        { name: 'subnet', limit: 1, prefix: 24 },
        'slow'
      ]
    })).toEqual([
      'Expected `rateLimit.tiers[1].limit` to be an integer >= 0 and <= 1000000, got undefined: a limit is required',
      'Expected `rateLimit.tiers[2].name` to be a non-empty string, got "" (string)',
      'Expected `rateLimit.tiers[2].limit` to be an integer >= 0 and <= 1000000, got -1 (number)',
      'Expected `rateLimit.tiers[2].windowMs` to be a duration in milliseconds > 0 and <= 2147483647, got 0 (number)',
      'Expected `rateLimit.tiers[2].ipv4PrefixLength` to be an integer >= 0 and <= 32, got 40 (number)',
      'Expected `rateLimit.tiers[2].ipv6PrefixLength` to be an integer >= 0 and <= 128, got 129 (number)',
      'Expected `rateLimit.tiers[3].name` to be a name no other tier has, got "ipv4/24+ipv6/48" (string): give each tier its own `name`',
      'Expected `rateLimit.tiers[4].name` to be a name no other tier has, got "global" (string): "global" is taken',
      'Unknown option `rateLimit.tiers[5].prefix`; known options are `name`, `limit`, `windowMs`, `ipv4PrefixLength`, `ipv6PrefixLength`',
      'Expected `rateLimit.tiers[6]` to be an object with a `limit`, got "slow" (string)'
    ])
    expect(problemsOf({ tiers: { limit: 1 } })).toEqual(['Expected `rateLimit.tiers` to be an array of tiers, got an object (Object)'])
  })

  it('.check() - checks the global rate, or takes null for none', () => {
    expect(problemsOf({ global: null })).toEqual([])
    expect(problemsOf({ global: { limit: 1_000, windowMs: 60_000 } })).toEqual([])
    expect(problemsOf({ global: { windowMs: 1_000 } })).toEqual(['Expected `rateLimit.global.limit` to be an integer >= 0 and <= 1000000, got undefined: a limit is required'])
    expect(problemsOf({ global: 500 })).toEqual(['Expected `rateLimit.global` to be an object with a `limit`, got 500 (number)'])
    expect(problemsOf({ global: { limit: 1, name: 'all' } })[0]).toMatch(/^Unknown option `rateLimit.global.name`; known options are `limit`, `windowMs`$/)
  })

  it('.resolve() - fills in the defaults of the section, of each tier and of the global rate, frozen', () => {
    const section = resolved({ tiers: [{ limit: 50 }, { name: 'slow', limit: 600, windowMs: 60_000, ipv4PrefixLength: 16, ipv6PrefixLength: 32 }], global: { limit: 500 } }) as typeof DEFAULT_RATE_LIMIT_OPTIONS
    expect(section).toEqual({
      ...DEFAULT_RATE_LIMIT_OPTIONS,
      tiers: [
        { name: 'ipv4/24+ipv6/48', limit: 50, windowMs: 1_000, ipv4PrefixLength: 24, ipv6PrefixLength: 48 },
        { name: 'slow', limit: 600, windowMs: 60_000, ipv4PrefixLength: 16, ipv6PrefixLength: 32 }
      ],
      global: { limit: 500, windowMs: 1_000 }
    })
    expect([section, section.tiers, section.tiers[0], section.global].every(Object.isFrozen)).toBe(true)
  })

  it('.resolve() - keeps the current values of the options not given', () => {
    const current = resolved({ maxKeys: 10, global: { limit: 5 } }) as typeof DEFAULT_RATE_LIMIT_OPTIONS
    expect(rateLimitOptionsRule.resolve?.({ ipv4PrefixLength: 24 }, current)).toEqual({ ...current, ipv4PrefixLength: 24 })
  })

  it('RATE_LIMIT_OPTIONS_SCHEMA - validates the options standalone, with unprefixed paths', () => {
    const problems = new ProblemCollector()
    expect(resolveOptions(RATE_LIMIT_OPTIONS_SCHEMA, { maxKeys: 100, tiers: [{ limit: 2 }] }, problems)).toMatchObject({ maxKeys: 100, tiers: [{ name: 'ipv4/24+ipv6/48', limit: 2 }] })
    resolveOptions(RATE_LIMIT_OPTIONS_SCHEMA, { tiers: [{}] }, problems)
    expect(problems.problems.map(problem => problem.path)).toEqual(['tiers[0].limit'])
  })
})
