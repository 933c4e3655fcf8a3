import { createGate } from '@cm/gate'
import { createRateLimiter } from '@cm/rate-limit'
import { createConnectionTracker } from '@cm/state'
import { describe, expect, it } from 'vitest'
import { REFUSAL_REASONS } from '../src/events.ts'
import { Counters, snapshotMetrics } from '../src/metrics.ts'
import type { DialQueueStats } from '../src/dial-queue.ts'
import type { ManagerMetrics } from '../src/metrics.ts'

function snapshot (dialQueue: DialQueueStats): ManagerMetrics {
  const connections = createConnectionTracker()
  connections.add({ direction: 'inbound', remoteAddress: '/ip4/192.0.2.1/tcp/1' })
  connections.add({ direction: 'inbound', remoteAddress: '/ip4/192.0.2.2/tcp/1' })
  return snapshotMetrics({
    connections,
    pendingSlots: { size: 0, evicted: 0 },
    counters: new Counters(REFUSAL_REASONS),
    dialQueue,
    reconnects: { attempts: 0, successes: 0, failures: 0, scheduled: 0 },
    rateLimit: createRateLimiter().stats(),
    gate: createGate()
  })
}

const queue = { running: 0, queued: 0, refused: 0, joined: 0, maxWaitMs: 0 }

describe('metrics - dial queue and connection figures', () => {
  it('meanWaitMs is the total wait over the dials started', () => {
    expect(snapshot({ ...queue, started: 4, totalWaitMs: 300 }).dialQueue.meanWaitMs).toBe(75)
  })

  it('meanWaitMs is 0 before any dial started', () => {
    expect(snapshot({ ...queue, started: 0, totalWaitMs: 0 }).dialQueue.meanWaitMs).toBe(0)
  })

  it('counts each direction apart', () => {
    expect(snapshot({ ...queue, started: 0, totalWaitMs: 0 }).connections.pending).toEqual({ inbound: 2, outbound: 0 })
  })
})
