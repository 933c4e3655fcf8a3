import { InvalidConfigError } from '@cm/config'
import { SafeEventEmitter } from '@cm/config/events'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it, vi } from 'vitest'
import { ConnectionTracker, createConnectionTracker } from '../src/connection-tracker.ts'
import { ConnectionClosedError, InvalidArgumentError, InvalidTransitionError, PeerMismatchError, UnknownConnectionError } from '../src/errors.ts'
import { GroupRecords } from '../src/group-records.ts'
import type { ConnectionTrackerInit } from '../src/tracker-options.ts'
import type { ConnectionTrackerEvents } from '../src/events.ts'

const PEER_A = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const PEER_B = 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'

function fakeClock (start = 1_000): { now: () => number, advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: ms => { time += ms } }
}

function setup (init: ConnectionTrackerInit = {}): { tracker: ConnectionTracker, clock: ReturnType<typeof fakeClock> } {
  const clock = fakeClock()
  return { tracker: createConnectionTracker({ clock, ...init }), clock }
}

function inbound (ip = '10.0.0.1', peer?: string): { direction: 'inbound', remoteAddress: string, remoteIp: string, peer?: string } {
  return peer === undefined
    ? { direction: 'inbound', remoteAddress: `/ip4/${ip}/tcp/4001`, remoteIp: ip }
    : { direction: 'inbound', remoteAddress: `/ip4/${ip}/tcp/4001`, remoteIp: ip, peer }
}

/** Everything a query can see, to check that a refused operation changed nothing. */
function observe (tracker: ConnectionTracker): unknown {
  return {
    size: tracker.size,
    records: tracker.list().map(record => record.toJSON()),
    history: tracker.history().map(record => record.toJSON()),
    snapshot: tracker.snapshot()
  }
}

describe('createConnectionTracker()', () => {
  it('creates an empty tracker with its own event target', () => {
    const tracker = createConnectionTracker()
    expect(tracker).toBeInstanceOf(ConnectionTracker)
    expect(tracker.size).toBe(0)
    expect(tracker.count()).toBe(0)
    expect(tracker.events).toBeInstanceOf(SafeEventEmitter)
  })

  it('refuses malformed options, listing every problem, with config\'s rule for connectionHistorySize', () => {
    let error: unknown
    try {
      createConnectionTracker({ clock: {} as never, connectionHistorySize: -1, events: 5 as never, onListenerError: 'x' as never, historySize: 3 } as never)
    } catch (caught) {
      error = caught
    }
    expect(InvalidConfigError.isInstance(error)).toBe(true)
    expect((error as InvalidConfigError).problems.map(problem => problem.message)).toEqual([
      expect.stringMatching(/^Unknown option `historySize`/),
      'Expected `clock` to be a clock (an object with a now() method), got an object (Object)',
      'Expected `connectionHistorySize` to be an integer >= 0 and <= 1000000, got -1 (number)',
      'Expected `events` to be an EventTarget, got 5 (number)',
      'Expected `onListenerError` to be a function, got "x" (string)'
    ])
  })

  it('refuses as `events` an object that cannot dispatch events', () => {
    expect(() => createConnectionTracker({ events: { addEventListener: () => {} } as never })).toThrow(/Expected `events` to be an EventTarget/)
  })
})

