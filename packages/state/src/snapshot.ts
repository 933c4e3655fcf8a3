import { ACTIVE_STATES, CLOSING, OPEN, PENDING } from './connection-record.ts'
import type { ActiveState, CloseReason, ConnectionRecord, Direction, Entry } from './connection-record.ts'

/** Counts of connections in one state (or all), by direction. */
export interface DirectionCounts {
  /** Inbound connections. */
  readonly inbound: number
  /** Outbound connections. */
  readonly outbound: number
  /** Both directions. */
  readonly total: number
}

/** Counts of one peer's connections. */
export interface PeerCounts {
  /** Pending connections. */
  readonly pending: number
  /** Open connections. */
  readonly open: number
  /** Closing connections. */
  readonly closing: number
  /** Inbound connections, in any state. */
  readonly inbound: number
  /** Outbound connections, in any state. */
  readonly outbound: number
  /** Every connection of the peer. */
  readonly total: number
}

/** The connection that has been longest in a state. */
export interface OldestConnection {
  /** The connection's ID. */
  readonly id: number
  /** Its direction. */
  readonly direction: Direction
  /** Its remote address. */
  readonly remoteAddress: string
  /** Its remote IP, if known. */
  readonly remoteIp?: string
  /** Its peer, if known. */
  readonly peer?: string
  /** When it entered the state, in milliseconds of the tracker's clock. */
  readonly since: number
  /** How long it has been in the state, in milliseconds. */
  readonly ageMs: number
}

/** Summary statistics of durations, in milliseconds. */
export interface DurationStats {
  /** How many durations. */
  readonly count: number
  /** The shortest. */
  readonly min: number
  /** The median (the mean of the two middle ones for an even count). */
  readonly median: number
  /** The mean. */
  readonly mean: number
  /** The longest. */
  readonly max: number
}

/**
 * The tracker's state as plain JSON (`JSON.stringify` gives it whole), for monitoring
 * endpoints. Times are milliseconds of the tracker's clock.
 */
export interface TrackerSnapshot {
  /** When the snapshot was taken. */
  readonly at: number
  /** Connections held, by state and direction, and in total. */
  readonly connections: Readonly<Record<ActiveState | 'total', DirectionCounts>>
  /** The sum of the stream counts of the connections held. */
  readonly streams: number
  /** The peers with connections held. */
  readonly peers: {
    /** How many peers have at least one connection held. */
    readonly count: number
    /** How many peers are connected (have an open or closing connection). */
    readonly connected: number
    /** Each peer's counts, by peer ID. */
    readonly byPeer: Readonly<Record<string, PeerCounts>>
  }
  /** How many distinct remote hosts (IP addresses) the connections held come from. */
  readonly hosts: number
  /** The connection longest in each state; a state with no connection is absent. */
  readonly oldest: Readonly<Partial<Record<ActiveState, OldestConnection>>>
  /** Connections that have closed. */
  readonly closed: {
    /** How many connections have closed since the tracker was created. */
    readonly total: number
    /** The same, by close reason (every reason is present). */
    readonly byReason: Readonly<Record<CloseReason, number>>
    /** How many closed connections the history holds. */
    readonly historySize: number
    /** How many it can hold (`connectionHistorySize`). */
    readonly historyCapacity: number
    /** Over the history: the time from pending to closed. Absent when the history is empty. */
    readonly lifetimeMs?: DurationStats
    /**
     * Over the history's connections that opened: the time from open to closing (or to
     * closed, without a closing phase). Absent when none opened.
     */
    readonly openMs?: DurationStats
  }
}

/** @internal How many connections of a group are in `state` and `direction` (-1: any). */
export type GroupCount = (state: number, direction: number) => number

/** @internal What {@link buildSnapshot} reads from the tracker. */
export interface SnapshotSource<Metadata> {
  readonly now: number
  /** How many connections are in `state` and `direction` (-1: any). */
  readonly count: GroupCount
  /** Every peer, and how many of its connections are in a state and direction. */
  readonly peers: Iterable<[string, GroupCount]>
  readonly hostCount: number
  /** The oldest connection of a lane. */
  readonly oldest: (lane: number) => Entry<Metadata> | undefined
  readonly streams: number
  readonly closedTotal: number
  readonly closedByReason: Readonly<Record<CloseReason, number>>
  readonly history: ReadonlyArray<ConnectionRecord<Metadata>>
  readonly historySize: number
}

