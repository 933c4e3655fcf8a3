import { describe, expect, it } from 'vitest'
import { createConnectionTracker } from '../src/connection-tracker.ts'

describe('.snapshot()', () => {
  it('.snapshot() - an empty tracker', () => {
    const tracker = createConnectionTracker({ clock: { now: () => 5 }, connectionHistorySize: 10 })
    const zero = { inbound: 0, outbound: 0, total: 0 }
    expect(tracker.snapshot()).toEqual({
      at: 5,
      connections: { pending: zero, open: zero, closing: zero, total: zero },
      streams: 0,
      peers: { count: 0, connected: 0, byPeer: {} },
      hosts: 0,
      oldest: {},
      closed: {
        total: 0,
        byReason: { local: 0, remote: 0, error: 0, timeout: 0, pruned: 0, denied: 0, limit: 0, aborted: 0, shutdown: 0 },
        historySize: 0,
        historyCapacity: 10
      }
    })
  })

  it('.snapshot() - counts, per-peer counts, the oldest in each state, closed totals and durations', () => {
    let now = 0
    const tracker = createConnectionTracker({ clock: { now: () => now } })
    const add = (direction: 'inbound' | 'outbound', ip: string, peer?: string): number =>
      tracker.add(peer === undefined ? { direction, remoteAddress: `/ip4/${ip}/tcp/1` } : { direction, remoteAddress: `/ip4/${ip}/tcp/1`, peer }).id
    const a = add('inbound', '10.0.0.1', 'peer-a') // t=0
    now = 10
    const b = add('outbound', '10.0.0.2', 'peer-a')
    const c = add('inbound', '10.0.0.1', 'peer-b')
    now = 20
    tracker.open(b)
    now = 30
    tracker.open(a)
    tracker.setStreamCount(a, 4)
    const d = add('outbound', '10.0.0.3')
    tracker.open(d)
    now = 40
    tracker.closing(d, 'pruned')
    // Closed ones, for the durations: lifetimes 10, 20 and 50; open times 10 and 20.
    const e = add('inbound', '10.0.0.4')
    now = 50
    tracker.close(e, 'denied')
    const f = add('outbound', '10.0.0.5')
    now = 60
    tracker.open(f)
    now = 70
    tracker.close(f, 'timeout')
    const g = add('outbound', '10.0.0.6')
    now = 80
    tracker.open(g)
    now = 100
    tracker.closing(g, 'local')
    now = 120
    tracker.close(g, 'local')
    now = 200

    const snapshot = tracker.snapshot()
    expect(snapshot.at).toBe(200)
    expect(snapshot.connections).toEqual({
      pending: { inbound: 1, outbound: 0, total: 1 },
      open: { inbound: 1, outbound: 1, total: 2 },
      closing: { inbound: 0, outbound: 1, total: 1 },
      total: { inbound: 2, outbound: 2, total: 4 }
    })
    expect(snapshot.streams).toBe(4)
    expect(snapshot.peers).toEqual({
      count: 2,
      connected: 1,
      byPeer: {
        'peer-a': { pending: 0, open: 2, closing: 0, inbound: 1, outbound: 1, total: 2 },
        'peer-b': { pending: 1, open: 0, closing: 0, inbound: 1, outbound: 0, total: 1 }
      }
    })
    expect(snapshot.hosts).toBe(3)
    expect(snapshot.oldest).toEqual({
      pending: { id: c, direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/1', remoteIp: '10.0.0.1', peer: 'peer-b', since: 10, ageMs: 190 },
      open: { id: b, direction: 'outbound', remoteAddress: '/ip4/10.0.0.2/tcp/1', remoteIp: '10.0.0.2', peer: 'peer-a', since: 20, ageMs: 180 },
      closing: { id: d, direction: 'outbound', remoteAddress: '/ip4/10.0.0.3/tcp/1', remoteIp: '10.0.0.3', since: 40, ageMs: 160 }
    })
    expect(snapshot.closed).toMatchObject({
      total: 3,
      byReason: { denied: 1, timeout: 1, local: 1, remote: 0 },
      historySize: 3,
      historyCapacity: 100,
      lifetimeMs: { count: 3, min: 10, median: 20, mean: 80 / 3, max: 50 },
      openMs: { count: 2, min: 10, median: 15, mean: 15, max: 20 }
    })
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot)
  })

  it('.snapshot() - the oldest open connection is the one open longest, whatever its direction', () => {
    let now = 0
    const tracker = createConnectionTracker({ clock: { now: () => now } })
    const inbound = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/1' }).id
    const outbound = tracker.add({ direction: 'outbound', remoteAddress: '/ip4/10.0.0.2/tcp/1' }).id
    now = 5
    tracker.open(outbound)
    now = 6
    tracker.open(inbound)
    expect(tracker.snapshot().oldest.open?.id).toBe(outbound)
    tracker.close(outbound, 'local')
    expect(tracker.snapshot().oldest.open?.id).toBe(inbound)
  })

  it('.snapshot() - a peer ID such as __proto__ is an ordinary key', () => {
    const tracker = createConnectionTracker()
    tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/1', peer: '__proto__' })
    const { byPeer } = tracker.snapshot().peers
    expect(Object.hasOwn(byPeer, '__proto__')).toBe(true)
    expect(JSON.stringify(byPeer)).toBe('{"__proto__":{"pending":1,"open":0,"closing":0,"inbound":1,"outbound":0,"total":1}}')
  })
})

