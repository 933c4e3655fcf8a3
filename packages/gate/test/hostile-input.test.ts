import { InvalidConfigError } from '@cm/config'
import { InvalidAddressError, MAX_MULTIADDR_LENGTH } from '@cm/config/address'
import { multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidSnapshotError } from '../src/errors.ts'
import { createGate } from '../src/gate.ts'
import type { GateList } from '../src/options.ts'

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const MEGABYTE = 1024 * 1024
const REASONS = ['allowed', 'deny-list', 'not-allow-listed', 'invalid-address']

function thrown (action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  return undefined
}

describe('hostile input - bounded work', () => {
  it('.check() refuses a multiaddr with a 40,000-character peer ID as invalid-address, and matches no rule with a huge peer', () => {
    const gate = createGate({ denyList: [PEER], allowList: ['1.2.3.0/24'] })
    expect(gate.check(`/ip4/1.2.3.4/tcp/1/p2p/${'1'.repeat(40_000)}`)).toMatchObject({ allowed: false, reason: 'invalid-address' })
    expect(gate.check(`/ip4/1.2.3.4/tcp/1/p2p/${'Q'.repeat(MEGABYTE)}`)).toMatchObject({ allowed: false, reason: 'invalid-address' })
    // A peer far longer than any peer ID matches no peer rule, whatever its first letter.
    for (const peer of [`1${'2'.repeat(MEGABYTE)}`, `Q${'m'.repeat(MEGABYTE)}`, `bafz${'a'.repeat(MEGABYTE)}`]) {
      expect(gate.check('1.2.3.4', { peer })).toMatchObject({ allowed: true, rule: '1.2.3.0/24' })
      expect(gate.checkPeer(peer)).toMatchObject({ allowed: false, reason: 'not-allow-listed' })
    }
    expect(gate.check(`1.2.3.4${' '.repeat(MEGABYTE)}`)).toMatchObject({ reason: 'invalid-address' })
    expect(gate.check(`fe80::1%${'e'.repeat(MEGABYTE)}`)).toMatchObject({ reason: 'invalid-address' })
  })

  it('.deny(), .allow(), .trust() and .remove() refuse a 100 KB entry with a message of under 200 characters', () => {
    const gate = createGate()
    const entry = `/ip4/1.2.3.4/tcp/1/p2p/${'1'.repeat(100_000)}`
    for (const action of [() => gate.deny(entry), () => gate.allow(entry), () => gate.trust(entry), () => gate.remove('deny', entry)]) {
      const error = thrown(action)
      expect(InvalidAddressError.isInstance(error)).toBe(true)
      expect((error as InvalidAddressError).input).toBe(entry)
      expect((error as InvalidAddressError).reason).toBe(`the entry is ${entry.length} characters long; entries are at most ${MAX_MULTIADDR_LENGTH}`)
      expect((error as Error).message.length).toBeLessThan(200)
    }
    expect(gate.size()).toBe(0)
  })

  it('a snapshot of 100,000 bad entries is refused with a message that lists 20 problems', () => {
    const gate = createGate()
    const error = thrown(() => gate.load({ version: 1, savedAt: 0, deny: Array.from({ length: 100_000 }, () => ({ entry: 'x' })), allow: [], trusted: [] }))
    expect(InvalidSnapshotError.isInstance(error)).toBe(true)
    const snapshotError = error as InvalidSnapshotError
    expect(snapshotError.problemCount).toBe(100_000)
    expect(snapshotError.message.split('\n')).toHaveLength(22)
    expect(snapshotError.message).toMatch(/and 99980 more$/)
  })
})