/** @internal Builds the snapshot; O(peers + history). */
export function buildSnapshot<Metadata> (source: SnapshotSource<Metadata>): TrackerSnapshot {
  const { count, now } = source
  const directionCounts = (state: number): DirectionCounts => ({
    inbound: count(state, 0),
    outbound: count(state, 1),
    total: count(state, -1)
  })
  const byPeer = Object.create(null) as Record<string, PeerCounts>
  let connected = 0
  let peerTotal = 0
  for (const [peer, peerCount] of source.peers) {
    peerTotal++
    const counts: PeerCounts = {
      pending: peerCount(PENDING, -1),
      open: peerCount(OPEN, -1),
      closing: peerCount(CLOSING, -1),
      inbound: peerCount(-1, 0),
      outbound: peerCount(-1, 1),
      total: peerCount(-1, -1)
    }
    byPeer[peer] = counts
    if (counts.open + counts.closing > 0) connected++
  }
  const oldest: Partial<Record<ActiveState, OldestConnection>> = {}
  ACTIVE_STATES.forEach((name, state) => {
    const entry = oldestOf(source.oldest(state * 2), source.oldest(state * 2 + 1), state)
    if (entry !== undefined) {
      const since = enteredAt(entry, state)
      const view = entry.view
      oldest[name] = {
        id: entry.id,
        direction: view.direction,
        remoteAddress: entry.remoteAddress,
        ...(entry.host === undefined ? {} : { remoteIp: entry.host }),
        ...(entry.peer === undefined ? {} : { peer: entry.peer }),
        since,
        ageMs: now - since
      }
    }
  })
  const lifetimes: number[] = []
  const openTimes: number[] = []
  for (const record of source.history) {
    const { pending, open, closing, closed = pending } = record.timeline
    lifetimes.push(closed - pending)
    if (open !== undefined) {
      openTimes.push((closing ?? closed) - open)
    }
  }
  const lifetimeMs = stats(lifetimes)
  const openMs = stats(openTimes)
  return {
    at: now,
    connections: {
      pending: directionCounts(PENDING),
      open: directionCounts(OPEN),
      closing: directionCounts(CLOSING),
      total: directionCounts(-1)
    },
    streams: source.streams,
    peers: { count: peerTotal, connected, byPeer },
    hosts: source.hostCount,
    oldest,
    closed: {
      total: source.closedTotal,
      byReason: { ...source.closedByReason },
      historySize: source.history.length,
      historyCapacity: source.historySize,
      ...(lifetimeMs === undefined ? {} : { lifetimeMs }),
      ...(openMs === undefined ? {} : { openMs })
    }
  }
}

/** When a connection entered `state`, an active state. */
function enteredAt<Metadata> (entry: Entry<Metadata>, state: number): number {
  switch (state) {
    // Stryker disable next-line ConditionalExpression: a pending entry has no closingAt, so the default gives pendingAt too
    case PENDING: return entry.pendingAt
    case OPEN: return entry.openAt ?? entry.pendingAt
    default: return entry.closingAt ?? entry.pendingAt
  }
}

/** The older of the two lists' heads (each list is oldest first). */
function oldestOf<Metadata> (inbound: Entry<Metadata> | undefined, outbound: Entry<Metadata> | undefined, state: number): Entry<Metadata> | undefined {
  if (inbound === undefined) return outbound
  if (outbound === undefined) return inbound
  const a = enteredAt(inbound, state)
  const b = enteredAt(outbound, state)
  // Stryker disable next-line EqualityOperator: two connections never share an id
  return a < b || (a === b && inbound.id < outbound.id) ? inbound : outbound
}

function stats (values: number[]): DurationStats | undefined {
  const count = values.length
  if (count === 0) {
    return undefined
  }
  values.sort((a, b) => a - b)
  const middle = count >> 1
  const median = count % 2 === 1 ? values[middle] ?? 0 : ((values[middle - 1] ?? 0) + (values[middle] ?? 0)) / 2
  let sum = 0
  for (const value of values) sum += value
  return { count, min: values[0] ?? 0, median, mean: sum / count, max: values[count - 1] ?? 0 }
}
