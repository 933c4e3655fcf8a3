import { describe, expect, it } from 'vitest'
import { changedOptions, CONFIG_OPTIONS, CONFIG_RULES, DEFAULT_CONFIG, MAX_CONNECTION_HISTORY_SIZE, resolveConfig, updateConfig } from '../src/index.ts'
import { ProblemCollector } from '../src/validation/index.ts'
import { InvalidConfigError } from '../src/index.ts'
import type { ConnectionConfigInit } from '../src/index.ts'

/** The problems' messages that resolveConfig(init) throws. */
function problemsOf (init: unknown): string[] {
  try {
    resolveConfig(init as ConnectionConfigInit)
  } catch (error) {
    if (InvalidConfigError.isInstance(error)) {
      return error.problems.map(problem => problem.message)
    }
    throw error
  }
  return []
}

describe('DEFAULT_CONFIG', () => {
  // Golden: a change to any default must be deliberate, and this test changed with it.
  it('holds the defaults of py-libp2p\'s ConnectionConfig, durations in milliseconds', () => {
    expect(DEFAULT_CONFIG).toStrictEqual({
      maxConnections: 300,
      maxConnectionsPerPeer: 3,
      maxParallelDials: 100,
      maxDialQueueLength: 500,
      maxIncomingPendingConnections: 10,
      inboundConnectionThreshold: 5,
      rateLimit: {
        enabled: true,
        ipv4PrefixLength: 32,
        ipv6PrefixLength: 64,
        maxKeys: 65_536,
        tiers: [],
        global: null
      },
      allowList: [],
      denyList: [],
      trustedList: [],
      allowListDirection: 'both',
      denyListDirection: 'both',
      dialTimeout: 10_000,
      connectionCloseTimeout: 1_000,
      reconnectRetries: 5,
      reconnectRetryInterval: 1_000,
      reconnectBackoffFactor: 2,
      reconnectMaxDelay: 60_000,
      reconnectJitter: 0,
      inboundUpgradeTimeout: 10_000,
      pruneStrategy: 'least-valuable',
      pruneGracePeriod: 0,
      pruneLowWatermark: 0,
      pruneHighWatermark: 0,
      connectionHistorySize: 100
    })
    expect(CONFIG_OPTIONS).toEqual(Object.keys(DEFAULT_CONFIG))
  })

  it('is deeply frozen', () => {
    expect(Object.isFrozen(DEFAULT_CONFIG)).toBe(true)
    expect(Object.isFrozen(DEFAULT_CONFIG.allowList)).toBe(true)
    expect(Object.isFrozen(DEFAULT_CONFIG.denyList)).toBe(true)
    expect(Object.isFrozen(DEFAULT_CONFIG.rateLimit)).toBe(true)
    expect(Object.isFrozen(DEFAULT_CONFIG.rateLimit.tiers)).toBe(true)
    expect(Object.isFrozen(DEFAULT_CONFIG.trustedList)).toBe(true)
  })
})