describe('.add()', () => {
  it('.add() - records a pending connection with its fields and timeline', () => {
    const { tracker } = setup()
    const metadata = { socket: 'fake' }
    const record = tracker.add({ ...inbound('10.0.0.1', PEER_A), metadata })
    expect(record.id).toBe(1)
    expect(record.direction).toBe('inbound')
    expect(record.remoteAddress).toBe('/ip4/10.0.0.1/tcp/4001')
    expect(record.remoteIp).toBe('10.0.0.1')
    expect(record.peer).toBe(PEER_A)
    expect(record.state).toBe('pending')
    expect(record.timeline).toEqual({ pending: 1_000 })
    expect(record.closeReason).toBeUndefined()
    expect(record.streams).toBe(0)
    expect(record.tags).toEqual({})
    expect(record.metadata).toBe(metadata)
    expect(tracker.get(record.id)).toBe(record)
    expect(tracker.size).toBe(1)
  })

  it('.add() - issues distinct IDs, also when slots of closed connections are reused', () => {
    const { tracker } = setup()
    const seen = new Set<number>()
    for (let round = 0; round < 50; round++) {
      const ids = [tracker.add(inbound()).id, tracker.add(inbound()).id]
      for (const id of ids) {
        expect(Number.isSafeInteger(id) && id >= 1).toBe(true)
        expect(seen.has(id)).toBe(false)
        seen.add(id)
      }
      tracker.close(ids[round % 2]!, 'local')
    }
    expect(tracker.size).toBe(50)
  })

  it('.add() - takes the IP from a multiaddr (text or object) when no remoteIp is given', () => {
    const { tracker } = setup()
    expect(tracker.add({ direction: 'outbound', remoteAddress: '/ip4/192.0.2.1/tcp/1' }).remoteIp).toBe('192.0.2.1')
    const object = tracker.add({ direction: 'outbound', remoteAddress: multiaddr('/ip6/2001:DB8:0:0::1/tcp/1') })
    expect(object.remoteAddress).toBe('/ip6/2001:db8::1/tcp/1')
    expect(object.remoteIp).toBe('2001:db8::1')
  })

  it('.add() - keeps no IP for addresses that name no IP host (DNS, relayed)', () => {
    const { tracker } = setup()
    expect(tracker.add({ direction: 'outbound', remoteAddress: '/dns4/example.com/tcp/443' }).remoteIp).toBeUndefined()
    const relayed = tracker.add({ direction: 'inbound', remoteAddress: `/ip4/10.0.0.1/tcp/1/p2p/${PEER_B}/p2p-circuit/p2p/${PEER_A}` })
    expect(relayed.remoteIp).toBeUndefined()
    expect(tracker.count({ host: '10.0.0.1' })).toBe(0)
    expect(tracker.count()).toBe(2)
  })

  it('.add() - stores the remote IP in canonical form: IPv4-mapped IPv6 is IPv4', () => {
    const { tracker } = setup()
    expect(tracker.add(inbound('::ffff:10.0.0.1')).remoteIp).toBe('10.0.0.1')
    expect(tracker.add(inbound('2001:DB8:0:0:0:0:0:1')).remoteIp).toBe('2001:db8::1')
    expect(tracker.add(inbound('fe80::1%eth0')).remoteIp).toBe('fe80::1')
    expect(tracker.count({ host: '10.0.0.1' })).toBe(1)
    expect(tracker.count({ host: '::ffff:a00:1' })).toBe(1)
  })

  it('.add() - refuses malformed arguments and adds nothing', () => {
    const { tracker } = setup()
    const cases: Array<[unknown, string]> = [
      [undefined, 'init'],
      [{ direction: 'sideways', remoteAddress: '/ip4/1.2.3.4/tcp/1' }, 'direction'],
      [{ direction: 'inbound', remoteAddress: 42 }, 'remoteAddress'],
      [{ direction: 'inbound', remoteAddress: '/ip4/1.2.3/tcp/1' }, 'remoteAddress'],
      [{ direction: 'inbound', remoteAddress: 'not a multiaddr' }, 'remoteAddress'],
      [{ direction: 'inbound', remoteAddress: '/ip4/1.2.3.4/tcp/1', remoteIp: '010.0.0.1' }, 'remoteIp'],
      [{ direction: 'inbound', remoteAddress: '/ip4/1.2.3.4/tcp/1', remoteIp: 7 }, 'remoteIp'],
      [{ direction: 'inbound', remoteAddress: '/ip4/1.2.3.4/tcp/1', peer: '' }, 'peer']
    ]
    for (const [init, argument] of cases) {
      let error: unknown
      try {
        tracker.add(init as never)
      } catch (caught) {
        error = caught
      }
      expect(InvalidArgumentError.isInstance(error)).toBe(true)
      expect((error as InvalidArgumentError).argument).toBe(argument)
    }
    expect(tracker.size).toBe(0)
    // A refused add does not use up an ID.
    expect(tracker.add(inbound()).id).toBe(1)
  })
})

