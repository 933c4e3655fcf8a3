import { MAX_LIST_LENGTH, MAX_PROBLEMS } from '@cm/config/validation'
import { describe, expect, it } from 'vitest'
import { InvalidSnapshotError } from '../src/errors.ts'
import { createGate } from '../src/gate.ts'
import type { ConfigProblem } from '@cm/config'

const VALID = { version: 1, savedAt: 0, deny: [], allow: [], trusted: [] }
const SNAPSHOT_FIELDS = 'a snapshot has `version`, `savedAt`, `deny`, `allow` and `trusted`'

/** The error `load()` throws for a snapshot; fails the test if it loads. */
function refusal (snapshot: unknown): InvalidSnapshotError {
  const gate = createGate()
  try {
    gate.load(snapshot)
  } catch (error) {
    if (InvalidSnapshotError.isInstance(error)) {
      expect(gate.size()).toBe(0)
      return error
    }
    throw error
  }
  throw new Error('expected an InvalidSnapshotError')
}

describe('.load() - snapshot validation, problem by problem', () => {
  it('a value that is not an object is one problem at `snapshot`', () => {
    for (const value of [42, 'snapshot', [VALID], undefined]) {
      expect(refusal(value).problems.map(problem => problem.path)).toEqual(['snapshot'])
    }
    expect(refusal(42).problems[0]?.message).toBe('Expected `snapshot` to be a gate snapshot object, got 42 (number)')
  })

  it('an unknown field says which fields a snapshot has', () => {
    expect(refusal({ ...VALID, extra: 1 }).problems).toEqual([{
      path: 'extra',
      expected: 'a known field',
      received: '1 (number)',
      message: `Unknown field \`extra\`; ${SNAPSHOT_FIELDS}`
    }])
  })

  it('an unknown field name is quoted whole up to 80 characters, cut beyond', () => {
    const [long, limit] = refusal({ ...VALID, ['k'.repeat(81)]: 1, ['j'.repeat(80)]: 2 }).problems
    expect(limit?.message).toBe(`Unknown field \`${'j'.repeat(80)}\`; ${SNAPSHOT_FIELDS}`)
    expect(long?.message).toBe(`Unknown field "${'k'.repeat(77)}…" (81 characters); ${SNAPSHOT_FIELDS}`)
  })

  it('a version other than 1', () => {
    expect(refusal({ ...VALID, version: '1' }).problems).toEqual([{
      path: 'version',
      expected: '1',
      received: '"1" (string)',
      message: 'Expected `version` to be 1, got "1" (string)'
    }])
  })

  it('a deny list that is not an array, or longer than MAX_LIST_LENGTH, is one problem at `deny`', () => {
    const expected = `an array of at most ${MAX_LIST_LENGTH} { entry, expiresInMs? } objects`
    expect(refusal({ ...VALID, deny: 'x' }).problems).toEqual([{
      path: 'deny',
      expected,
      received: '"x" (string)',
      message: `Expected \`deny\` to be ${expected}, got "x" (string)`
    }])
    // Sparse: the holes would each be a problem if the items were looked at.
    expect(refusal({ ...VALID, deny: new Array(MAX_LIST_LENGTH + 1) }).problems.map(problem => problem.path)).toEqual(['deny'])
  })

  it('a deny item that is not an object, or a hole, is a problem at its index', () => {
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point
    const { problems } = refusal({ ...VALID, deny: [null, , ['10.0.0.1']] })
    const expected = 'an object { entry, expiresInMs? }'
    expect(problems).toEqual([
      { path: 'deny[0]', expected, received: 'null', message: `Expected \`deny[0]\` to be ${expected}, got null` },
      {
        path: 'deny[1]',
        expected,
        received: 'undefined',
        detail: 'the array has a hole here (an empty slot of a sparse array)',
        message: `Expected \`deny[1]\` to be ${expected}, got undefined: the array has a hole here (an empty slot of a sparse array)`
      },
      { path: 'deny[2]', expected, received: 'an array of 1', message: `Expected \`deny[2]\` to be ${expected}, got an array of 1` }
    ])
  })

  it('an unknown field of a deny item says which fields it has', () => {
    expect(refusal({ ...VALID, deny: [{ entry: '10.0.0.1', ttl: 5 }] }).problems).toEqual([{
      path: 'deny[0].ttl',
      expected: 'a known field',
      received: '5 (number)',
      message: 'Unknown field `deny[0].ttl`; a deny entry has `entry` and `expiresInMs`'
    }])
  })

  it('a deny item with no time left (`expiresInMs: 0`) is refused', () => {
    expect(refusal({ ...VALID, deny: [{ entry: '10.0.0.1', expiresInMs: 0 }] }).problems.map(problem => problem.message)).toEqual([
      'Expected `deny[0].expiresInMs` to be a finite number > 0, got 0 (number)'
    ])
  })
})

describe('InvalidSnapshotError', () => {
  it('keeps at most MAX_PROBLEMS problems, and counts them all', () => {
    const problems: ConfigProblem[] = Array.from({ length: MAX_PROBLEMS + 5 }, (_, index) => ({
      path: `deny[${index}]`,
      expected: 'an object',
      received: 'null',
      message: `Expected \`deny[${index}]\` to be an object, got null`
    }))
    const error = new InvalidSnapshotError(problems)
    expect(error.problems).toHaveLength(MAX_PROBLEMS)
    expect(error.problems.at(-1)?.path).toBe(`deny[${MAX_PROBLEMS - 1}]`)
    expect(error.problemCount).toBe(MAX_PROBLEMS + 5)
    expect(error.name).toBe('InvalidSnapshotError')
  })
})
