import type { DialQueueStats } from './dial-queue.ts'
import type { RefusalReason } from './events.ts'
import type { DefaultGate } from '@cm/gate'
import type { PruneReason } from '@cm/pruner'
import type { RateLimiterStats } from '@cm/rate-limit'
import type { ConnectionTracker } from '@cm/state'

/** Counts by direction. */
export interface DirectionFigures {
  /** Inbound. */
  readonly inbound: number
  /** Outbound. */
  readonly outbound: number
}

/** Connections by state and direction. */
export interface ConnectionFigures {
  /** Accepted or dialling, not yet open. */
  readonly pending: DirectionFigures
  /** Open. */
  readonly open: DirectionFigures
  /** Closing gracefully. */
  readonly closing: DirectionFigures
}

/** Inbound connections accepted and not yet open. */
export interface PendingInboundFigures {
  /** All of them. */
  readonly total: number
  /** Those that count against `maxIncomingPendingConnections` (trusted ones do not). */
  readonly limited: number
  /**
   * Pending connections closed (reason `limit`) to make room for a connection from a host
   * that had used less of its rate budget, since start.
   */
  readonly evicted: number
}

/** The dial queue's figures. */
export interface DialQueueFigures {
  /** Dials running now. */
  readonly running: number
  /** Dials waiting now. */
  readonly queued: number
  /** Dials refused because the queue was full, since start. */
  readonly refused: number
  /** Dials joined to one already queued or running, since start. */
  readonly joined: number
  /** Dials started, since start. */
  readonly started: number
  /** Mean milliseconds a started dial waited in the queue. */
  readonly meanWaitMs: number
  /** The longest wait of a started dial, milliseconds. */
  readonly maxWaitMs: number
}

/** Reconnection figures. */
export interface ReconnectFigures {
  /** Redials scheduled, since start. */
  readonly attempts: number
  /** Redials that succeeded, since start. */
  readonly successes: number
  /** Connections given up on, since start. */
  readonly failures: number
  /** Redials waiting for their delay now. */
  readonly scheduled: number
}

/** Rules on the gate's lists. */
export interface GateFigures {
  /** Deny rules. */
  readonly deny: number
  /** Allow rules. */
  readonly allow: number
  /** Trusted rules. */
  readonly trusted: number
}

/** A snapshot of the manager's figures, plain JSON, for monitoring. */
export interface ManagerMetrics {
  /** Connections by state and direction. */
  readonly connections: ConnectionFigures
  /** Inbound connections accepted but not yet open. */
  readonly pendingInbound: PendingInboundFigures
  /** Connections opened since start, by direction. */
  readonly opened: DirectionFigures
  /** Refusals since start, by reason. */
  readonly refused: Readonly<Record<RefusalReason, number>>
  /** The dial queue. */
  readonly dialQueue: DialQueueFigures
  /** Dials that failed (error or timeout), since start. */
  readonly dialFailures: number
  /** Connections pruned since start, by reason. */
  readonly pruned: Readonly<Record<PruneReason, number>>
  /** Reconnection since start. */
  readonly reconnects: ReconnectFigures
  /** Graceful closes that ran out of time and were destroyed, since start. */
  readonly closeTimeouts: number
  /** The rate limiter's own figures. */
  readonly rateLimit: RateLimiterStats
  /** Rules on the gate's lists. */
  readonly gate: GateFigures
}

/** The counters behind {@link ManagerMetrics} that only grow. Internal to the manager. */
export class Counters {
  readonly opened = { inbound: 0, outbound: 0 }
  readonly refused: Record<RefusalReason, number>
  readonly pruned: Record<PruneReason, number> = { 'max-connections': 0, 'high-watermark': 0, 'max-connections-per-peer': 0 }
  dialFailures = 0
  closeTimeouts = 0

  constructor (reasons: readonly RefusalReason[]) {
    this.refused = Object.fromEntries(reasons.map(reason => [reason, 0])) as Record<RefusalReason, number>
  }
}

/** Where a {@link ManagerMetrics} snapshot is read from. Internal to the manager. */
export interface MetricsSources {
  readonly connections: ConnectionTracker
  readonly pendingSlots: { readonly size: number, readonly evicted: number }
  readonly counters: Counters
  readonly dialQueue: DialQueueStats
  readonly reconnects: ReconnectFigures
  readonly rateLimit: RateLimiterStats
  readonly gate: DefaultGate
}

/** A snapshot of the figures, copied so that later counting does not change it. */
export function snapshotMetrics (sources: MetricsSources): ManagerMetrics {
  const { connections, counters, dialQueue: queue, gate } = sources
  const count = (state: 'pending' | 'open' | 'closing'): DirectionFigures => ({
    inbound: connections.count({ state, direction: 'inbound' }),
    outbound: connections.count({ state, direction: 'outbound' })
  })
  const pending = count('pending')
  return {
    connections: { pending, open: count('open'), closing: count('closing') },
    pendingInbound: { total: pending.inbound, limited: sources.pendingSlots.size, evicted: sources.pendingSlots.evicted },
    opened: { ...counters.opened },
    refused: { ...counters.refused },
    dialQueue: {
      running: queue.running,
      queued: queue.queued,
      refused: queue.refused,
      joined: queue.joined,
      started: queue.started,
      meanWaitMs: queue.started === 0 ? 0 : queue.totalWaitMs / queue.started,
      maxWaitMs: queue.maxWaitMs
    },
    dialFailures: counters.dialFailures,
    pruned: { ...counters.pruned },
    reconnects: sources.reconnects,
    closeTimeouts: counters.closeTimeouts,
    rateLimit: sources.rateLimit,
    gate: { deny: gate.size('deny'), allow: gate.size('allow'), trusted: gate.size('trusted') }
  }
}
