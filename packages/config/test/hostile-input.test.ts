import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseAddressEntry, readMultiaddr, tryParseAddressEntry } from '../src/address/index.ts'
import { resolveConfig, updateConfig } from '../src/index.ts'
import { MAX_IP_TEXT_LENGTH, MAX_MULTIADDR_LENGTH, MAX_PEER_ID_LENGTH } from '../src/address/index.ts'
import { quoteInput } from '../src/validation/index.ts'
import { parseIp, parseIpInto } from '../src/address/index.ts'
import { parsePeerId } from '../src/address/index.ts'
import { forEachAddressEntry, MAX_LIST_LENGTH, MAX_PROBLEMS, ProblemCollector, problemsMessage } from '../src/validation/index.ts'
import { InvalidConfigError } from '../src/index.ts'

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const MEGABYTE = 1024 * 1024

/** What a config function does with any input: returns, or throws an InvalidConfigError. */
function outcome (run: () => unknown): 'ok' | InvalidConfigError {
  try {
    run()
    return 'ok'
  } catch (error) {
    if (InvalidConfigError.isInstance(error)) {
      return error
    }
    throw error
  }
}

describe('quoteInput()', () => {
  it('quotes short input whole and cuts long input to about 80 characters with its length', () => {
    expect(quoteInput('1.2.3.4/33')).toBe('"1.2.3.4/33"')
    expect(quoteInput('x'.repeat(80))).toBe(`"${'x'.repeat(80)}"`)
    const quoted = quoteInput('x'.repeat(100_000))
    expect(quoted).toBe(`"${'x'.repeat(77)}…" (100000 characters)`)
  })
})