describe('hostile input - lists fail closed', () => {
  it('createGate() refuses an allow list of holes (it would otherwise admit everyone), naming each index', () => {
    const error = thrown(() => createGate({ allowList: new Array<string>(3) }))
    expect(InvalidConfigError.isInstance(error)).toBe(true)
    expect((error as InvalidConfigError).problems.map(problem => problem.path)).toEqual(['allowList[0]', 'allowList[1]', 'allowList[2]'])
  })

  it('.replace() refuses holes, non-arrays and non-string entries, naming the index, and changes nothing', () => {
    const gate = createGate({ allowList: ['10.0.0.0/8'] })
    // eslint-disable-next-line no-sparse-arrays
    const cases: Array<[unknown, string[]]> = [[[, '1.2.3.4'], ['allowList[0]']], ['1.2.3.4', ['allowList']], [['1.2.3.4', 7, null], ['allowList[1]', 'allowList[2]']]]
    for (const [entries, paths] of cases) {
      const error = thrown(() => gate.replace('allow', entries as string[]))
      expect(InvalidConfigError.isInstance(error)).toBe(true)
      expect((error as InvalidConfigError).problems.map(problem => problem.path)).toEqual(paths)
      expect(gate.rules('allow').map(rule => rule.text)).toEqual(['10.0.0.0/8'])
    }
  })

  it('.load() refuses a snapshot whose deny list has a hole (a ban would be dropped)', () => {
    const gate = createGate()
    // eslint-disable-next-line no-sparse-arrays
    const error = thrown(() => gate.load({ version: 1, savedAt: 0, deny: [, { entry: '10.0.0.1' }], allow: [], trusted: [] }))
    expect(InvalidSnapshotError.isInstance(error)).toBe(true)
    expect((error as InvalidSnapshotError).problems.map(problem => problem.path)).toEqual(['deny[0]'])
    expect(gate.size()).toBe(0)
  })
})

describe('fuzz', () => {
  const text = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 100 }),
    fc.uint8Array({ maxLength: 200 }).map(bytes => Buffer.from(bytes).toString('latin1')),
    fc.constantFrom('/ip4/', '/ip6/::1/tcp/1/p2p/', '/ip4/1.2.3.4/ipcidr/', '/p2p/', '1', 'Q', 'bafz', 'k51').chain(prefix => fc.string({ maxLength: 200 }).map(rest => prefix + rest)),
    fc.nat(6).map(exponent => `/ip4/1.2.3.4/tcp/1/p2p/${'1'.repeat(10 ** exponent)}`)
  )
  const anything = fc.oneof(text, fc.anything(), fc.constant(multiaddr('/ip4/1.2.3.4/tcp/1')))

  it('.check() and .checkPeer() never throw and always answer one of the four reasons', () => {
    const gate = createGate({ denyList: ['10.0.0.0/8', PEER], allowList: ['1.2.3.0/24', '2001:db8::/32'], trustedList: ['1.2.3.4'] })
    fc.assert(fc.property(anything, anything, fc.constantFrom('inbound', 'outbound', undefined, 'sideways'), (address, peer, direction) => {
      for (const verdict of [gate.check(address as string, { peer: peer as string, direction: direction as 'inbound' }), gate.check(address as string), gate.checkPeer(peer as string, { address: address as string })]) {
        expect(REASONS).toContain(verdict.reason)
        expect(typeof verdict.allowed).toBe('boolean')
      }
    }), { numRuns: 3_000 })
  })

  it('.deny(), .allow(), .trust() and .remove() either apply or throw a clear error with a bounded message', () => {
    const gate = createGate()
    fc.assert(fc.property(fc.constantFrom<GateList>('deny', 'allow', 'trusted'), anything, fc.oneof(fc.constant(undefined), fc.anything()), (list, entry, options) => {
      const actions = [
        () => list === 'deny' ? gate.deny(entry as string, options as never) : list === 'allow' ? gate.allow(entry as string) : gate.trust(entry as string),
        () => gate.remove(list, entry as string)
      ]
      for (const action of actions) {
        const error = thrown(action)
        if (error !== undefined) {
          expect(InvalidAddressError.isInstance(error) || InvalidConfigError.isInstance(error)).toBe(true)
          expect((error as Error).message.length).toBeLessThan(1_000)
        }
      }
    }), { numRuns: 2_000 })
  })
})
