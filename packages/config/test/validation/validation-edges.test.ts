import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { changedOptions, CONFIG_OPTIONS, InvalidConfigError, rateLimitOptionsRule, resolveConfig } from '../../src/index.ts'
import {
  booleanRule,
  clockRule,
  collectProblems,
  forEachAddressEntry,
  integerRule,
  MAX_LIST_LENGTH,
  MAX_PROBLEMS,
  objectRule,
  ProblemCollector,
  problemsMessage,
  resolveOptions
} from '../../src/validation/index.ts'
import type { ConfigProblem } from '../../src/index.ts'
import { refusal } from '../refusal.ts'

const problem = (index: number): ConfigProblem => ({ path: `p${index}`, expected: 'x', received: 'y', message: `problem ${index}` })

/** Levenshtein distance, the plain way. */
function distance (a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i === 0 ? j : j === 0 ? i : 0))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i] as number[]
      const above = rows[i - 1] as number[]
      row[j] = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
  }
  return (rows[a.length] as number[])[b.length] as number
}

// Validation at the edges the mutation run found untested (TESTING.md).
describe('the rules as callers read them', () => {
  it('describe their bounds, and leave out the ones not given', () => {
    expect(integerRule().expected).toBe('an integer')
    expect(integerRule({ max: 5 }).expected).toBe('an integer <= 5')
    expect(integerRule({ min: 0, exclusiveMin: true }).expected).toBe('an integer > 0')
    expect(booleanRule.expected).toBe('a boolean')
    expect(clockRule.expected).toBe('a clock (an object with a now() method)')
    expect(rateLimitOptionsRule.expected).toBe('an object of rate-limit options')
  })

  it('take any value under a maximum when no minimum is given', () => {
    const problems = new ProblemCollector()
    expect(integerRule({ max: 5 }).check(-3, 'n', problems)).toBe(true)
    expect(integerRule({ max: 5 }).check(6, 'n', problems)).toBe(false)
  })

  it('write what they expected into the problem', () => {
    const problems = new ProblemCollector()
    booleanRule.check(1, 'flag', problems)
    clockRule.check({}, 'clock', problems)
    expect(problems.problems.map(({ path, expected }) => ({ path, expected }))).toEqual([
      { path: 'flag', expected: 'a boolean' },
      { path: 'clock', expected: 'a clock (an object with a now() method)' }
    ])
  })

  it('take for an object rule only an object with every method named', () => {
    const rule = objectRule('a store', ['get', 'set'])
    const problems = new ProblemCollector()
    const get = (): void => {}
    expect(rule.check({ get, set: get }, 'store', problems)).toBe(true)
    expect(rule.check({ get }, 'store', problems)).toBe(false)
    expect(rule.check(Object.assign(() => {}, { get, set: get }), 'store', problems)).toBe(false)
  })

  it('refuse rate-limit options that are not an object, or that break a rule', () => {
    const problems = new ProblemCollector()
    expect(rateLimitOptionsRule.check(5, 'rateLimit', problems)).toBe(false)
    expect(rateLimitOptionsRule.check({ maxKeys: 0 }, 'rateLimit', problems)).toBe(false)
    expect(rateLimitOptionsRule.check({ maxKeys: 5 }, 'rateLimit', problems)).toBe(true)
    expect(problems.problems.map(item => item.path)).toEqual(['rateLimit', 'rateLimit.maxKeys'])
  })

  it('refuse tier names that are empty, not strings, or reserved', () => {
    const tier = { limit: 5, windowMs: 1_000 }
    for (const name of ['', 5, ['x']]) {
      const [first] = refusal({ rateLimit: { tiers: [{ ...tier, name }] } }).problems
      expect({ path: first?.path, expected: first?.expected }).toEqual({ path: 'rateLimit.tiers[0].name', expected: 'a non-empty string' })
    }
    for (const name of ['host', 'global']) {
      expect(refusal({ rateLimit: { tiers: [{ ...tier, name }] } }).problems[0]?.message).toContain(`"${name}" is taken`)
    }
  })
})

describe('the problem collector and its error', () => {
  it('keeps at most MAX_PROBLEMS problems and counts the rest', () => {
    const problems = new ProblemCollector()
    for (let index = 0; index < MAX_PROBLEMS + 5; index++) problems.add(`p${index}`, 'x', index)
    expect(problems.problems.length).toBe(MAX_PROBLEMS)
    expect(problems.count).toBe(MAX_PROBLEMS + 5)
    const added = new ProblemCollector()
    for (let index = 0; index < MAX_PROBLEMS; index++) added.addProblem(problem(index))
    expect(added.problems.length).toBe(MAX_PROBLEMS)
    added.addProblem(problem(MAX_PROBLEMS))
    expect(added.problems.length).toBe(MAX_PROBLEMS)
    const error = new InvalidConfigError(Array.from({ length: MAX_PROBLEMS + 5 }, (_, index) => problem(index)))
    expect(error.problems.length).toBe(MAX_PROBLEMS)
    expect(error.problemCount).toBe(MAX_PROBLEMS + 5)
  })

  it('adds a detail field only when there is a detail', () => {
    const problems = new ProblemCollector()
    problems.add('a', 'x', 1)
    problems.add('b', 'x', 1, 'why')
    expect(Object.keys(problems.problems[0] ?? {})).not.toContain('detail')
    expect(problems.problems[1]?.detail).toBe('why')
  })

  it('counts problems in the singular and the plural', () => {
    expect(problemsMessage('Bad', [problem(1)])).toBe('Bad (1 problem):\n  - problem 1')
    expect(problemsMessage('Bad', [problem(1), problem(2)])).toBe('Bad (2 problems):\n  - problem 1\n  - problem 2')
  })

  it('makes an error with no problems without throwing', () => {
    const error = new InvalidConfigError([])
    expect(error.path).toBe('')
    expect(error.problems).toEqual([])
  })

  it('lets an error that is not about options through collectProblems unchanged', () => {
    const boom = new RangeError('boom')
    expect(() => collectProblems(new ProblemCollector(), () => { throw boom })).toThrow(boom)
  })
})