describe('length caps before parsing', () => {
  it('parseIpInto() refuses text longer than MAX_IP_TEXT_LENGTH, and accepts the longest real forms', () => {
    const words = new Uint32Array(4)
    expect(parseIpInto('ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', words)).toBe(6)
    const zoned = `fe80::1%${'e'.repeat(MAX_IP_TEXT_LENGTH - 8)}`
    expect(zoned.length).toBe(MAX_IP_TEXT_LENGTH)
    expect(parseIpInto(zoned, words)).toBe(6)
    expect(parseIpInto(`${zoned}e`, words)).toBe(0)
    expect(parseIpInto(`fe80::1%${'e'.repeat(MEGABYTE)}`, words)).toBe(0)
    expect(parseIp(`1.2.3.4${' '.repeat(MEGABYTE)}`)).toBeUndefined()
  })

  it('parsePeerId() refuses text longer than MAX_PEER_ID_LENGTH before decoding it (a megabyte returns at once)', () => {
    expect(parsePeerId(PEER)).toBe(PEER)
    expect(parsePeerId(`1${'2'.repeat(MAX_PEER_ID_LENGTH)}`)).toBeUndefined()
    // Without the cap, base58 decoding a megabyte takes hours: this would time out.
    expect(parsePeerId(`1${'z'.repeat(MEGABYTE)}`)).toBeUndefined()
    expect(parsePeerId(`bafz${'a'.repeat(MEGABYTE)}`)).toBeUndefined()
  })

  it('list entries longer than MAX_MULTIADDR_LENGTH are refused with their length, and quoted cut short', () => {
    const long = `/ip4/1.2.3.4/tcp/1/p2p/${'1'.repeat(100_000)}`
    const result = tryParseAddressEntry(long)
    expect(result).toEqual({ ok: false, reason: `the entry is ${long.length} characters long; entries are at most ${MAX_MULTIADDR_LENGTH}` })
    expect(() => parseAddressEntry(long)).toThrow(/^Invalid address entry "\/ip4\/1\.2\.3\.4\/tcp\/1\/p2p\/1+…" \(100023 characters\): the entry is 100023 characters long/)
    let message = ''
    try {
      parseAddressEntry(long)
    } catch (error) {
      message = (error as Error).message
    }
    expect(message.length).toBeLessThan(200)
    // At the cap, an entry is parsed (and here refused for what it says, not its length).
    const atCap = `/ip4/1.2.3.4/tcp/1/p2p/${'1'.repeat(MAX_MULTIADDR_LENGTH - 23)}`
    expect(atCap.length).toBe(MAX_MULTIADDR_LENGTH)
    const refused = tryParseAddressEntry(atCap)
    expect(refused.ok).toBe(false)
    expect(refused.ok ? '' : refused.reason).toMatch(/is not a valid peer ID$/)
    expect(refused.ok ? '' : refused.reason.length).toBeLessThan(150)
  })

  it('readMultiaddr() gives undefined for multiaddr text longer than MAX_MULTIADDR_LENGTH', () => {
    const valid = `/ip4/1.2.3.4/tcp/1/p2p/${PEER}`
    expect(readMultiaddr(valid)?.ip).toBe('1.2.3.4')
    expect(readMultiaddr(`${valid}${'/tcp/1'.repeat(200)}`)).toBeUndefined()
    expect(readMultiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${'1'.repeat(MEGABYTE)}`)).toBeUndefined()
  })

  it('resolveConfig() refuses a 100 KB entry with a short message', () => {
    const error = outcome(() => resolveConfig({ denyList: [`/ip4/1.2.3.4/tcp/1/p2p/${'1'.repeat(100_000)}`] }))
    expect(error).not.toBe('ok')
    expect((error as InvalidConfigError).message.length).toBeLessThan(500)
    expect((error as InvalidConfigError).path).toBe('denyList[0]')
  })

  it('an unknown option with a huge name is reported cut short, with no suggestion looked for', () => {
    const error = outcome(() => resolveConfig({ [`maxConnection${'s'.repeat(100_000)}`]: 1 }))
    expect(error).not.toBe('ok')
    const message = (error as InvalidConfigError).message
    expect(message).toMatch(/Unknown option "maxConnectionsss.*…" \(100013 characters\); known options are/)
    expect(message).not.toMatch(/did you mean/)
    expect(message.length).toBeLessThan(2_000)
    // A plausible typo still gets its suggestion.
    expect((outcome(() => resolveConfig({ maxConection: 1 } as never)) as InvalidConfigError).message).toMatch(/did you mean `maxConnections`/)
  })
})

describe('lists fail closed', () => {
  it('resolveConfig() refuses a hole in a list, naming its index', () => {
    // eslint-disable-next-line no-sparse-arrays
    const error = outcome(() => resolveConfig({ denyList: [, '1.2.3.4'] as string[] }))
    expect(error).not.toBe('ok')
    expect((error as InvalidConfigError).problems.map(problem => problem.path)).toEqual(['denyList[0]'])
    expect((error as InvalidConfigError).message).toMatch(/`denyList\[0\]`.*hole/)
  })

  it('resolveConfig() and updateConfig() refuse an allow list of holes (it would admit everyone), one problem per hole', () => {
    for (const run of [() => resolveConfig({ allowList: new Array<string>(3) }), () => updateConfig(resolveConfig(), { trustedList: new Array<string>(2) })]) {
      const error = outcome(run)
      expect(error).not.toBe('ok')
      expect((error as InvalidConfigError).problems.length).toBeGreaterThanOrEqual(2)
      expect((error as InvalidConfigError).problems.every(problem => problem.detail?.includes('hole') === true)).toBe(true)
    }
  })

  it('non-arrays and non-string entries are refused, naming the index', () => {
    const error = outcome(() => resolveConfig({ denyList: ['1.2.3.4', 5, null, {}] as never }))
    expect((error as InvalidConfigError).problems.map(problem => problem.path)).toEqual(['denyList[1]', 'denyList[2]', 'denyList[3]'])
    for (const value of ['1.2.3.4', { 0: '1.2.3.4', length: 1 }, new Set(['1.2.3.4']), 7]) {
      expect((outcome(() => resolveConfig({ denyList: value as never })) as InvalidConfigError).path).toBe('denyList')
    }
  })

  it('a list longer than MAX_LIST_LENGTH is refused whole, without walking it', () => {
    const problems = new ProblemCollector()
    let entries = 0
    expect(forEachAddressEntry(new Array(MAX_LIST_LENGTH + 1), 'denyList', problems, () => { entries++ })).toBe(false)
    expect(entries).toBe(0)
    expect(problems.count).toBe(1)
    expect(problems.problems[0]?.detail).toBe(`a list has at most ${MAX_LIST_LENGTH} entries`)
    // 2 ** 32 - 1 holes would take minutes to walk.
    expect(outcome(() => resolveConfig({ allowList: new Array<string>(2 ** 32 - 1) }))).not.toBe('ok')
  })
})

describe('bounded error messages', () => {
  it('100,000 bad entries: the message lists 20 and says how many more; the error keeps MAX_PROBLEMS', () => {
    const list = Array.from({ length: 100_000 }, (_, index) => `bad-${index}`)
    const error = outcome(() => resolveConfig({ denyList: list, maxConnections: -1 })) as InvalidConfigError
    expect(error.problemCount).toBe(100_001)
    expect(error.problems.length).toBe(MAX_PROBLEMS)
    expect(error.message.split('\n')).toHaveLength(1 + 20 + 1)
    expect(error.message).toMatch(/^Invalid configuration \(100001 problems\):\n/)
    expect(error.message).toMatch(/\n {2}- and 99981 more$/)
    expect(error.message.length).toBeLessThan(5_000)
  })

  it('problemsMessage() lists every problem when there are at most 20', () => {
    const problems = new ProblemCollector()
    for (let index = 0; index < 20; index++) problems.add(`option${index}`, 'an integer', 'x')
    const message = problemsMessage('Invalid options', problems.problems, problems.count)
    expect(message.split('\n')).toHaveLength(21)
    expect(message).not.toMatch(/more$/)
    problems.add('option20', 'an integer', 'x')
    expect(problemsMessage('Invalid options', problems.problems, problems.count)).toMatch(/\n {2}- and 1 more$/)
  })
})

describe('fuzz: resolveConfig() and updateConfig() on anything', () => {
  const anything = fc.oneof(
    fc.anything(),
    fc.string({ maxLength: 2_000 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.uint8Array({ maxLength: 300 }).map(bytes => Buffer.from(bytes).toString('latin1')),
    fc.nat(5).map(exponent => 'x'.repeat(10 ** exponent)),
    fc.array(fc.oneof(fc.string(), fc.anything()), { maxLength: 30 }),
    fc.sparseArray(fc.string(), { maxLength: 10 })
  )
  const options = fc.dictionary(fc.constantFrom('denyList', 'allowList', 'trustedList', 'maxConnections', 'rateLimit', 'dialTimeout', 'denyListDirection', 'bogus'), anything)

  it('returns a config or throws an InvalidConfigError with a bounded message, never anything else', () => {
    fc.assert(fc.property(fc.oneof(options, anything), input => {
      for (const run of [() => resolveConfig(input as never), () => updateConfig(resolveConfig(), input as never)]) {
        const result = outcome(run)
        if (result !== 'ok') {
          expect(result.problems.length).toBeGreaterThan(0)
          expect(result.message.length).toBeLessThan(25 * 600)
        }
      }
    }), { numRuns: 2_000 })
  })
})
