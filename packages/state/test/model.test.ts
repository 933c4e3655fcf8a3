import fc from 'fast-check'
import { describe, it } from 'vitest'
import { createConnectionTracker } from '../src/connection-tracker.ts'
import type { ActiveState, CloseReason, ConnectionState, Direction } from '../src/connection-record.ts'
import type { ConnectionTracker } from '../src/connection-tracker.ts'
import type { ConnectionFilter } from '../src/tracker-arguments.ts'

// A reference model: a plain array of records, every query answered by a linear scan.

interface ModelRecord {
  id: number
  direction: Direction
  host: string | undefined
  peer: string | undefined
  state: ConnectionState
  reason: CloseReason | undefined
  streams: number
  tags: Record<string, number>
}

/** Addresses with the canonical IP they must be indexed under (or none). */
const ADDRESSES: ReadonlyArray<{ remoteAddress: string, remoteIp?: string, host: string | undefined }> = [
  { remoteAddress: '/ip4/10.0.0.1/tcp/1', host: '10.0.0.1' },
  { remoteAddress: '/ip6/::ffff:10.0.0.1/tcp/1', remoteIp: '::ffff:10.0.0.1', host: '10.0.0.1' },
  { remoteAddress: '/ip4/10.0.0.2/tcp/1', remoteIp: '10.0.0.2', host: '10.0.0.2' },
  { remoteAddress: '/ip6/2001:db8::1/tcp/1', host: '2001:db8::1' },
  { remoteAddress: '/dns4/example.com/tcp/1', host: undefined }
]
const HOST_QUERIES = [undefined, '10.0.0.1', '::ffff:a00:1', '10.0.0.2', '2001:DB8::1', '10.0.0.9']
const PEERS = ['peer-a', 'peer-b', 'peer-c']
const PEER_QUERIES = [undefined, ...PEERS, 'peer-z']
const STATES: Array<ActiveState | undefined> = [undefined, 'pending', 'open', 'closing']
const DIRECTIONS: Array<Direction | undefined> = [undefined, 'inbound', 'outbound']
const REASONS: CloseReason[] = ['local', 'remote', 'error', 'pruned', 'timeout']
const HISTORY_SIZE = 4

type Command =
  | { kind: 'add', direction: Direction, address: number, peer: number | undefined }
  | { kind: 'open', target: number }
  | { kind: 'closing', target: number, reason: number }
  | { kind: 'close', target: number, reason: number }
  | { kind: 'identify', target: number, peer: number }
  | { kind: 'tag', target: number, name: number, value: number }
  | { kind: 'untag', target: number, name: number }
  | { kind: 'streams', target: number, count: number }