describe('resolveConfig()', () => {
  it('returns every default when given nothing', () => {
    expect(resolveConfig()).toStrictEqual(DEFAULT_CONFIG)
    expect(resolveConfig({})).toStrictEqual(DEFAULT_CONFIG)
  })

  it.each(CONFIG_OPTIONS)('defaults %s when it is left out or undefined', name => {
    expect(resolveConfig({ [name]: undefined })[name]).toStrictEqual(DEFAULT_CONFIG[name])
  })

  it('keeps the values given and returns a deeply frozen copy', () => {
    const denyList = ['10.0.0.0/8']
    const config = resolveConfig({ maxConnections: 50, dialTimeout: 2_500.5, denyList, reconnectBackoffFactor: 1.5 })
    expect(config.maxConnections).toBe(50)
    expect(config.dialTimeout).toBe(2_500.5)
    expect(config.reconnectBackoffFactor).toBe(1.5)
    expect(config.denyList).toEqual(['10.0.0.0/8'])
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.denyList)).toBe(true)
    denyList.push('1.2.3.4')
    expect(config.denyList).toEqual(['10.0.0.0/8'])
  })

  it('accepts the boundary values', () => {
    const config = resolveConfig({
      maxConnections: 1,
      maxConnectionsPerPeer: 1,
      maxParallelDials: 1,
      maxDialQueueLength: 0,
      maxIncomingPendingConnections: 1,
      inboundConnectionThreshold: 0,
      dialTimeout: 2_147_483_647,
      connectionCloseTimeout: 0.5,
      reconnectRetries: 0,
      reconnectRetryInterval: 1,
      reconnectBackoffFactor: 1,
      connectionHistorySize: 0
    })
    expect(config.maxDialQueueLength).toBe(0)
    expect(config.connectionHistorySize).toBe(0)
    expect(resolveConfig({ connectionHistorySize: MAX_CONNECTION_HISTORY_SIZE }).connectionHistorySize).toBe(1_000_000)
    expect(config.inboundConnectionThreshold).toBe(0)
    expect(resolveConfig({ inboundConnectionThreshold: 1_000_000 }).inboundConnectionThreshold).toBe(1_000_000)
  })

  describe('counts must be integers in range', () => {
    const counts = [
      ['maxConnections', 'an integer >= 1', 0],
      ['maxConnectionsPerPeer', 'an integer >= 1', 0],
      ['maxParallelDials', 'an integer >= 1', 0],
      ['maxDialQueueLength', 'an integer >= 0', -1],
      ['maxIncomingPendingConnections', 'an integer >= 1', 0],
      ['inboundConnectionThreshold', 'an integer >= 0 and <= 1000000', -1],
      ['reconnectRetries', 'an integer >= 0', -1],
      ['connectionHistorySize', 'an integer >= 0 and <= 1000000', -1]
    ] as const

    it.each(counts)('%s is %s: refuses the value below the range', (name, expected, below) => {
      expect(problemsOf({ [name]: below })).toEqual([`Expected \`${name}\` to be ${expected}, got ${below} (number)`])
    })

    it.each(counts)('%s is %s: refuses fractions, NaN, Infinity, strings and null', (name, expected) => {
      expect(problemsOf({ [name]: 2.5 })).toEqual([`Expected \`${name}\` to be ${expected}, got 2.5 (number)`])
      expect(problemsOf({ [name]: Number.NaN })).toEqual([`Expected \`${name}\` to be ${expected}, got NaN (number)`])
      expect(problemsOf({ [name]: Number.POSITIVE_INFINITY })).toEqual([`Expected \`${name}\` to be ${expected}, got Infinity (number)`])
      expect(problemsOf({ [name]: '5' })).toEqual([`Expected \`${name}\` to be ${expected}, got "5" (string)`])
      expect(problemsOf({ [name]: null })).toEqual([`Expected \`${name}\` to be ${expected}, got null`])
    })
  })

  it('inboundConnectionThreshold is at most 1000000 (rateLimit.enabled turns limiting off)', () => {
    expect(problemsOf({ inboundConnectionThreshold: 1_000_001 })).toEqual(['Expected `inboundConnectionThreshold` to be an integer >= 0 and <= 1000000, got 1000001 (number)'])
  })

  it('rateLimit may be given in part; the rest keeps its defaults', () => {
    const config = resolveConfig({ rateLimit: { ipv6PrefixLength: 56, tiers: [{ limit: 50 }] } })
    expect(config.rateLimit).toEqual({
      ...DEFAULT_CONFIG.rateLimit,
      ipv6PrefixLength: 56,
      tiers: [{ name: 'ipv4/24+ipv6/48', limit: 50, windowMs: 1_000, ipv4PrefixLength: 24, ipv6PrefixLength: 48 }]
    })
    expect(Object.isFrozen(config.rateLimit)).toBe(true)
    expect(Object.isFrozen(config.rateLimit.tiers[0])).toBe(true)
  })

  it('rateLimit problems are reported with their full paths, with the others', () => {
    expect(problemsOf({ maxConnections: 0, rateLimit: { maxKeys: 0, tiers: [{ limit: 1, ipv6PrefixLength: 129 }] } })).toEqual([
      'Expected `maxConnections` to be an integer >= 1, got 0 (number)',
      'Expected `rateLimit.maxKeys` to be an integer >= 1 and <= 16777216, got 0 (number)',
      'Expected `rateLimit.tiers[0].ipv6PrefixLength` to be an integer >= 0 and <= 128, got 129 (number)'
    ])
    expect(problemsOf({ rateLimit: true })).toEqual(['Expected `rateLimit` to be an object of rate-limit options, got true (boolean)'])
  })

  describe('durations are milliseconds > 0 that timers accept', () => {
    const durations = ['dialTimeout', 'connectionCloseTimeout', 'reconnectRetryInterval', 'reconnectMaxDelay', 'inboundUpgradeTimeout'] as const
    const expected = 'a duration in milliseconds > 0 and <= 2147483647'

    it.each(durations)('%s refuses 0, negatives, NaN, Infinity and values timers cannot hold', name => {
      for (const [value, text] of [[0, '0'], [-1, '-1'], [Number.NaN, 'NaN'], [Number.POSITIVE_INFINITY, 'Infinity'], [2_147_483_648, '2147483648']] as const) {
        expect(problemsOf({ [name]: value })).toEqual([`Expected \`${name}\` to be ${expected}, got ${text} (number)`])
      }
      expect(problemsOf({ [name]: '10s' })).toEqual([`Expected \`${name}\` to be ${expected}, got "10s" (string)`])
    })
  })

  it('connectionHistorySize is at most MAX_CONNECTION_HISTORY_SIZE', () => {
    expect(problemsOf({ connectionHistorySize: 1_000_001 })).toEqual(['Expected `connectionHistorySize` to be an integer >= 0 and <= 1000000, got 1000001 (number)'])
  })

  it('reconnectJitter is a finite number from 0 to 1', () => {
    const expected = 'a finite number >= 0 and <= 1'
    expect(resolveConfig({ reconnectJitter: 0.25 }).reconnectJitter).toBe(0.25)
    expect(problemsOf({ reconnectJitter: 1.5 })).toEqual([`Expected \`reconnectJitter\` to be ${expected}, got 1.5 (number)`])
    expect(problemsOf({ reconnectJitter: -0.1 })).toEqual([`Expected \`reconnectJitter\` to be ${expected}, got -0.1 (number)`])
  })

  it('reconnectBackoffFactor is a finite number >= 1', () => {
    const expected = 'a finite number >= 1'
    expect(problemsOf({ reconnectBackoffFactor: 0.5 })).toEqual([`Expected \`reconnectBackoffFactor\` to be ${expected}, got 0.5 (number)`])
    expect(problemsOf({ reconnectBackoffFactor: Number.POSITIVE_INFINITY })).toEqual([`Expected \`reconnectBackoffFactor\` to be ${expected}, got Infinity (number)`])
    expect(problemsOf({ reconnectBackoffFactor: Number.NaN })).toEqual([`Expected \`reconnectBackoffFactor\` to be ${expected}, got NaN (number)`])
  })

  describe('pruning options', () => {
    it('pruneStrategy is one of the built-in names', () => {
      expect(resolveConfig({ pruneStrategy: 'oldest' }).pruneStrategy).toBe('oldest')
      expect(resolveConfig({ pruneStrategy: 'newest' }).pruneStrategy).toBe('newest')
      const expected = 'one of "least-valuable", "oldest", "newest"'
      expect(problemsOf({ pruneStrategy: 'random' })).toEqual([`Expected \`pruneStrategy\` to be ${expected}, got "random" (string)`])
      expect(problemsOf({ pruneStrategy: () => 0 })).toEqual([`Expected \`pruneStrategy\` to be ${expected}, got a function`])
    })

    it('pruneGracePeriod is a duration in milliseconds >= 0', () => {
      expect(resolveConfig({ pruneGracePeriod: 0 }).pruneGracePeriod).toBe(0)
      expect(resolveConfig({ pruneGracePeriod: 60_000 }).pruneGracePeriod).toBe(60_000)
      const expected = 'a duration in milliseconds >= 0 and <= 2147483647'
      expect(problemsOf({ pruneGracePeriod: -1 })).toEqual([`Expected \`pruneGracePeriod\` to be ${expected}, got -1 (number)`])
      expect(problemsOf({ pruneGracePeriod: Number.POSITIVE_INFINITY })).toEqual([`Expected \`pruneGracePeriod\` to be ${expected}, got Infinity (number)`])
    })

    it.each(['pruneLowWatermark', 'pruneHighWatermark'] as const)('%s is an integer >= 0', name => {
      expect(problemsOf({ [name]: -1 })).toEqual([`Expected \`${name}\` to be an integer >= 0, got -1 (number)`])
      expect(problemsOf({ [name]: 1.5 })).toEqual([`Expected \`${name}\` to be an integer >= 0, got 1.5 (number)`])
    })

    it('accepts watermarks with low <= high < maxConnections', () => {
      const config = resolveConfig({ maxConnections: 200, pruneLowWatermark: 160, pruneHighWatermark: 192 })
      expect([config.pruneLowWatermark, config.pruneHighWatermark]).toEqual([160, 192])
      expect(resolveConfig({ maxConnections: 200, pruneLowWatermark: 199, pruneHighWatermark: 199 }).pruneHighWatermark).toBe(199)
    })

    it('refuses one watermark without the other', () => {
      expect(problemsOf({ pruneHighWatermark: 192 })).toEqual([
        'Expected `pruneLowWatermark` to be set (an integer >= 1) together with `pruneHighWatermark` (192): give both watermarks or neither'
      ])
      expect(problemsOf({ pruneLowWatermark: 160 })).toEqual([
        'Expected `pruneHighWatermark` to be set (an integer >= 1) together with `pruneLowWatermark` (160): give both watermarks or neither'
      ])
    })

    it('refuses a low watermark above the high one', () => {
      expect(problemsOf({ pruneLowWatermark: 200, pruneHighWatermark: 100 })).toEqual([
        'Expected `pruneLowWatermark` (200) to be at most `pruneHighWatermark` (100): pruning starts above the high watermark and stops at the low one'
      ])
    })

    it('refuses a high watermark at or above maxConnections (go-libp2p #1640), loudly and with every other problem', () => {
      const message = (high: number): string => `Expected \`pruneHighWatermark\` (${high}) to be below \`maxConnections\` (300): admission holds the count at \`maxConnections\`, so it would seldom pass the high watermark and the watermarks would do nothing`
      expect(problemsOf({ pruneLowWatermark: 160, pruneHighWatermark: 300 })).toEqual([message(300)])
      expect(problemsOf({ pruneLowWatermark: 400, pruneHighWatermark: 350, dialTimeout: 0 })).toEqual([
        'Expected `dialTimeout` to be a duration in milliseconds > 0 and <= 2147483647, got 0 (number)',
        'Expected `pruneLowWatermark` (400) to be at most `pruneHighWatermark` (350): pruning starts above the high watermark and stops at the low one',
        message(350)
      ])
    })

    it('checks the watermarks against a new maxConnections on update', () => {
      const config = resolveConfig({ pruneLowWatermark: 160, pruneHighWatermark: 192 })
      expect(() => updateConfig(config, { maxConnections: 192 })).toThrow(/`pruneHighWatermark` \(192\) to be below `maxConnections` \(192\)/)
      expect(updateConfig(config, { pruneLowWatermark: 0, pruneHighWatermark: 0 }).pruneHighWatermark).toBe(0)
    })

    it('does not compare watermarks that are themselves invalid', () => {
      expect(problemsOf({ pruneLowWatermark: 'many', pruneHighWatermark: 1_000 })).toEqual([
        'Expected `pruneLowWatermark` to be an integer >= 0, got "many" (string)'
      ])
      expect(problemsOf({ maxConnections: 0, pruneLowWatermark: 10, pruneHighWatermark: 1_000 })).toEqual([
        'Expected `maxConnections` to be an integer >= 1, got 0 (number)'
      ])
    })
  })

  describe('allow, deny and trusted lists', () => {
    it.each(['allowList', 'denyList', 'trustedList'] as const)('%s accepts every entry form', name => {
      const entries = ['10.0.0.1', '10.0.0.0/8', '2001:db8::/32', '/ip4/1.2.3.4/tcp/4001', '/ip6/2001:db8::/ipcidr/48', '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA']
      expect(resolveConfig({ [name]: entries })[name]).toEqual(entries)
    })

    it.each(['allowList', 'denyList', 'trustedList'] as const)('%s must be an array', name => {
      expect(problemsOf({ [name]: '10.0.0.0/8' })).toEqual([`Expected \`${name}\` to be an array of IP addresses, CIDR ranges, multiaddrs or peer IDs, got "10.0.0.0/8" (string)`])
    })

    it('reports every malformed entry with its index, its text and the reason', () => {
      expect(problemsOf({ denyList: ['10.0.0.0/8', '1.2.3.4/33', 42, 'example.com', '/dns4/a.com'] })).toEqual([
        'Expected `denyList[1]` to be an IP address, CIDR range, multiaddr or peer ID, got "1.2.3.4/33" (string): the prefix length must be an integer from 0 to 32, got "33"',
        'Expected `denyList[2]` to be an IP address, CIDR range, multiaddr or peer ID, got 42 (number): expected a string, got number',
        'Expected `denyList[3]` to be an IP address, CIDR range, multiaddr or peer ID, got "example.com" (string): hostnames are not resolved; give an IP address, a CIDR range, a multiaddr or a peer ID',
        'Expected `denyList[4]` to be an IP address, CIDR range, multiaddr or peer ID, got "/dns4/a.com" (string): /dns4 names are not resolved; give an /ip4 or /ip6 address'
      ])
    })
  })

  describe('list directions', () => {
    it.each(['allowListDirection', 'denyListDirection'] as const)('%s accepts both, inbound and outbound', name => {
      for (const direction of ['both', 'inbound', 'outbound'] as const) {
        expect(resolveConfig({ [name]: direction })[name]).toBe(direction)
      }
    })

    it.each(['allowListDirection', 'denyListDirection'] as const)('%s refuses anything else', name => {
      expect(problemsOf({ [name]: 'in' })).toEqual([`Expected \`${name}\` to be one of "both", "inbound", "outbound", got "in" (string)`])
      expect(problemsOf({ [name]: true })).toEqual([`Expected \`${name}\` to be one of "both", "inbound", "outbound", got true (boolean)`])
    })
  })

  it('refuses unknown options, suggesting the near miss', () => {
    const [message] = problemsOf({ maxConection: 5 })
    expect(message).toMatch(/^Unknown option `maxConection` \(did you mean `maxConnections`\?\); known options are `maxConnections`, /)
    expect(problemsOf({ somethingElse: 5 })[0]).toMatch(/^Unknown option `somethingElse`; known options are/)
  })

  it('refuses maxConnectionsPerPeer greater than maxConnections', () => {
    expect(problemsOf({ maxConnections: 2 })).toEqual([
      'Expected `maxConnectionsPerPeer` (3) to be at most `maxConnections` (2): one peer cannot hold more connections than the node'
    ])
    expect(resolveConfig({ maxConnections: 3, maxConnectionsPerPeer: 3 }).maxConnectionsPerPeer).toBe(3)
  })

  it('does not report a contradiction against a value that is itself invalid', () => {
    expect(problemsOf({ maxConnections: 'many', maxConnectionsPerPeer: 500 })).toEqual([
      'Expected `maxConnections` to be an integer >= 1, got "many" (string)'
    ])
  })

  it('lists every problem at once in one InvalidConfigError', () => {
    let caught: unknown
    try {
      resolveConfig({ maxConnections: -1, dialTimeout: Number.NaN, denyList: ['256.1.1.1'], typo: true } as ConnectionConfigInit)
    } catch (error) {
      caught = error
    }
    expect(InvalidConfigError.isInstance(caught)).toBe(true)
    const error = caught as InvalidConfigError
    expect(error.name).toBe('InvalidConfigError')
    expect(error.problems.map(problem => problem.path)).toEqual(['typo', 'maxConnections', 'denyList[0]', 'dialTimeout'])
    expect(error.path).toBe('typo')
    expect(error.message.split('\n')[0]).toBe('Invalid configuration (4 problems):')
    expect(error.problems[1]).toEqual({
      path: 'maxConnections',
      expected: 'an integer >= 1',
      received: '-1 (number)',
      message: 'Expected `maxConnections` to be an integer >= 1, got -1 (number)'
    })
    expect(error.problems[2]?.detail).toBe('each part of an IPv4 address must be an integer from 0 to 255')
  })

  it('refuses options that are not an object', () => {
    expect(problemsOf(42)).toEqual(['Expected `options` to be an object, got 42 (number)'])
    expect(problemsOf([])).toEqual(['Expected `options` to be an object, got an array of 0'])
  })
})

