import { describe, expect, it } from 'vitest'
import { InvalidAddressError } from '../src/address/index.ts'
import { CmError } from '../src/index.ts'
import { InvalidConfigError } from '../src/index.ts'

describe('CmError', () => {
  it('sets name from the class, and keeps the cause', () => {
    const cause = new Error('root')
    const error = new CmError('boom', { cause })
    expect(error.name).toBe('CmError')
    expect(error.message).toBe('boom')
    expect(error.cause).toBe(cause)
    expect(error).toBeInstanceOf(Error)
  })

  it('.isInstance() recognises subclasses by their own name, and their ancestors', () => {
    const error = new InvalidConfigError([{ path: 'x', expected: 'y', received: 'z', message: 'm' }])
    expect(InvalidConfigError.isInstance(error)).toBe(true)
    expect(CmError.isInstance(error)).toBe(true)
    expect(InvalidAddressError.isInstance(error)).toBe(false)
    expect(CmError.isInstance(new Error('plain'))).toBe(false)
    expect(CmError.isInstance(undefined)).toBe(false)
    expect(CmError.isInstance('CmError')).toBe(false)
  })

  it('.isInstance() works across duplicate copies of the package (no shared prototype)', () => {
    // A copy of the class from a second install: a different constructor, the same names.
    const copy = Object.create(Error.prototype) as Record<symbol | string, unknown>
    Object.defineProperty(copy, Symbol.for('@cm/error'), { value: ['InvalidConfigError', 'CmError'] })
    copy['name'] = 'InvalidConfigError'
    expect(InvalidConfigError.isInstance(copy)).toBe(true)
    expect(CmError.isInstance(copy)).toBe(true)
    expect(InvalidAddressError.isInstance(copy)).toBe(false)
  })
})
