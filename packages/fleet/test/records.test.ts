import { describe, expect, it } from 'vitest'
import { isChange, readHashRule, readLogEntry } from '../src/records.ts'
import type { GateList } from '@cm/gate'

const ALL: readonly GateList[] = ['deny', 'allow', 'trusted']
const WIDEST = { ipv4PrefixLength: 8, ipv6PrefixLength: 16 }
const entry = (fields: Record<string, string>): string[] => Object.entries(fields).flat()
const good = { seq: '7', op: 'set', list: 'deny', entry: '203.0.113.0/24', exp: '0', by: 'node-a', at: '1' }

describe('readLogEntry', () => {
  it('reads a well-formed change', () => {
    expect(readLogEntry(entry(good), ALL, WIDEST)).toEqual({ op: 'set', list: 'deny', entry: '203.0.113.0/24', expiresAt: 0, seq: 7, by: 'node-a' })
    expect(readLogEntry(entry({ ...good, op: 'del', exp: '' }), ALL, WIDEST)).toMatchObject({ op: 'del', expiresAt: 0 })
  })

  it.each([
    ['a malformed entry', { entry: '1.2.3.4/33' }, /malformed entry/],
    ['a non-canonical entry', { entry: '203.0.113.9/24' }, /not canonical/],
    ['an unknown list', { list: 'everyone' }, /unknown list/],
    ['an unknown operation', { op: 'flush' }, /unknown operation/],
    ['a bad expiry', { exp: '-5' }, /bad expiry/],
    ['a fractional expiry', { exp: '1.5e12' }, /bad expiry/],
    ['a writer with white space', { by: 'a b' }, /bad writer/],
    ['an entry of 10,000 characters', { entry: 'x'.repeat(10_000) }, /1 to 256 characters/],
    ['control characters', { entry: '10.0.0.1\u0000' }, /malformed entry/]
  ])('refuses %s (malformed: without its sequence number)', (_name, change, reason) => {
    const read = readLogEntry(entry({ ...good, ...change }), ALL, WIDEST)
    expect(isChange(read)).toBe(false)
    expect(read).toEqual({ reason: expect.stringMatching(reason) as unknown })
  })

  it.each([
    ['a trusted rule wider than /8', { list: 'trusted', entry: '0.0.0.0/0' }, /wider than \/8/],
    ['an allow rule wider than /16 (IPv6)', { list: 'allow', entry: '::/1' }, /wider than \/16/]
  ])('refuses %s (policy: keeping its sequence number, the change took a place in the log)', (_name, change, reason) => {
    expect(readLogEntry(entry({ ...good, ...change }), ALL, WIDEST)).toEqual({ seq: 7, reason: expect.stringMatching(reason) as unknown })
  })

  it.each([
    ['not an array', 'seq'],
    ['an odd number of items', ['seq', '1', 'op']],
    ['a number where a string belongs', ['seq', 1]],
    ['too many fields', Array.from({ length: 200 }, (_, index) => String(index))],
    ['a bad sequence number', entry({ ...good, seq: 'NaN' })],
    ['a sequence number past 2^53', entry({ ...good, seq: '99999999999999999' })]
  ])('refuses %s without a sequence number', (_name, fields) => {
    const read = readLogEntry(fields, ALL, WIDEST)
    expect(isChange(read)).toBe(false)
    expect(read.seq).toBeUndefined()
  })

  it('refuses the lists a node does not take', () => {
    expect(readLogEntry(entry({ ...good, list: 'allow', entry: '10.0.0.0/8' }), ['deny'], WIDEST)).toEqual({ seq: 7, reason: expect.stringMatching(/does not take allow/) as unknown })
  })
})

describe('readHashRule', () => {
  it('reads a well-formed rule', () => {
    expect(readHashRule('deny 203.0.113.7', '3 1800000000000 budget 1799999999000', ALL, WIDEST))
      .toEqual({ op: 'set', list: 'deny', entry: '203.0.113.7', expiresAt: 1_800_000_000_000, seq: 3, by: 'budget' })
  })

  it.each([
    ['a malformed value', 'deny 203.0.113.7', '{"seq":1}'],
    ['a value with extra fields', 'deny 203.0.113.7', '3 0 a 1 extra'],
    ['a field without an entry', 'deny', '3 0 a 1'],
    ['a field with a bad list', 'block 203.0.113.7', '3 0 a 1'],
    ['a binary value', 'deny 203.0.113.7', Buffer.from([0xff, 0x00])]
  ])('refuses %s', (_name, field, value) => {
    expect(isChange(readHashRule(field, value, ALL, WIDEST))).toBe(false)
  })
})
