import { describe, expect, it } from 'vitest'
import { CmError, InvalidConfigError } from '../src/index.ts'

/** The base class of a second copy of the package, as a duplicate install gives. */
async function secondCopy (): Promise<typeof CmError> {
  // A query string makes Vite load the module again: another class, not instanceof-related.
  // @ts-expect-error -- the query has no declaration file
  return (await import('../src/errors.ts?second-copy') as { CmError: typeof CmError }).CmError
}

describe('isInstance across copies of the package', () => {
  it('recognises errors of another copy, by class and by ancestor, and nothing else', async () => {
    const OtherCmError = await secondCopy()
    expect(OtherCmError).not.toBe(CmError)
    // The other copy's subclass of the same name.
    const Theirs = { InvalidConfigError: class extends OtherCmError {} }.InvalidConfigError
    const theirs = new Theirs('bad options')
    expect(theirs instanceof CmError).toBe(false)
    expect(InvalidConfigError.isInstance(theirs)).toBe(true)
    expect(CmError.isInstance(theirs)).toBe(true)
    const ours = new CmError('boom')
    expect(OtherCmError.isInstance(ours)).toBe(true)
    expect(InvalidConfigError.isInstance(ours)).toBe(false)
    expect(InvalidConfigError.isInstance(new OtherCmError('boom'))).toBe(false)
  })

  it('answers false for values that are not objects, without throwing', () => {
    for (const value of [null, undefined, 0, 'InvalidConfigError', Symbol('x'), () => {}]) {
      expect(InvalidConfigError.isInstance(value)).toBe(false)
      expect(CmError.isInstance(value)).toBe(false)
    }
    expect(CmError.isInstance(new Error('plain'))).toBe(false)
  })

  it('keeps its marker out of a spread copy of the error', () => {
    expect(Object.getOwnPropertySymbols({ ...new CmError('boom') })).toEqual([])
  })
})