describe('updateConfig()', () => {
  it('replaces the options given and keeps the others', () => {
    const config = resolveConfig({ maxConnections: 100, dialTimeout: 5_000 })
    const updated = updateConfig(config, { maxConnections: 50, denyList: ['10.0.0.0/8'] })
    expect(updated).toStrictEqual({ ...config, maxConnections: 50, denyList: ['10.0.0.0/8'] })
    expect(Object.isFrozen(updated)).toBe(true)
    expect(config.maxConnections).toBe(100)
  })

  it('leaves an option as it is when its new value is undefined (not the default)', () => {
    const config = resolveConfig({ maxConnections: 100 })
    expect(updateConfig(config, { maxConnections: undefined }).maxConnections).toBe(100)
  })

  it('merges a partial rateLimit into the current one', () => {
    const config = resolveConfig({ rateLimit: { maxKeys: 1_000, global: { limit: 100 } } })
    const updated = updateConfig(config, { rateLimit: { ipv4PrefixLength: 24 } })
    expect(updated.rateLimit).toEqual({ ...config.rateLimit, ipv4PrefixLength: 24 })
    expect(updateConfig(config, { rateLimit: { global: null } }).rateLimit.global).toBeNull()
    expect(updateConfig(config, {}).rateLimit).toBe(config.rateLimit)
  })

  it('validates the change like resolveConfig, against the unchanged options too', () => {
    const config = resolveConfig({ maxConnectionsPerPeer: 5 })
    expect(() => updateConfig(config, { maxConnections: 4 })).toThrow(InvalidConfigError)
    expect(() => updateConfig(config, { maxConection: 4 } as ConnectionConfigInit)).toThrow(/Unknown option `maxConection`/)
    expect(() => updateConfig(config, { denyList: ['nope'] })).toThrow(/denyList\[0\]/)
  })
})