describe('.snapshot() - at the edges', () => {
  function tracker (): { tracker: ReturnType<typeof createConnectionTracker>, at: (ms: number) => void } {
    let now = 0
    return { tracker: createConnectionTracker({ clock: { now: () => now } }), at: ms => { now = ms } }
  }

  it('the oldest in a state, inbound against outbound: the earlier wins, and at a tie the lower id', () => {
    for (const first of ['inbound', 'outbound'] as const) {
      const second = first === 'inbound' ? 'outbound' : 'inbound'
      // One after the other: the earlier is the oldest, whatever its direction.
      const apart = tracker()
      const a = apart.tracker.add({ direction: first, remoteAddress: '/ip4/10.0.0.1/tcp/1' }).id
      apart.at(5)
      apart.tracker.add({ direction: second, remoteAddress: '/ip4/10.0.0.2/tcp/1' })
      expect(apart.tracker.snapshot().oldest.pending?.id).toBe(a)
      // At the same instant: the lower id.
      const tie = tracker()
      const b = tie.tracker.add({ direction: first, remoteAddress: '/ip4/10.0.0.1/tcp/1' }).id
      tie.tracker.add({ direction: second, remoteAddress: '/ip4/10.0.0.2/tcp/1' })
      expect(tie.tracker.snapshot().oldest.pending?.id).toBe(b)
    }
  })

  it('the oldest connection has no remoteIp or peer key when it has none', () => {
    const { tracker: t } = tracker()
    t.add({ direction: 'inbound', remoteAddress: '/dns4/example.com/tcp/1' })
    const pending = t.snapshot().oldest.pending ?? {}
    expect('remoteIp' in pending).toBe(false)
    expect('peer' in pending).toBe(false)
    expect('lifetimeMs' in t.snapshot().closed).toBe(false)
    expect('openMs' in t.snapshot().closed).toBe(false)
  })

  it('a peer with an open and a closing connection is connected, and counts each by state', () => {
    const { tracker: t } = tracker()
    const open = t.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/1', peer: 'peer-a' }).id
    const closing = t.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.2/tcp/1', peer: 'peer-a' }).id
    t.open(open)
    t.open(closing)
    t.closing(closing, 'local')
    const { peers } = t.snapshot()
    expect(peers.connected).toBe(1)
    expect(peers.byPeer['peer-a']).toEqual({ pending: 0, open: 1, closing: 1, inbound: 2, outbound: 0, total: 2 })
  })

  it('lifetimes are summarised in order, whatever the order connections closed in', () => {
    const { tracker: t, at } = tracker()
    const add = (): number => t.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/1' }).id
    const a = add() // at 0
    at(50)
    const b = add()
    at(55)
    const c = add()
    at(60)
    t.close(b, 'local') // lived 10 ms
    at(70)
    t.close(a, 'local') // 70 ms
    at(85)
    t.close(c, 'local') // 30 ms
    expect(t.snapshot().closed.lifetimeMs).toEqual({ count: 3, min: 10, median: 30, mean: 110 / 3, max: 70 })
  })
})