describe('transitions', () => {
  it('.open() - pending → open: sets the open time and moves the counts', () => {
    const { tracker, clock } = setup()
    const { id } = tracker.add(inbound())
    clock.advance(250)
    tracker.open(id)
    expect(tracker.get(id)?.state).toBe('open')
    expect(tracker.get(id)?.timeline).toEqual({ pending: 1_000, open: 1_250 })
    expect(tracker.count({ state: 'pending' })).toBe(0)
    expect(tracker.count({ state: 'open', direction: 'inbound' })).toBe(1)
  })

  it('.close() - pending → closed: a failed or refused connection, with its reason and error', () => {
    const { tracker, clock } = setup()
    const { id } = tracker.add(inbound())
    const error = new Error('handshake failed')
    clock.advance(10)
    expect(tracker.close(id, 'error', error)).toBe(true)
    const [closed] = tracker.history()
    expect(closed?.state).toBe('closed')
    expect(closed?.closeReason).toBe('error')
    expect(closed?.closeError).toBe(error)
    expect(closed?.timeline).toEqual({ pending: 1_000, closed: 1_010 })
    expect(tracker.get(id)).toBeUndefined()
    expect(tracker.size).toBe(0)
  })

  it('.closing() - open → closing: keeps the reason and error', () => {
    const { tracker, clock } = setup()
    const { id } = tracker.add(inbound())
    tracker.open(id)
    clock.advance(5)
    const error = new Error('over the limit')
    tracker.closing(id, 'pruned', error)
    const record = tracker.get(id)
    expect(record?.state).toBe('closing')
    expect(record?.closeReason).toBe('pruned')
    expect(record?.closeError).toBe(error)
    expect(record?.timeline).toEqual({ pending: 1_000, open: 1_000, closing: 1_005 })
    expect(tracker.count({ state: 'closing' })).toBe(1)
  })

  it('.close() - open → closed: a reset by the remote', () => {
    const { tracker } = setup()
    const { id } = tracker.add(inbound())
    tracker.open(id)
    expect(tracker.close(id, 'remote')).toBe(true)
    expect(tracker.history()[0]?.closeReason).toBe('remote')
    expect(tracker.count()).toBe(0)
  })

  it('.close() - closing → closed: the closing reason and error are kept, a later error fills a gap', () => {
    const { tracker, clock } = setup()
    const first = tracker.add(inbound())
    const second = tracker.add(inbound())
    for (const { id } of [first, second]) tracker.open(id)
    const closingError = new Error('first')
    tracker.closing(first.id, 'pruned', closingError)
    tracker.closing(second.id, 'shutdown')
    clock.advance(100)
    const lateError = new Error('late')
    tracker.close(first.id, 'remote', new Error('ignored'))
    tracker.close(second.id, 'error', lateError)
    expect(first.closeReason).toBe('pruned')
    expect(first.closeError).toBe(closingError)
    expect(first.timeline).toEqual({ pending: 1_000, open: 1_000, closing: 1_000, closed: 1_100 })
    expect(second.closeReason).toBe('shutdown')
    expect(second.closeError).toBe(lateError)
  })

  it('.close() - closing → closed with reason timeout: the graceful close ran out of time, timeout replaces the closing reason', () => {
    const { tracker } = setup()
    const record = tracker.add(inbound())
    tracker.open(record.id)
    tracker.closing(record.id, 'pruned')
    const error = new Error('close timed out')
    tracker.close(record.id, 'timeout', error)
    expect(record.closeReason).toBe('timeout')
    expect(record.closeError).toBe(error)
    expect(tracker.snapshot().closed.byReason).toMatchObject({ timeout: 1, pruned: 0 })
  })

  it('.close() - closing a closed connection is a no-op that returns false', () => {
    const { tracker } = setup()
    const { id } = tracker.add(inbound())
    tracker.close(id, 'local')
    const before = observe(tracker)
    expect(tracker.close(id, 'error')).toBe(false)
    expect(observe(tracker)).toEqual(before)
    expect(tracker.history()[0]?.closeReason).toBe('local')
  })

  describe('illegal transitions throw InvalidTransitionError and change nothing', () => {
    const illegal = [
      ['pending', 'closing'],
      ['open', 'open'],
      ['closing', 'open'],
      ['closing', 'closing'],
      ['closed', 'open'],
      ['closed', 'closing']
    ] as const

    it.each(illegal)('%s → %s', (from, to) => {
      const { tracker } = setup()
      const { id } = tracker.add(inbound('10.0.0.1', PEER_A))
      if (from !== 'pending') tracker.open(id)
      if (from === 'closing') tracker.closing(id, 'local')
      if (from === 'closed') tracker.close(id, 'local')
      const before = observe(tracker)
      let error: unknown
      try {
        if (to === 'open') tracker.open(id)
        else tracker.closing(id, 'local')
      } catch (caught) {
        error = caught
      }
      expect(InvalidTransitionError.isInstance(error)).toBe(true)
      expect(error).toMatchObject({ id, from, to })
      expect(observe(tracker)).toEqual(before)
    })
  })

  it('unknown IDs throw UnknownConnectionError from every operation', () => {
    const { tracker } = setup()
    tracker.add(inbound())
    for (const id of [0, 2, -1, 1.5, Number.NaN, 2 ** 23 + 1, '1' as unknown as number]) {
      for (const operation of [
        () => tracker.open(id),
        () => tracker.closing(id, 'local'),
        () => tracker.close(id, 'local'),
        () => tracker.identify(id, PEER_A),
        () => tracker.setStreamCount(id, 1),
        () => tracker.tag(id, 'a', 1),
        () => tracker.untag(id, 'a')
      ]) {
        expect(operation).toThrow(UnknownConnectionError)
      }
      expect(tracker.get(id)).toBeUndefined()
    }
    expect(tracker.size).toBe(1)
  })

  it('close reasons and errors are checked before anything changes', () => {
    const { tracker } = setup()
    const { id } = tracker.add(inbound())
    tracker.open(id)
    expect(() => tracker.close(id, 'because' as never)).toThrow(InvalidArgumentError)
    expect(() => tracker.closing(id, 'local', 'not an error' as never)).toThrow(InvalidArgumentError)
    expect(tracker.get(id)?.state).toBe('open')
  })
})

