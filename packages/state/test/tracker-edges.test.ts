import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { ConnectionRecord } from '../src/connection-record.ts'
import { createConnectionTracker } from '../src/connection-tracker.ts'
import type { ConnectionTracker } from '../src/connection-tracker.ts'
import { ConnectionClosedError, InvalidArgumentError, UnknownConnectionError } from '../src/errors.ts'
import { heapUsed } from './heap.ts'

// Edges of the tracker's API that the main suite reached without asserting: what each
// refusal names, which events a peer's connections raise, which keys a record shows, and
// what a closed ID in a reused slot is.

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

function tracker (): ConnectionTracker {
  return createConnectionTracker({ clock: { now: () => 1_000 } })
}

function inbound (ip = '10.0.0.1', peer?: string): { direction: 'inbound', remoteAddress: string, remoteIp: string, peer?: string } {
  const init = { direction: 'inbound' as const, remoteAddress: `/ip4/${ip}/tcp/4001`, remoteIp: ip }
  return peer === undefined ? init : { ...init, peer }
}

/** What `action` threw, checked to be an `InvalidArgumentError`. */
function refusal (action: () => unknown): InvalidArgumentError {
  try {
    action()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError)
    return error as InvalidArgumentError
  }
  throw new Error('expected a refusal')
}

/** The peer events dispatched while `action` runs. */
function peerEvents (t: ConnectionTracker, action: () => void): string[] {
  const seen: string[] = []
  const onConnect = (): void => { seen.push('connect') }
  const onDisconnect = (): void => { seen.push('disconnect') }
  t.events.addEventListener('peer:connect', onConnect)
  t.events.addEventListener('peer:disconnect', onDisconnect)
  try {
    action()
  } finally {
    t.events.removeEventListener('peer:connect', onConnect)
    t.events.removeEventListener('peer:disconnect', onDisconnect)
  }
  return seen
}

