import { describe, expect, it } from 'vitest'
import { ProtectionRegistry } from '../src/index.ts'

describe('ProtectionRegistry', () => {
  it('.protect() - is idempotent per tag and reports whether the tag was new', () => {
    const protection = new ProtectionRegistry()
    expect(protection.protect('QmA', 'relay')).toBe(true)
    expect(protection.protect('QmA', 'relay')).toBe(false)
    expect(protection.protect('QmA', 'sync')).toBe(true)
    expect(protection.tagsOf('QmA')).toEqual(['relay', 'sync'])
    expect(protection.size).toBe(1)
  })

  it('.unprotect() - removes one tag (not refcounted) and reports whether the peer is still protected', () => {
    const protection = new ProtectionRegistry()
    protection.protect('QmA', 'relay')
    protection.protect('QmA', 'relay')
    protection.protect('QmA', 'sync')
    expect(protection.unprotect('QmA', 'relay')).toBe(true)
    expect(protection.isProtected('QmA', 'relay')).toBe(false)
    expect(protection.unprotect('QmA', 'unknown')).toBe(true)
    expect(protection.unprotect('QmA', 'sync')).toBe(false)
    expect(protection.isProtected('QmA')).toBe(false)
    expect(protection.size).toBe(0)
    expect(protection.unprotect('QmNever', 'relay')).toBe(false)
  })

  it('.isProtected() - under any tag, or under the one given', () => {
    const protection = new ProtectionRegistry()
    protection.protect('QmA', 'relay')
    expect(protection.isProtected('QmA')).toBe(true)
    expect(protection.isProtected('QmA', 'relay')).toBe(true)
    expect(protection.isProtected('QmA', 'sync')).toBe(false)
    expect(protection.isProtected('QmB')).toBe(false)
  })

  it('.peers() and .clear() - list and drop protections, for one peer or all', () => {
    const protection = new ProtectionRegistry()
    protection.protect('QmA', 'relay')
    protection.protect('QmB', 'relay')
    protection.protect('QmC', 'sync')
    expect(protection.peers()).toEqual(['QmA', 'QmB', 'QmC'])
    protection.clear('QmB')
    expect(protection.peers()).toEqual(['QmA', 'QmC'])
    expect(protection.tagsOf('QmB')).toEqual([])
    protection.clear()
    expect(protection.size).toBe(0)
  })
})