describe('.identify()', () => {
  it('.identify() - records the peer and indexes the connection under it', () => {
    const { tracker } = setup()
    const record = tracker.add(inbound())
    tracker.identify(record.id, PEER_A)
    expect(record.peer).toBe(PEER_A)
    expect(tracker.count({ peer: PEER_A })).toBe(1)
    expect(tracker.list({ peer: PEER_A })).toEqual([record])
  })

  it('.identify() - the same peer again is a no-op; another peer throws PeerMismatchError', () => {
    const { tracker } = setup()
    const { id } = tracker.add(inbound('10.0.0.1', PEER_A))
    tracker.identify(id, PEER_A)
    expect(tracker.count({ peer: PEER_A })).toBe(1)
    const before = observe(tracker)
    expect(() => tracker.identify(id, PEER_B)).toThrow(PeerMismatchError)
    expect(observe(tracker)).toEqual(before)
  })

  it('.identify() - a closed connection throws ConnectionClosedError', () => {
    const { tracker } = setup()
    const { id } = tracker.add(inbound())
    tracker.close(id, 'local')
    expect(() => tracker.identify(id, PEER_A)).toThrow(ConnectionClosedError)
    expect(() => tracker.identify(id, '')).toThrow(InvalidArgumentError)
  })
})

describe('.setStreamCount()', () => {
  it('.setStreamCount() - sets the count and the total in the snapshot', () => {
    const { tracker } = setup()
    const first = tracker.add(inbound())
    const second = tracker.add(inbound())
    tracker.setStreamCount(first.id, 3)
    tracker.setStreamCount(second.id, 2)
    tracker.setStreamCount(first.id, 1)
    expect(first.streams).toBe(1)
    expect(tracker.snapshot().streams).toBe(3)
    tracker.close(second.id, 'local')
    expect(tracker.snapshot().streams).toBe(1)
  })

  it('.setStreamCount() - refuses negative, fractional and closed', () => {
    const { tracker } = setup()
    const { id } = tracker.add(inbound())
    expect(() => tracker.setStreamCount(id, -1)).toThrow(InvalidArgumentError)
    expect(() => tracker.setStreamCount(id, 1.5)).toThrow(InvalidArgumentError)
    tracker.close(id, 'local')
    expect(() => tracker.setStreamCount(id, 1)).toThrow(ConnectionClosedError)
  })
})