describe('refusals name the argument and what was expected', () => {
  it('.add() with no object, a bad direction, address or IP', () => {
    const t = tracker()
    for (const init of [null, undefined, 'inbound', 7]) {
      expect(refusal(() => t.add(init as never))).toMatchObject({ argument: 'init', expected: 'an object' })
    }
    expect(refusal(() => t.add({ direction: 'sideways', remoteAddress: '/ip4/10.0.0.1/tcp/1' } as never)))
      .toMatchObject({ argument: 'direction', expected: '"inbound" or "outbound"' })
    expect(refusal(() => t.add({ direction: 'inbound', remoteAddress: 42 } as never)))
      .toMatchObject({ argument: 'remoteAddress', expected: 'a multiaddr or multiaddr text' })
    const unparsable = refusal(() => t.add({ direction: 'inbound', remoteAddress: '/ip4/not-an-ip/tcp/1' }))
    expect(unparsable).toMatchObject({ argument: 'remoteAddress', expected: 'a multiaddr or multiaddr text' })
    expect(unparsable.cause).toBeInstanceOf(Error)
    expect(refusal(() => t.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/1', remoteIp: 'nowhere' })))
      .toMatchObject({ argument: 'remoteIp', expected: 'an IP address' })
    expect(t.size).toBe(0)
  })

  it('.setStreamCount(), .tag(), .untag() and .identify() with bad values', () => {
    const t = tracker()
    const { id } = t.add(inbound())
    for (const count of [-1, 1.5, Number.NaN, '3']) {
      expect(refusal(() => { t.setStreamCount(id, count as never) })).toMatchObject({ argument: 'count', expected: 'an integer >= 0' })
    }
    for (const value of ['5', Number.NaN, Number.POSITIVE_INFINITY, undefined]) {
      expect(refusal(() => { t.tag(id, 'score', value as never) })).toMatchObject({ argument: 'value', expected: 'a finite number' })
    }
    expect(refusal(() => { t.tag(id, '', 1) })).toMatchObject({ argument: 'name', expected: 'a non-empty string' })
    expect(refusal(() => { t.untag(id, '') })).toMatchObject({ argument: 'name', expected: 'a non-empty string' })
    expect(refusal(() => { t.identify(id, '') })).toMatchObject({ argument: 'peer', expected: 'a non-empty string' })
    expect(t.get(id)?.tags).toEqual({})
    expect(t.get(id)?.streams).toBe(0)
  })

  it('changes to a closed connection name the operation refused', () => {
    const t = tracker()
    const { id } = t.add(inbound())
    t.close(id, 'local')
    const operations: Array<[string, () => void]> = [
      ['identify', () => { t.identify(id, PEER) }],
      ['setStreamCount', () => { t.setStreamCount(id, 1) }],
      ['tag', () => { t.tag(id, 'score', 1) }],
      ['untag', () => { t.untag(id, 'score') }]
    ]
    for (const [operation, action] of operations) {
      expect(action).toThrow(ConnectionClosedError)
      expect(action).toThrow(`${operation}()`)
    }
  })

  it('a ConnectionRecord cannot be constructed by hand', () => {
    const Record = ConnectionRecord as unknown as new (token: symbol, entry: unknown) => unknown
    expect(() => new Record(Symbol('forged'), {})).toThrow('A ConnectionRecord is made by a ConnectionTracker, not constructed directly')
  })
})

describe('closed IDs in reused slots', () => {
  it('a connection closed after its slot was reused is closed, not unknown; an ID never issued is unknown', () => {
    const t = tracker()
    const first = t.add(inbound()).id
    t.close(first, 'local')
    const second = t.add(inbound()).id
    expect(second).not.toBe(first)
    t.close(second, 'local')
    for (const id of [first, second]) {
      expect(t.close(id, 'local')).toBe(false)
      expect(() => { t.tag(id, 'score', 1) }).toThrow(ConnectionClosedError)
    }
    // The slot's next IDs have not been issued yet.
    const third = t.add(inbound()).id
    expect(() => { t.tag(third + (third - second), 'score', 1) }).toThrow(UnknownConnectionError)
    expect(() => t.close(third + (third - second), 'local')).toThrow(UnknownConnectionError)
    for (const id of [0, -1, -(2 ** 23), 2 ** 23, 3 * 2 ** 23]) {
      expect(() => t.close(id, 'local')).toThrow(UnknownConnectionError)
    }
    for (const id of [BigInt(third), Symbol('id'), `${third}`]) {
      expect(t.get(id as never)).toBeUndefined()
    }
  })

  it('a tracker that has seen 300,000 connections come and go holds no more memory than after the first ones (heap after GC)', () => {
    const t = tracker()
    const cycle = (): void => { t.close(t.add({ direction: 'outbound', remoteAddress: '/dns4/example.com/tcp/1' }).id, 'local') }
    for (let round = 0; round < 1_000; round++) cycle()
    const before = heapUsed()
    for (let round = 0; round < 300_000; round++) cycle()
    // Slots not reused would leave two array elements (16 bytes) per connection: 4.8 MB.
    expect(heapUsed() - before).toBeLessThan(1_000_000)
    expect(t.size).toBe(0)
  })
})

describe('peer events across a peer\'s connections', () => {
  it('closing a pending connection of a peer that has an open one does not disconnect the peer', () => {
    const t = tracker()
    const open = t.add(inbound('10.0.0.1', PEER)).id
    t.open(open)
    const pending = t.add(inbound('10.0.0.2', PEER)).id
    expect(peerEvents(t, () => { t.close(pending, 'timeout') })).toEqual([])
    expect(peerEvents(t, () => { t.close(open, 'remote') })).toEqual(['disconnect'])
  })

  it('identifying a pending connection connects no peer until it opens; a second open connection connects none', () => {
    const t = tracker()
    const first = t.add(inbound('10.0.0.1')).id
    expect(peerEvents(t, () => { t.identify(first, PEER) })).toEqual([])
    expect(peerEvents(t, () => { t.open(first) })).toEqual(['connect'])
    const second = t.add(inbound('10.0.0.2')).id
    t.open(second)
    expect(peerEvents(t, () => { t.identify(second, PEER) })).toEqual([])
    const third = t.add(inbound('10.0.0.3')).id
    t.open(third)
    expect(peerEvents(t, () => { t.identify(third, 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N') })).toEqual(['connect'])
  })
})

describe('groups whose connections sit far apart', () => {
  it('a host\'s connections stay listed when a later one lands in a slot far past the lists\' first size', () => {
    const t = tracker()
    const host = '192.0.2.1'
    const early = [t.add(inbound(host)).id, t.add(inbound(host)).id]
    // 2,997 connections of other hosts, held, so that the host's next one is in slot 3,000.
    for (let n = 0; n < 2_997; n++) t.add(inbound(`10.1.${n >> 8}.${n & 0xff}`))
    const late = t.add(inbound(host)).id
    expect(t.list({ host }).map(record => record.id).sort((a, b) => a - b)).toEqual([...early, late])
    expect(t.count({ host })).toBe(3)
  })
})

describe('records show only what is known', () => {
  it('a pending connection with no IP, peer or close reason has no such keys in its timeline or JSON', () => {
    const t = tracker()
    const record = t.add({ direction: 'outbound', remoteAddress: multiaddr('/dns4/example.com/tcp/443') })
    expect(Object.keys(record.timeline)).toEqual(['pending'])
    expect(Object.keys(record.toJSON()).sort()).toEqual(['direction', 'id', 'remoteAddress', 'state', 'streams', 'tags', 'timeline'])
    t.open(record.id)
    expect(Object.keys(record.timeline)).toEqual(['pending', 'open'])
    t.close(record.id, 'local')
    expect(Object.keys(record.timeline)).toEqual(['pending', 'open', 'closed'])
    expect(Object.keys(record.toJSON())).toContain('closeReason')
    expect(Object.keys(record.toJSON())).not.toContain('closeError')
  })
})
