import { describe, expect, it } from 'vitest'
import {
  addressEntryRule,
  booleanRule,
  clockRule,
  collectProblems,
  describeValue,
  durationRule,
  finiteNumberRule,
  forEachAddressEntry,
  functionRule,
  integerRule,
  objectRule,
  oneOfRule,
  parseAddressList,
  ProblemCollector,
  resolveOptions
} from '../../src/validation/index.ts'
import { InvalidConfigError, resolveConfig } from '../../src/index.ts'

describe('describeValue()', () => {
  it.each([
    [-1, '-1 (number)'],
    [-0, '-0 (number)'],
    [Number.NaN, 'NaN (number)'],
    [Number.NEGATIVE_INFINITY, '-Infinity (number)'],
    ['abc', '"abc" (string)'],
    [5n, '5n (bigint)'],
    [true, 'true (boolean)'],
    [null, 'null'],
    [undefined, 'undefined'],
    [[1, 2, 3], 'an array of 3'],
    [{}, 'an object (Object)'],
    [new Date(0), 'an object (Date)'],
    [() => 1, 'a function'],
    [Symbol('s'), 'Symbol(s) (symbol)']
  ])('describes value %# as %s', (value, text) => {
    expect(describeValue(value)).toBe(text)
  })

  it('cuts long strings to 80 characters and shows their length', () => {
    expect(describeValue('x'.repeat(80))).toBe(`"${'x'.repeat(80)}" (string)`)
    expect(describeValue('x'.repeat(200))).toBe(`"${'x'.repeat(77)}…" (string of 200 characters)`)
  })
})

describe('rules', () => {
  it('integerRule() states its bounds and checks them', () => {
    const rule = integerRule({ min: 1, max: 10 })
    expect(rule.expected).toBe('an integer >= 1 and <= 10')
    const problems = new ProblemCollector()
    expect(rule.check(10, 'n', problems)).toBe(true)
    expect(rule.check(11, 'n', problems)).toBe(false)
    expect(rule.check(1.5, 'n', problems)).toBe(false)
    expect(problems.problems.map(problem => problem.received)).toEqual(['11 (number)', '1.5 (number)'])
  })

  it('finiteNumberRule() supports an exclusive minimum', () => {
    const rule = finiteNumberRule({ min: 0, exclusiveMin: true })
    expect(rule.expected).toBe('a finite number > 0')
    const problems = new ProblemCollector()
    expect(rule.check(0, 'x', problems)).toBe(false)
    expect(rule.check(0.001, 'x', problems)).toBe(true)
  })

  it('durationRule() caps durations at the largest timer delay', () => {
    expect(durationRule().expected).toBe('a duration in milliseconds > 0 and <= 2147483647')
    expect(durationRule({ min: 0 }).expected).toBe('a duration in milliseconds >= 0 and <= 2147483647')
  })

  it('oneOfRule() lists the choices', () => {
    const rule = oneOfRule(['a', 'b'])
    const problems = new ProblemCollector()
    expect(rule.check('c', 'choice', problems)).toBe(false)
    expect(problems.problems[0]?.message).toBe('Expected `choice` to be one of "a", "b", got "c" (string)')
  })

  it('clockRule accepts objects with a now() method and nothing else', () => {
    const problems = new ProblemCollector()
    expect(clockRule.check({ now: () => 0 }, 'clock', problems)).toBe(true)
    expect(clockRule.check(Date, 'clock', problems)).toBe(true)
    expect(clockRule.check({ now: 5 }, 'clock', problems)).toBe(false)
    expect(clockRule.check(null, 'clock', problems)).toBe(false)
    expect(problems.problems.map(problem => problem.message)).toEqual([
      'Expected `clock` to be a clock (an object with a now() method), got an object (Object)',
      'Expected `clock` to be a clock (an object with a now() method), got null'
    ])
  })

  it('addressEntryRule accepts one entry and reports a malformed one with the reason', () => {
    const problems = new ProblemCollector()
    expect(addressEntryRule.check('10.0.0.0/8', 'entry', problems)).toBe(true)
    expect(addressEntryRule.check('1.2.3.4/33', 'deny[0].entry', problems)).toBe(false)
    expect(addressEntryRule.check(7, 'other', problems)).toBe(false)
    expect(problems.problems.map(problem => problem.message)).toEqual([
      'Expected `deny[0].entry` to be an IP address, CIDR range, multiaddr or peer ID, got "1.2.3.4/33" (string): the prefix length must be an integer from 0 to 32, got "33"',
      'Expected `other` to be an IP address, CIDR range, multiaddr or peer ID, got 7 (number): expected a string, got number'
    ])
  })

  it('forEachAddressEntry() hands over each well-formed entry in order, and reports every malformed one', () => {
    const problems = new ProblemCollector()
    const texts: string[] = []
    expect(forEachAddressEntry(['10.1.2.3/8', 'nope', '2001:DB8::1'], 'denyList', problems, entry => { texts.push(entry.text) })).toBe(false)
    expect(texts).toEqual(['10.0.0.0/8', '2001:db8::1'])
    expect(problems.problems.map(problem => problem.path)).toEqual(['denyList[1]'])
    expect(forEachAddressEntry({}, 'allowList', problems, () => { throw new Error('not called') })).toBe(false)
    expect(forEachAddressEntry([], 'allowList', problems, () => { throw new Error('not called') })).toBe(true)
  })

  it('parseAddressList() returns the parsed entries, or reports every malformed one', () => {
    const problems = new ProblemCollector()
    expect(parseAddressList(['10.1.2.3/8', '2001:db8::1'], 'denyList', problems)?.map(entry => entry.text)).toEqual(['10.0.0.0/8', '2001:db8::1'])
    expect(parseAddressList(['10.0.0.0/8', 'nope', '256.1.1.1'], 'allowList', problems)).toBeUndefined()
    expect(parseAddressList('10.0.0.0/8', 'trustedList', problems)).toBeUndefined()
    expect(problems.problems.map(problem => problem.path)).toEqual(['allowList[1]', 'allowList[2]', 'trustedList'])
  })

  it('booleanRule refuses truthy non-booleans', () => {
    const problems = new ProblemCollector()
    expect(booleanRule.check(1, 'flag', problems)).toBe(false)
    expect(booleanRule.check(false, 'flag', problems)).toBe(true)
  })
})