describe('.tag() and .untag()', () => {
  it('.tag() - sets and replaces tags; the tags object is frozen and replaced, not changed', () => {
    const { tracker } = setup()
    const record = tracker.add(inbound())
    tracker.tag(record.id, 'keep-alive', 100)
    const first = record.tags
    tracker.tag(record.id, 'priority', -5.5)
    tracker.tag(record.id, 'keep-alive', 50)
    expect(first).toEqual({ 'keep-alive': 100 })
    expect(record.tags).toEqual({ 'keep-alive': 50, priority: -5.5 })
    expect(Object.isFrozen(record.tags)).toBe(true)
  })

  it('.tag() - a tag named __proto__ is an ordinary tag', () => {
    const { tracker } = setup()
    const record = tracker.add(inbound())
    tracker.tag(record.id, '__proto__', 1)
    expect(Object.hasOwn(record.tags, '__proto__')).toBe(true)
    expect(JSON.stringify(record.toJSON().tags)).toBe('{"__proto__":1}')
  })

  it('.untag() - removes a tag; a missing tag is a no-op', () => {
    const { tracker } = setup()
    const record = tracker.add(inbound())
    tracker.tag(record.id, 'a', 1)
    tracker.tag(record.id, 'b', 2)
    tracker.untag(record.id, 'a')
    tracker.untag(record.id, 'missing')
    expect(record.tags).toEqual({ b: 2 })
    tracker.untag(record.id, 'b')
    expect(record.tags).toEqual({})
  })

  it('.tag() - refuses bad names and values, and closed connections', () => {
    const { tracker } = setup()
    const { id } = tracker.add(inbound())
    expect(() => tracker.tag(id, '', 1)).toThrow(InvalidArgumentError)
    expect(() => tracker.tag(id, 'a', Number.NaN)).toThrow(InvalidArgumentError)
    expect(() => tracker.tag(id, 'a', Number.POSITIVE_INFINITY)).toThrow(InvalidArgumentError)
    expect(() => tracker.untag(id, 5 as never)).toThrow(InvalidArgumentError)
    tracker.close(id, 'local')
    expect(() => tracker.tag(id, 'a', 1)).toThrow(ConnectionClosedError)
    expect(() => tracker.untag(id, 'a')).toThrow(ConnectionClosedError)
  })
})

