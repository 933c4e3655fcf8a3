import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../src/index.ts'
import { gateOptionsFrom, rateLimiterOptionsFrom } from '../src/index.ts'

describe('options derived from a config', () => {
  const config = resolveConfig({
    denyList: ['10.0.0.0/8'],
    allowList: ['192.0.2.0/24'],
    trustedList: ['192.0.2.1'],
    denyListDirection: 'inbound',
    inboundConnectionThreshold: 7,
    rateLimit: { ipv6PrefixLength: 56, tiers: [{ limit: 50 }] }
  })

  it('gateOptionsFrom() - the three lists and their directions, as resolved', () => {
    expect(gateOptionsFrom(config)).toEqual({
      denyList: ['10.0.0.0/8'],
      allowList: ['192.0.2.0/24'],
      trustedList: ['192.0.2.1'],
      denyListDirection: 'inbound',
      allowListDirection: 'both'
    })
  })

  it('rateLimiterOptionsFrom() - the threshold and the whole rateLimit section', () => {
    expect(rateLimiterOptionsFrom(config)).toEqual({ threshold: 7, ...config.rateLimit })
    expect(rateLimiterOptionsFrom(config).ipv6PrefixLength).toBe(56)
  })
})