describe('resolveOptions()', () => {
  const schema = {
    limit: { default: 10, rule: integerRule({ min: 1 }) },
    mode: { default: 'a' as 'a' | 'b', rule: oneOfRule(['a', 'b'] as const) }
  }

  it('fills defaults, keeps valid values and prefixes paths of nested sections', () => {
    const problems = new ProblemCollector()
    expect(resolveOptions(schema, { limit: 3 }, problems)).toEqual({ limit: 3, mode: 'a' })
    expect(resolveOptions(schema, { limit: 0, mode: 'c', extra: 1 }, problems, { path: 'section' })).toEqual({ limit: 10, mode: 'a' })
    expect(problems.problems.map(problem => problem.path)).toEqual(['section.extra', 'section.limit', 'section.mode'])
    expect(problems.problems[0]?.message).toMatch(/^Unknown option `section.extra`; known options are `limit`, `mode`$/)
  })

  it('uses base values instead of defaults for updates', () => {
    const problems = new ProblemCollector()
    expect(resolveOptions(schema, { mode: 'b' }, problems, { base: { limit: 7, mode: 'a' } })).toEqual({ limit: 7, mode: 'b' })
  })

  it('builds a valid value with its rule\'s resolve(), given the value it replaces', () => {
    // A nested section: a partial object keeps the rest of the value it replaces.
    type Section = { limit: number, mode: 'a' | 'b' }
    const sectionRule = {
      expected: 'a section',
      check: (value: unknown, path: string, problems: ProblemCollector): value is Section => {
        const before = problems.problems.length
        resolveOptions(schema, value, problems, { path })
        return problems.problems.length === before
      },
      resolve: (value: unknown, current: Section): Section => resolveOptions(schema, value, new ProblemCollector(), { base: current })
    }
    const outer = { section: { default: { limit: 10, mode: 'a' as 'a' | 'b' }, rule: sectionRule } }
    const problems = new ProblemCollector()
    expect(resolveOptions(outer, { section: { mode: 'b' } }, problems)).toEqual({ section: { limit: 10, mode: 'b' } })
    expect(resolveOptions(outer, { section: { limit: 2 } }, problems, { base: { section: { limit: 5, mode: 'b' } } })).toEqual({ section: { limit: 2, mode: 'b' } })
    expect(resolveOptions(outer, { section: { limit: 0 } }, problems)).toEqual({ section: { limit: 10, mode: 'a' } })
    expect(problems.problems.map(problem => problem.path)).toEqual(['section.limit'])
  })

  it('ProblemCollector.throwIfAny() throws nothing when there is no problem', () => {
    expect(() => { new ProblemCollector().throwIfAny() }).not.toThrow()
    const problems = new ProblemCollector()
    problems.add('x', 'a thing', 1, 'because')
    expect(() => { problems.throwIfAny() }).toThrow(InvalidConfigError)
    expect(problems.problems[0]?.message).toBe('Expected `x` to be a thing, got 1 (number): because')
  })
})

describe('shared rules and the problem fold', () => {
  it('functionRule() accepts a function and records anything else', () => {
    const problems = new ProblemCollector()
    const rule = functionRule('a handler')
    expect(rule.check(() => 1, 'onListenerError', problems)).toBe(true)
    expect(rule.check('no', 'onListenerError', problems)).toBe(false)
    expect(problems.problems.map(problem => problem.message)).toEqual(['Expected `onListenerError` to be a handler, got "no" (string)'])
    expect(functionRule().expected).toBe('a function')
  })

  it('objectRule() accepts an object with every method named, by shape', () => {
    const problems = new ProblemCollector()
    const rule = objectRule('a gate (an object with a check() method)', ['check'])
    expect(rule.check({ check: () => true }, 'gate', problems)).toBe(true)
    expect(rule.check({ check: 1 }, 'gate', problems)).toBe(false)
    expect(rule.check(null, 'gate', problems)).toBe(false)
    expect(rule.check(() => undefined, 'gate', problems)).toBe(false)
    expect(problems.count).toBe(3)
  })

  it('collectProblems() returns what the call returns, moves the problems of an InvalidConfigError, and throws any other error on', () => {
    const problems = new ProblemCollector()
    expect(collectProblems(problems, () => 5)).toBe(5)
    expect(collectProblems(problems, () => resolveConfig({ maxConnections: 0, dialTimeout: -1 }))).toBeUndefined()
    expect(problems.problems.map(problem => problem.path)).toEqual(['maxConnections', 'dialTimeout'])
    expect(() => collectProblems(problems, () => { throw new TypeError('boom') })).toThrow(TypeError)
  })
})