// `target` picks one of the IDs issued so far (closed ones included), or one never issued.
const target = fc.nat({ max: 40 })
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), direction: fc.constantFrom<Direction>('inbound', 'outbound'), address: fc.nat({ max: ADDRESSES.length - 1 }), peer: fc.option(fc.nat({ max: PEERS.length - 1 }), { nil: undefined }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('open' as const), target }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('closing' as const), target, reason: fc.nat({ max: REASONS.length - 1 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('close' as const), target, reason: fc.nat({ max: REASONS.length - 1 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('identify' as const), target, peer: fc.nat({ max: PEERS.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tag' as const), target, name: fc.nat({ max: 2 }), value: fc.integer({ min: -5, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('untag' as const), target, name: fc.nat({ max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('streams' as const), target, count: fc.nat({ max: 4 }) }) }
)

const NEVER_ISSUED = 987_654_321

class Model {
  readonly records: ModelRecord[] = []
  readonly history: ModelRecord[] = []
  readonly events: string[] = []
  closedTotal = 0

  live (): ModelRecord[] {
    return this.records.filter(record => record.state !== 'closed')
  }

  find (id: number): ModelRecord | undefined {
    return this.records.find(record => record.id === id)
  }

  connected (peer: string): number {
    return this.live().filter(record => record.peer === peer && (record.state === 'open' || record.state === 'closing')).length
  }

  matches (record: ModelRecord, filter: ConnectionFilter): boolean {
    const host = filter.host === undefined ? undefined : canonical(filter.host)
    return record.state !== 'closed' &&
      (filter.state === undefined || record.state === filter.state) &&
      (filter.direction === undefined || record.direction === filter.direction) &&
      (filter.peer === undefined || record.peer === filter.peer) &&
      (filter.host === undefined || (host !== undefined && record.host === host))
  }

  /** Applies a command; returns the name of the error it must throw, if any. */
  apply (commandToApply: Command, id: number, issuedId: number | undefined): string | undefined {
    if (commandToApply.kind === 'add') {
      const address = ADDRESSES[commandToApply.address]!
      const peer = commandToApply.peer === undefined ? undefined : PEERS[commandToApply.peer]
      this.records.push({ id: issuedId!, direction: commandToApply.direction, host: address.host, peer, state: 'pending', reason: undefined, streams: 0, tags: {} })
      this.events.push(`connection:pending ${issuedId}`)
      return undefined
    }
    const record = this.find(id)
    if (record === undefined) {
      return 'UnknownConnectionError'
    }
    switch (commandToApply.kind) {
      case 'open':
        if (record.state !== 'pending') return 'InvalidTransitionError'
        record.state = 'open'
        this.events.push(`connection:open ${id}`)
        if (record.peer !== undefined && this.connected(record.peer) === 1) this.events.push(`peer:connect ${record.peer}`)
        return undefined
      case 'closing':
        if (record.state !== 'open') return 'InvalidTransitionError'
        record.state = 'closing'
        record.reason = REASONS[commandToApply.reason]
        this.events.push(`connection:closing ${id}`)
        return undefined
      case 'close': {
        if (record.state === 'closed') return undefined
        const wasConnected = record.state === 'open' || record.state === 'closing'
        const reason = REASONS[commandToApply.reason]
        // The first reason is kept, except that a graceful close that times out records 'timeout'.
        if (reason === 'timeout' && record.state === 'closing') record.reason = reason
        record.state = 'closed'
        record.reason ??= reason
        this.closedTotal++
        this.history.push(record)
        if (this.history.length > HISTORY_SIZE) this.history.shift()
        this.events.push(`connection:close ${id}`)
        if (wasConnected && record.peer !== undefined && this.connected(record.peer) === 0) this.events.push(`peer:disconnect ${record.peer}`)
        return undefined
      }
      case 'identify': {
        if (record.state === 'closed') return 'ConnectionClosedError'
        const peer = PEERS[commandToApply.peer]!
        if (record.peer !== undefined) return record.peer === peer ? undefined : 'PeerMismatchError'
        record.peer = peer
        if (record.state !== 'pending' && this.connected(peer) === 1) this.events.push(`peer:connect ${peer}`)
        return undefined
      }
      case 'tag':
        if (record.state === 'closed') return 'ConnectionClosedError'
        record.tags[`t${commandToApply.name}`] = commandToApply.value
        return undefined
      case 'untag':
        if (record.state === 'closed') return 'ConnectionClosedError'
        delete record.tags[`t${commandToApply.name}`]
        return undefined
      case 'streams':
        if (record.state === 'closed') return 'ConnectionClosedError'
        record.streams = commandToApply.count
        return undefined
    }
  }
}

function canonical (host: string): string | undefined {
  switch (host.toLowerCase()) {
    case '10.0.0.1': case '::ffff:a00:1': return '10.0.0.1'
    case '10.0.0.2': return '10.0.0.2'
    case '2001:db8::1': return '2001:db8::1'
    case '10.0.0.9': return '10.0.0.9'
    default: return undefined
  }
}

function run (tracker: ConnectionTracker, step: Command, id: number): { id: number | undefined, error: string | undefined } {
  try {
    switch (step.kind) {
      case 'add': {
        const address = ADDRESSES[step.address]!
        const peer = step.peer === undefined ? undefined : PEERS[step.peer]
        return { id: tracker.add({ direction: step.direction, remoteAddress: address.remoteAddress, remoteIp: address.remoteIp, peer }).id, error: undefined }
      }
      case 'open': tracker.open(id); break
      case 'closing': tracker.closing(id, REASONS[step.reason]!); break
      case 'close': tracker.close(id, REASONS[step.reason]!); break
      case 'identify': tracker.identify(id, PEERS[step.peer]!); break
      case 'tag': tracker.tag(id, `t${step.name}`, step.value); break
      case 'untag': tracker.untag(id, `t${step.name}`); break
      case 'streams': tracker.setStreamCount(id, step.count); break
    }
    return { id: undefined, error: undefined }
  } catch (error) {
    return { id: undefined, error: (error as Error).name }
  }
}

const ids = (records: ReadonlyArray<{ id: number }>): number[] => records.map(record => record.id).sort((a, b) => a - b)

/** A cheap equality check (vitest's expect is too slow for millions of comparisons). */
function same (actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual)
  const b = JSON.stringify(expected)
  if (a !== b) {
    throw new Error(`${what}: expected ${b}, got ${a}`)
  }
}

/** Every count and list the tracker answers equals the model's recount. */
function checkQueries (tracker: ConnectionTracker, model: Model, filters: readonly ConnectionFilter[]): void {
  const live = model.live()
  for (const filter of filters) {
    const expected = live.filter(record => model.matches(record, filter))
    same(tracker.count(filter), expected.length, `count(${JSON.stringify(filter)})`)
    same(ids(tracker.list(filter)), ids(expected), `list(${JSON.stringify(filter)})`)
  }
}

function checkRecords (tracker: ConnectionTracker, model: Model): void {
  const live = model.live()
  same(tracker.size, live.length, 'size')
  for (const record of live) {
    const actual = tracker.get(record.id)
    same(
      [actual?.id, actual?.direction, actual?.state, actual?.streams, sortedTags(actual?.tags ?? {}), actual?.peer, actual?.remoteIp, actual?.closeReason],
      [record.id, record.direction, record.state, record.streams, sortedTags(record.tags), record.peer, record.host, record.reason],
      `record ${record.id}`
    )
  }
  same(tracker.history().map(record => [record.id, record.closeReason, record.state]), model.history.map(record => [record.id, record.reason, 'closed']), 'history')
  const snapshot = tracker.snapshot()
  same(snapshot.closed.total, model.closedTotal, 'closed.total')
  same(snapshot.streams, live.reduce((sum, record) => sum + record.streams, 0), 'streams')
  const peers = [...new Set(live.flatMap(record => record.peer === undefined ? [] : [record.peer]))].sort()
  same(Object.keys(snapshot.peers.byPeer).sort(), peers, 'peers')
  same(snapshot.peers.connected, peers.filter(peer => model.connected(peer) > 0).length, 'peers.connected')
  same(snapshot.hosts, new Set(live.flatMap(record => record.host === undefined ? [] : [record.host])).size, 'hosts')
  for (const peer of peers) {
    const mine = live.filter(record => record.peer === peer)
    same(snapshot.peers.byPeer[peer], {
      pending: mine.filter(record => record.state === 'pending').length,
      open: mine.filter(record => record.state === 'open').length,
      closing: mine.filter(record => record.state === 'closing').length,
      inbound: mine.filter(record => record.direction === 'inbound').length,
      outbound: mine.filter(record => record.direction === 'outbound').length,
      total: mine.length
    }, `byPeer[${peer}]`)
  }
}

function sortedTags (tags: Readonly<Record<string, number>>): Array<[string, number]> {
  return Object.entries(tags).sort(([a], [b]) => a.localeCompare(b))
}

const STEP_FILTERS: ConnectionFilter[] = [
  ...STATES.flatMap(state => DIRECTIONS.map(direction => ({ state, direction }))),
  ...PEER_QUERIES.map(peer => ({ peer })),
  ...HOST_QUERIES.map(host => ({ host }))
]
const ALL_FILTERS: ConnectionFilter[] = STATES.flatMap(state => DIRECTIONS.flatMap(direction => PEER_QUERIES.flatMap(peer => HOST_QUERIES.map(host => ({ state, direction, peer, host })))))

describe('model', () => {
  it('random sequences of add, transition, tag, identify and close keep every index, count and event equal to a naive recount', () => {
    fc.assert(fc.property(fc.array(command, { minLength: 1, maxLength: 40 }), steps => {
      const tracker = createConnectionTracker({ connectionHistorySize: HISTORY_SIZE, clock: { now: () => 0 } })
      const events: string[] = []
      for (const type of ['connection:pending', 'connection:open', 'connection:closing', 'connection:close'] as const) {
        tracker.events.addEventListener(type, event => { events.push(`${type} ${event.detail.connection.id}`) })
      }
      for (const type of ['peer:connect', 'peer:disconnect'] as const) {
        tracker.events.addEventListener(type, event => { events.push(`${type} ${event.detail.peer}`) })
      }
      const model = new Model()
      const issued: number[] = []
      for (const step of steps) {
        const id = 'target' in step ? issued[step.target] ?? NEVER_ISSUED : NEVER_ISSUED
        const result = run(tracker, step, id)
        if (result.id !== undefined) issued.push(result.id)
        same(result.error, model.apply(step, id, result.id), `the outcome of ${JSON.stringify(step)}`)
        same(events, model.events, 'events')
        checkQueries(tracker, model, STEP_FILTERS)
        checkRecords(tracker, model)
      }
      checkQueries(tracker, model, ALL_FILTERS)
    }), { numRuns: 1_000 })
  })
})