describe('changedOptions()', () => {
  it('lists the options whose values differ, comparing lists by entry', () => {
    const before = resolveConfig({ denyList: ['10.0.0.0/8'] })
    expect(changedOptions(before, updateConfig(before, { denyList: ['10.0.0.0/8'], dialTimeout: 10_000 }))).toEqual([])
    expect(changedOptions(before, updateConfig(before, { maxConnections: 10, denyList: [] }))).toEqual(['maxConnections', 'denyList'])
  })

  it('compares sections by their contents', () => {
    const before = resolveConfig({ rateLimit: { tiers: [{ limit: 5 }] } })
    expect(changedOptions(before, updateConfig(before, { rateLimit: { maxKeys: 65_536, tiers: [{ limit: 5 }] } }))).toEqual([])
    expect(changedOptions(before, updateConfig(before, { rateLimit: { tiers: [{ limit: 6 }] } }))).toEqual(['rateLimit'])
    expect(changedOptions(before, updateConfig(before, { rateLimit: { global: { limit: 1 } } }))).toEqual(['rateLimit'])
  })

  it('sees one changed element of a list of the same length, wherever it is', () => {
    const before = resolveConfig({ denyList: ['10.0.0.0/8', '192.0.2.0/24', '2001:db8::/32'] })
    expect(changedOptions(before, updateConfig(before, { denyList: ['10.0.0.0/8', '198.51.100.0/24', '2001:db8::/32'] }))).toEqual(['denyList'])
    expect(changedOptions(before, updateConfig(before, { denyList: ['10.0.0.0/8', '192.0.2.0/24', '2001:db9::/32'] }))).toEqual(['denyList'])
    const tiers = resolveConfig({ rateLimit: { tiers: [{ name: 'a', limit: 5 }, { name: 'b', limit: 5 }] } })
    expect(changedOptions(tiers, updateConfig(tiers, { rateLimit: { tiers: [{ name: 'a', limit: 5 }, { name: 'b', limit: 6 }] } }))).toEqual(['rateLimit'])
  })
})

describe('CONFIG_RULES', () => {
  it('holds the rule of every option, in CONFIG_OPTIONS order', () => {
    expect(Object.keys(CONFIG_RULES)).toEqual([...CONFIG_OPTIONS])
    expect(Object.isFrozen(CONFIG_RULES)).toBe(true)
  })

  it('reports exactly what resolveConfig reports for the same value', () => {
    for (const [name, value] of [['connectionHistorySize', -1], ['maxConnections', 0], ['dialTimeout', 'soon'], ['denyList', ['1.2.3.4/33']]] as const) {
      const problems = new ProblemCollector()
      expect(CONFIG_RULES[name].check(value, name, problems)).toBe(false)
      expect(problems.problems.map(problem => problem.message)).toEqual(problemsOf({ [name]: value }))
    }
    expect(CONFIG_RULES.connectionHistorySize.check(5, 'connectionHistorySize', new ProblemCollector())).toBe(true)
  })
})