describe('.count() and .list()', () => {
  function populated (): { tracker: ConnectionTracker, ids: number[] } {
    const { tracker } = setup()
    const ids = [
      tracker.add(inbound('10.0.0.1', PEER_A)).id, // open
      tracker.add(inbound('10.0.0.1', PEER_B)).id, // pending
      tracker.add({ direction: 'outbound', remoteAddress: '/ip4/10.0.0.2/tcp/1', peer: PEER_A }).id, // closing
      tracker.add({ direction: 'outbound', remoteAddress: '/ip6/2001:db8::1/tcp/1' }).id, // open
      tracker.add({ direction: 'outbound', remoteAddress: '/dns4/example.com/tcp/1', peer: PEER_A }).id // open
    ]
    for (const id of [ids[0]!, ids[2]!, ids[3]!, ids[4]!]) tracker.open(id)
    tracker.closing(ids[2]!, 'local')
    return { tracker, ids }
  }

  it('.count() - answers every combination of filters', () => {
    const { tracker } = populated()
    expect(tracker.count()).toBe(5)
    expect(tracker.count({ state: 'open' })).toBe(3)
    expect(tracker.count({ state: 'open', direction: 'outbound' })).toBe(2)
    expect(tracker.count({ direction: 'inbound' })).toBe(2)
    expect(tracker.count({ peer: PEER_A })).toBe(3)
    expect(tracker.count({ peer: PEER_A, state: 'open' })).toBe(2)
    expect(tracker.count({ peer: PEER_A, direction: 'outbound', state: 'closing' })).toBe(1)
    expect(tracker.count({ host: '10.0.0.1' })).toBe(2)
    expect(tracker.count({ host: '10.0.0.1', state: 'pending' })).toBe(1)
    expect(tracker.count({ host: '2001:0db8::0001' })).toBe(1)
    expect(tracker.count({ peer: PEER_A, host: '10.0.0.1' })).toBe(1)
    expect(tracker.count({ peer: PEER_A, host: '10.0.0.2', state: 'open' })).toBe(0)
    expect(tracker.count({ peer: 'nobody' })).toBe(0)
    expect(tracker.count({ host: 'not an ip' })).toBe(0)
    expect(tracker.count({ peer: PEER_A, host: 'not an ip' })).toBe(0)
  })

  it('.list() - returns the matching records', () => {
    const { tracker, ids } = populated()
    const idsOf = (filter: Parameters<ConnectionTracker['list']>[0]): number[] => tracker.list(filter).map(record => record.id).sort((a, b) => a - b)
    expect(idsOf({})).toEqual(ids)
    expect(idsOf({ state: 'open' })).toEqual([ids[0], ids[3], ids[4]])
    expect(idsOf({ peer: PEER_A })).toEqual([ids[0], ids[2], ids[4]])
    expect(idsOf({ peer: PEER_A, host: '::ffff:10.0.0.1' })).toEqual([ids[0]])
    expect(idsOf({ host: '10.0.0.1', direction: 'inbound', state: 'pending' })).toEqual([ids[1]])
    expect(idsOf({ peer: 'nobody' })).toEqual([])
    expect(idsOf({ host: 'nonsense' })).toEqual([])
    expect(idsOf({ peer: PEER_A, host: 'nonsense' })).toEqual([])
  })

  it('.list() - orders by state, then direction, then the time each entered its state', () => {
    const { tracker, clock } = setup()
    const a = tracker.add(inbound()).id
    const b = tracker.add(inbound()).id
    const c = tracker.add({ direction: 'outbound', remoteAddress: '/ip4/10.0.0.3/tcp/1' }).id
    clock.advance(1)
    tracker.open(b)
    tracker.open(a)
    expect(tracker.list().map(record => record.id)).toEqual([c, b, a])
    expect(tracker.list({ state: 'open' }).map(record => record.id)).toEqual([b, a])
  })

  it('.count() - refuses unknown states and directions', () => {
    const { tracker } = setup()
    expect(() => tracker.count({ state: 'closed' as never })).toThrow(InvalidArgumentError)
    expect(() => tracker.count({ state: 'toString' as never })).toThrow(InvalidArgumentError)
    expect(() => tracker.list({ direction: 'up' as never })).toThrow(InvalidArgumentError)
  })
})

describe('groups of connections', () => {
  it('reuses the records of groups that emptied: peers and hosts that come and go leak nothing', () => {
    const create = vi.spyOn(GroupRecords.prototype, 'create')
    try {
      const { tracker } = setup()
      for (let round = 0; round < 1_000; round++) {
        // A new peer and host each round, with two connections: a group record for each.
        const ip = `10.${round >> 8}.${round & 0xff}.1`
        const first = tracker.add(inbound(ip, `peer-${round}`)).id
        const second = tracker.add(inbound(ip, `peer-${round}`)).id
        tracker.open(first)
        expect(tracker.count({ peer: `peer-${round}` })).toBe(2)
        expect(tracker.count({ host: ip, state: 'open' })).toBe(1)
        tracker.close(first, 'remote')
        tracker.close(second, 'remote')
        expect(tracker.count({ peer: `peer-${round}` })).toBe(0)
      }
      // A record for the peer and one for the host, made afresh each round: released ones
      // are reused, so the IDs never pass 1.
      const ids = create.mock.results.map(result => result.value as number)
      expect(ids).toHaveLength(2 * 1_000)
      expect(Math.max(...ids)).toBe(1)
    } finally {
      create.mockRestore()
    }
  })
})