describe('resolveOptions', () => {
  const schema = { aaa: { default: 1, rule: integerRule() }, aab: { default: 2, rule: integerRule() } }

  it('names the section, or "options" at the top, when the input is not an object', () => {
    for (const [path, expected] of [[undefined, 'options'], ['', 'options'], ['section', 'section']] as const) {
      const problems = new ProblemCollector()
      resolveOptions(schema, 5, problems, path === undefined ? {} : { path })
      expect(problems.problems[0]?.path).toBe(expected)
    }
  })

  it('reports an unknown option under its full path, and suggests the first of equally near names', () => {
    const problems = new ProblemCollector()
    resolveOptions(schema, { aac: 1 }, problems, { path: '' })
    resolveOptions(schema, { aac: 1 }, problems, { path: 'section' })
    expect(problems.problems.map(({ path, expected }) => ({ path, expected }))).toEqual([
      { path: 'aac', expected: 'a known option' },
      { path: 'section.aac', expected: 'a known option' }
    ])
    expect(problems.problems[0]?.message).toContain('(did you mean `aaa`?)')
    expect(problems.problems[1]?.message).toContain('(did you mean `section.aaa`?)')
  })

  it('quotes an unknown name of up to 64 characters whole, and a longer one cut short', () => {
    const at = 'x'.repeat(64)
    const problems = new ProblemCollector()
    resolveOptions(schema, { [at]: 1, [`${at}y`]: 1 }, problems)
    expect(problems.problems[0]?.message).toContain(`Unknown option \`${at}\``)
    expect(problems.problems[1]?.message).toContain(`Unknown option "${at}y"`)
  })

  it('suggests the nearest option, as a plain edit distance finds it', () => {
    const names: readonly string[] = [...CONFIG_OPTIONS]
    const typo = fc.tuple(fc.constantFrom(...names), fc.array(fc.tuple(fc.nat(40), fc.constantFrom('', 'x', 'e', 'Q', '_')), { maxLength: 6 }))
      .map(([name, edits]) => edits.reduce<string>((text, [at, insert]) => {
        const index = at % (text.length + 1)
        return `${text.slice(0, index)}${insert}${text.slice(index + (insert === '' ? 1 : 0))}`
      }, name))
      .filter(key => !names.includes(key) && key.length > 0)
    fc.assert(fc.property(typo, key => {
      const message = refusal({ [key]: 1 }).problems[0]?.message ?? ''
      // The first of the nearest names, if it is nearer than a third of the key's length.
      const distances = names.map(name => distance(key.toLowerCase(), name.toLowerCase()))
      const nearest = Math.min(...distances)
      const best = nearest <= Math.max(2, Math.floor(key.length / 3)) ? names[distances.indexOf(nearest)] : undefined
      const suggested = /\(did you mean `([^`]+)`\?\)/.exec(message)?.[1]
      expect(suggested).toBe(best)
    }), { numRuns: 300 })
    // Nothing is near a two-letter name; a long name with three letters dropped is still found.
    expect(refusal({ xx: 1 }).problems[0]?.message).not.toContain('did you mean')
    expect(refusal({ maxConectionPerPer: 1 }).problems[0]?.message).toContain('(did you mean `maxConnectionsPerPeer`?)')
  })
})

describe('address lists', () => {
  it('reports a hole as a problem and answers false', () => {
    const problems = new ProblemCollector()
    // eslint-disable-next-line no-sparse-arrays
    expect(forEachAddressEntry([, '1.2.3.4'], 'list', problems, () => {})).toBe(false)
    expect(problems.problems[0]?.path).toBe('list[0]')
  })

  it('reads a list of exactly MAX_LIST_LENGTH entries, and refuses a longer one unread', () => {
    const problems = new ProblemCollector()
    forEachAddressEntry(new Array(MAX_LIST_LENGTH), 'list', problems, () => {})
    expect(problems.problems[0]?.path).toBe('list[0]')
    const longer = new ProblemCollector()
    forEachAddressEntry(new Array(MAX_LIST_LENGTH + 1), 'list', longer, () => {})
    expect(longer.problems.map(item => item.path)).toEqual(['list'])
  })
})

describe('changedOptions', () => {
  it('is empty for two resolutions of the same options', () => {
    expect(changedOptions(resolveConfig({ denyList: ['10.0.0.0/8'] }), resolveConfig({ denyList: ['10.0.0.0/8'] }))).toEqual([])
  })
})
