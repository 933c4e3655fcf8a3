import { createConnectionTracker } from '@cm/state'
import { formatNs, rowNamed, seededRandom, usedBytes } from '../harness.ts'
import type { BenchSuite, BenchTask } from '../harness.ts'
import type { ConnectionTracker, Direction } from '@cm/state'

/** Connections held while the lifecycle operations are measured. */
const HELD = 100_000
/** Operations per measured call. */
const BATCH = 1_000
/** Distinct batches of inputs, used in turn so that no call sees the same inputs twice in a row. */
const ROUNDS = 8

interface Inputs {
  readonly remoteAddress: string
  readonly remoteIp: string
  readonly peer: string
  readonly direction: Direction
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/**
 * A peer ID shaped like a real Ed25519 one (`12D3KooW` and 44 base58 characters, 52 in all,
 * a flat string), pseudo-random but the same for the same `seed`.
 */
function peerId (seed: number): string {
  const next = seededRandom(seed)
  const characters = ['12D3KooW']
  for (let index = 0; index < 44; index++) {
    characters.push(BASE58[next() % 58] ?? '1')
  }
  return characters.join('')
}

/**
 * Distinct connection inputs: each one its own host and peer, distinct from the inputs of
 * every other `network`.
 */
function makeInputs (count: number, network: number): Inputs[] {
  return Array.from({ length: count }, (_, index) => {
    const remoteIp = `${network}.${(index >> 16) & 0xff}.${(index >> 8) & 0xff}.${index & 0xff}`
    return {
      remoteAddress: `/ip4/${remoteIp}/tcp/${4_000 + (index % 1_000)}`,
      remoteIp,
      peer: peerId(network * 0x100000 + index),
      direction: index % 2 === 0 ? 'inbound' : 'outbound'
    }
  })
}

/** The same inputs without the peer (nothing else is left allocated). */
function makeAnonymousInputs (count: number, network: number): Array<Omit<Inputs, 'peer'>> {
  return makeInputs(count, network).map(({ direction, remoteAddress, remoteIp }) => ({ direction, remoteAddress, remoteIp }))
}

/** A tracker holding `inputs.length` open connections, identified. */
function fill (tracker: ConnectionTracker, inputs: readonly Inputs[]): number[] {
  return inputs.map(input => {
    const { id } = tracker.add(input)
    tracker.open(id)
    return id
  })
}

/**
 * The lifecycle operations of the tracker while it holds 100,000 open connections, against
 * what js-libp2p's connection manager keeps: a `Map<peer, Connection[]>`, pushed to on open
 * and rebuilt with `filter` on close, with no states, no indexes and no events.
 */
export const stateSuite: BenchSuite = {
  name: 'state',
  description: 'connection tracker lifecycle operations with 100,000 connections held, against js-libp2p-style bookkeeping',
  baseline: 'js-libp2p bookkeeping: Map<peer, Connection[]> push on open, filter on close',
  tasks: () => {
    const tracker = createConnectionTracker({ connectionHistorySize: 100 })
    const held = makeInputs(HELD, 10)
    fill(tracker, held)
    const batches = Array.from({ length: ROUNDS }, (_, round) => makeInputs(BATCH, 20 + round))
    let round = 0
    const nextBatch = (): readonly Inputs[] => batches[round++ % ROUNDS]!
    // New hosts, but peers that already have a connection held (a peer's second connection).
    const knownPeerBatches = batches.map((batch, index) => batch.map((input, offset) => ({ ...input, peer: held[index * BATCH + offset]!.peer })))
    let knownPeerRound = 0

    // Each task leaves the tracker as it found it: ids made by beforeEach or fn are closed by afterEach.
    let ids: number[] = []
    let batch: readonly Inputs[] = []
    const closeAll = (): void => {
      for (const id of ids) tracker.close(id, 'local')
      ids = []
    }
    const addPending = (withPeer: boolean): void => {
      batch = nextBatch()
      ids = batch.map(input => tracker.add(withPeer ? input : { direction: input.direction, remoteAddress: input.remoteAddress, remoteIp: input.remoteIp }).id)
    }
    const addOpen = (withPeer: boolean): void => {
      addPending(withPeer)
      for (const id of ids) tracker.open(id)
    }

    // The baseline, as js-libp2p's DefaultConnectionManager onConnect/onDisconnect do it.
    const libp2pConnections = new Map<string, Array<{ id: number, remotePeer: string }>>()
    for (const input of makeInputs(HELD, 10)) libp2pConnections.set(input.peer, [{ id: 0, remotePeer: input.peer }])
    let libp2pId = 0

    const onOpen = (): void => {}
    const tasks: BenchTask[] = [
      {
        name: 'js-libp2p bookkeeping: Map<peer, Connection[]> push on open, filter on close',
        batch: BATCH,
        fn: () => {
          const inputs = nextBatch()
          const opened = inputs.map(input => ({ id: ++libp2pId, remotePeer: input.peer }))
          for (const connection of opened) {
            const stored = libp2pConnections.get(connection.remotePeer)
            if (stored === undefined) libp2pConnections.set(connection.remotePeer, [connection])
            else stored.push(connection)
          }
          for (const connection of opened) {
            const stored = libp2pConnections.get(connection.remotePeer) ?? []
            const remaining = stored.filter(other => other.id !== connection.id)
            if (remaining.length === 0) libp2pConnections.delete(connection.remotePeer)
            else libp2pConnections.set(connection.remotePeer, remaining)
          }
        }
      },
      {
        name: 'tracker: add → open → close, with peer (whole lifecycle)',
        batch: BATCH,
        fn: () => {
          const inputs = nextBatch()
          const made = inputs.map(input => tracker.add(input).id)
          for (const id of made) tracker.open(id)
          for (const id of made) tracker.close(id, 'remote')
        }
      },
      {
        name: 'tracker.add() (remote IP given, no peer yet)',
        batch: BATCH,
        fn: () => { addPending(false) },
        afterEach: closeAll
      },
      {
        name: 'tracker.add() with a new peer',
        batch: BATCH,
        fn: () => { addPending(true) },
        afterEach: closeAll
      },
      {
        name: 'tracker.add() with a peer that has a connection',
        batch: BATCH,
        fn: () => { ids = knownPeerBatches[knownPeerRound++ % ROUNDS]!.map(input => tracker.add(input).id) },
        afterEach: closeAll
      },
      {
        name: 'tracker.open()',
        batch: BATCH,
        beforeEach: () => { addPending(true) },
        fn: () => { for (const id of ids) tracker.open(id) },
        afterEach: closeAll
      },
      {
        name: 'tracker.open() with a connection:open listener',
        batch: BATCH,
        beforeEach: () => { addPending(true); tracker.events.addEventListener('connection:open', onOpen) },
        fn: () => { for (const id of ids) tracker.open(id) },
        afterEach: () => { tracker.events.removeEventListener('connection:open', onOpen); closeAll() }
      },
      {
        name: 'tracker.identify()',
        batch: BATCH,
        beforeEach: () => { addOpen(false) },
        fn: () => { for (let index = 0; index < ids.length; index++) tracker.identify(ids[index]!, batch[index]!.peer) },
        afterEach: closeAll
      },
      {
        name: 'tracker.closing()',
        batch: BATCH,
        beforeEach: () => { addOpen(true) },
        fn: () => { for (const id of ids) tracker.closing(id, 'pruned') },
        afterEach: closeAll
      },
      {
        name: 'tracker.close() (from open)',
        batch: BATCH,
        beforeEach: () => { addOpen(true) },
        fn: () => { for (const id of ids) tracker.close(id, 'remote'); ids = [] },
        afterEach: closeAll
      },
      {
        name: 'tracker.tag()',
        batch: BATCH,
        beforeEach: () => { addOpen(true) },
        fn: () => { for (const id of ids) tracker.tag(id, 'keep-alive', id & 0xff) },
        afterEach: closeAll
      }
    ]
    return tasks
  },
  report: () => {
    const gc = (globalThis as { gc?: () => void }).gc
    if (gc === undefined) {
      return { lines: ['Memory: run with NODE_OPTIONS=--expose-gc to measure memory per connection.'] }
    }
    const measure = (withPeer: boolean): number => {
      // Only the inputs the tracker keeps are made, and they stay alive throughout, so that
      // nothing but the tracker's own memory changes between the two readings.
      // (Made in a function of their own: temporaries left in this frame would be freed
      // between the readings and distort them.)
      const inputs: ReadonlyArray<Omit<Inputs, 'peer'>> = withPeer ? makeInputs(HELD, 30) : makeAnonymousInputs(HELD, 30)
      gc()
      gc()
      const before = usedBytes()
      const tracker = createConnectionTracker()
      for (const input of inputs) tracker.open(tracker.add(input).id)
      gc()
      gc()
      const after = usedBytes()
      if (tracker.count({ state: 'open' }) !== HELD || inputs.length !== HELD) throw new Error('the memory fixture is wrong')
      return (after - before) / HELD
    }
    const identified = measure(true)
    const anonymous = measure(false)
    return {
      lines: [
        '',
        `Memory per open connection, ${HELD.toLocaleString('en')} held, each from its own host (the heap and typed arrays; inputs allocated beforehand, not counted):`,
        `- identified (distinct peer per connection): ${Math.round(identified)} bytes`,
        `- no peer yet: ${Math.round(anonymous)} bytes`
      ],
      figures: { identified, anonymous }
    }
  },
  targets: [{
    package: '@cm/state',
    target: 'memory per open connection under 1 KB (100,000 held)',
    evaluate: ({ figures }) => {
      const identified = figures['identified'] ?? Number.NaN
      return { measured: `${Math.round(identified)} bytes identified, ${Math.round(figures['anonymous'] ?? Number.NaN)} with no peer`, met: identified < 1_024 }
    }
  }, {
    package: '@cm/state',
    target: 'add and transitions: median under 1 µs (100,000 held)',
    evaluate: ({ rows }) => {
      const names = ['tracker.add() (remote IP given, no peer yet)', 'tracker.add() with a new peer', 'tracker.add() with a peer that has a connection', 'tracker.open()', 'tracker.closing()', 'tracker.close() (from open)']
      const slowest = names.map(name => rowNamed(rows, name)).reduce((worst, row) => row.medianNs > worst.medianNs ? row : worst)
      return { measured: `slowest: ${slowest.task}, ${formatNs(slowest.medianNs)}`, met: slowest.medianNs < 1_000 }
    }
  }]
}

interface NaiveConnection {
  readonly id: number
  readonly status: 'pending' | 'open' | 'closing'
  readonly direction: Direction
  readonly remotePeer: string
}

/**
 * "How many open inbound connections?" with the tracker's counters against a filter over
 * every connection (the naive approach) and against js-libp2p's `getConnections()`, which
 * concatenates every peer's list before anything can be filtered.
 */
export const stateCountSuite: BenchSuite = {
  name: 'state-count',
  description: 'count({ state: open, direction: inbound }) against a filter over every connection, at 1,000, 10,000 and 100,000',
  baseline: 'naive filter over an array, n=100,000',
  tasks: () => {
    const tasks: BenchTask[] = []
    const libp2pTasks: BenchTask[] = []
    const states = ['open', 'open', 'open', 'open', 'open', 'open', 'open', 'pending', 'pending', 'closing'] as const
    for (const size of [1_000, 10_000, 100_000]) {
      const inputs = makeInputs(size, 40)
      const tracker = createConnectionTracker()
      const naive: NaiveConnection[] = []
      const byPeer = new Map<string, NaiveConnection[]>()
      inputs.forEach((input, index) => {
        const status = states[index % states.length]!
        const { id } = tracker.add(input)
        if (status !== 'pending') tracker.open(id)
        if (status === 'closing') tracker.closing(id, 'local')
        const connection = { id, status, direction: input.direction, remotePeer: input.peer }
        naive.push(connection)
        byPeer.set(input.peer, [connection])
      })
      const label = size.toLocaleString('en')
      const filterBatch = Math.max(1, 100_000 / size / 10)
      tasks.push({
        name: `naive filter over an array, n=${label}`,
        batch: filterBatch,
        fn: () => {
          let total = 0
          for (let repeat = 0; repeat < filterBatch; repeat++) {
            total += naive.filter(connection => connection.status === 'open' && connection.direction === 'inbound').length
          }
          return total
        }
      })
      tasks.push({
        name: `tracker.count(), n=${label}`,
        batch: BATCH,
        fn: () => {
          let total = 0
          for (let repeat = 0; repeat < BATCH; repeat++) total += tracker.count({ state: 'open', direction: 'inbound' })
          return total
        }
      })
      if (size <= 10_000) {
        libp2pTasks.push({
          name: `js-libp2p getConnections() then filter, n=${label}`,
          fn: () => {
            let all: NaiveConnection[] = []
            for (const list of byPeer.values()) all = all.concat(list)
            return all.filter(connection => connection.status === 'open' && connection.direction === 'inbound').length
          }
        })
      }
      if (size === 100_000) {
        const hosts = inputs.map(input => input.remoteIp)
        const peers = inputs.map(input => input.peer)
        tasks.push({
          name: 'tracker.count({ host }), n=100,000',
          batch: BATCH,
          fn: () => {
            let total = 0
            for (let repeat = 0; repeat < BATCH; repeat++) total += tracker.count({ host: hosts[(repeat * 97) % size]! })
            return total
          }
        })
        tasks.push({
          name: 'tracker.count({ peer, host, state }), n=100,000',
          batch: BATCH,
          fn: () => {
            let total = 0
            for (let repeat = 0; repeat < BATCH; repeat++) {
              const index = (repeat * 97) % size
              total += tracker.count({ peer: peers[index]!, host: hosts[index]!, state: 'open' })
            }
            return total
          }
        })
      }
    }
    return [...tasks, ...libp2pTasks]
  },
  targets: [{
    package: '@cm/state',
    target: 'count query against a naive filter at 1,000 / 10,000 / 100,000',
    evaluate: ({ rows }) => {
      const sizes = ['1,000', '10,000', '100,000'].map(label => ({ count: rowNamed(rows, `tracker.count(), n=${label}`).medianNs, filter: rowNamed(rows, `naive filter over an array, n=${label}`).medianNs }))
      return {
        measured: `count ${sizes.map(size => formatNs(size.count)).join(' / ')}; the filter ${sizes.map(size => formatNs(size.filter)).join(' / ')}`,
        met: sizes.every(size => size.count * 10 < size.filter)
      }
    }
  }]
}