describe('.history()', () => {
  it('.history() - keeps the most recent closed connections, oldest first, up to its size', () => {
    const { tracker } = setup({ connectionHistorySize: 3 })
    const ids = Array.from({ length: 5 }, () => tracker.add(inbound()).id)
    for (const id of ids) tracker.close(id, 'local')
    expect(tracker.history().map(record => record.id)).toEqual(ids.slice(2))
    expect(tracker.snapshot().closed.total).toBe(5)
  })

  it('.history() - keeps nothing when connectionHistorySize is 0', () => {
    const { tracker } = setup({ connectionHistorySize: 0 })
    tracker.close(tracker.add(inbound()).id, 'local')
    expect(tracker.history()).toEqual([])
  })

  it('.history() - holds 100 by default', () => {
    const { tracker } = setup()
    for (let index = 0; index < 150; index++) tracker.close(tracker.add(inbound()).id, 'local')
    expect(tracker.history()).toHaveLength(100)
  })
})

describe('external event target', () => {
  it('dispatches on the target given, such as a manager\'s bus', () => {
    const bus = new SafeEventEmitter<ConnectionTrackerEvents & { 'manager:other': CustomEvent<number> }>()
    const tracker = createConnectionTracker({ events: bus })
    const seen: string[] = []
    bus.addEventListener('connection:pending', event => { seen.push(`pending ${event.detail.connection.id}`) })
    tracker.add(inbound())
    expect(tracker.events).toBe(bus)
    expect(seen).toEqual(['pending 1'])
  })
})

describe('malformed arguments, word for word', () => {
  /** What the call threw: its name, argument, expected and message. */
  function thrown (call: () => unknown): unknown {
    try {
      call()
    } catch (error) {
      const { name, argument, expected, message } = error as InvalidArgumentError
      return { name, argument, expected, message }
    }
    return undefined
  }
  const REASONS = 'one of "local", "remote", "error", "timeout", "pruned", "denied", "limit", "aborted", "shutdown"'

  it('names the argument, what it must be and what it got', () => {
    const { tracker } = setup()
    const { id } = tracker.add(inbound())
    const STATES = 'one of "pending", "open", "closing"'
    expect(thrown(() => tracker.count({ state: 'closed' as never }))).toEqual({ name: 'InvalidArgumentError', argument: 'filter.state', expected: STATES, message: `Expected \`filter.state\` to be ${STATES}, got "closed" (string)` })
    expect(thrown(() => tracker.list({ state: 'toString' as never }))).toMatchObject({ argument: 'filter.state' })
    expect(thrown(() => tracker.count({ direction: 'up' as never }))).toEqual({ name: 'InvalidArgumentError', argument: 'filter.direction', expected: '"inbound" or "outbound"', message: 'Expected `filter.direction` to be "inbound" or "outbound", got "up" (string)' })
    expect(thrown(() => tracker.close(id, 'because' as never))).toEqual({ name: 'InvalidArgumentError', argument: 'reason', expected: REASONS, message: `Expected \`reason\` to be ${REASONS}, got "because" (string)` })
    expect(thrown(() => tracker.close(id, 5 as never))).toMatchObject({ argument: 'reason', message: `Expected \`reason\` to be ${REASONS}, got 5 (number)` })
    expect(thrown(() => tracker.closing(id, 'local', 'x' as never))).toEqual({ name: 'InvalidArgumentError', argument: 'error', expected: 'an Error', message: 'Expected `error` to be an Error, got "x" (string)' })
    expect(thrown(() => tracker.identify(id, ''))).toEqual({ name: 'InvalidArgumentError', argument: 'peer', expected: 'a non-empty string', message: 'Expected `peer` to be a non-empty string, got "" (string)' })
    expect(tracker.get(id)?.state).toBe('pending') // nothing changed
  })
})
