import { describe, expect, it } from 'vitest'
import { createGate } from '../src/gate.ts'

// A slot emptied by a removal must read as empty again: a table that is never resized (one
// rule stays, so the table is kept, and its size stays at one or two) would otherwise fill
// with stale keys until no slot is free.
describe('prefix tables - slots freed by removals are reused', () => {
  it('1,000 different /64 rules, each added and removed in turn, leave the table usable', () => {
    const gate = createGate({ denyList: ['2001:db8:ffff:1::/64'] })
    for (let index = 0; index < 1_000; index++) {
      const rule = `2001:db8:${index.toString(16)}::/64`
      gate.deny(rule)
      expect(gate.check(`2001:db8:${index.toString(16)}::1`).allowed).toBe(false)
      expect(gate.remove('deny', rule)).toBe(true)
    }
    gate.deny('2001:db8:ffff::/64')
    expect(gate.check('2001:db8:ffff::1').allowed).toBe(false)
    expect(gate.check('2001:db8:1::1').allowed).toBe(true)
    expect(gate.check('2001:db8:ffff:1::1').allowed).toBe(false)
  })

  it('the same for 1,000 different /24 rules', () => {
    const gate = createGate({ denyList: ['10.255.0.0/24'] })
    for (let index = 0; index < 1_000; index++) {
      const rule = `10.${index >> 8}.${index & 0xff}.0/24`
      gate.deny(rule)
      expect(gate.remove('deny', rule)).toBe(true)
    }
    gate.deny('10.200.0.0/24')
    expect(gate.check('10.200.0.9').allowed).toBe(false)
  })
})
