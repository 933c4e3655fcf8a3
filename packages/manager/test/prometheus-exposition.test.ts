import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { ManagerMetrics } from '../src/metrics.ts'
import { registerPrometheusMetrics } from '../src/prometheus.ts'

// The whole exposition, names, help texts, labels and values, from figures that all differ,
// so that a figure exported under another label, or a help text that changed, shows.

const FIGURES = {
  connections: { pending: { inbound: 1, outbound: 2 }, open: { inbound: 3, outbound: 4 }, closing: { inbound: 5, outbound: 6 } },
  pendingInbound: { total: 7, limited: 8, evicted: 9 },
  opened: { inbound: 10, outbound: 11 },
  refused: { 'deny-list': 12, 'not-allow-listed': 13, 'invalid-address': 14, 'rate-limit': 15, 'pending-limit': 16, 'max-connections': 17, 'peer-denied': 18, 'not-started': 19 },
  dialQueue: { running: 20, queued: 21, refused: 22, joined: 23, started: 24, meanWaitMs: 25, maxWaitMs: 26 },
  dialFailures: 27,
  pruned: { 'max-connections': 28, 'high-watermark': 29, 'max-connections-per-peer': 30 },
  reconnects: { attempts: 31, successes: 32, failures: 33, scheduled: 34 },
  closeTimeouts: 35,
  rateLimit: { tiers: [{ name: 'host', trackedKeys: 36 }, { name: 'subnet', trackedKeys: 37 }] },
  gate: { deny: 38, allow: 39, trusted: 40 }
} as unknown as ManagerMetrics

const EXPOSITION = `# HELP x_connections Connections held, by state and direction
# TYPE x_connections gauge
x_connections{state="pending",direction="inbound"} 1
x_connections{state="pending",direction="outbound"} 2
x_connections{state="open",direction="inbound"} 3
x_connections{state="open",direction="outbound"} 4
x_connections{state="closing",direction="inbound"} 5
x_connections{state="closing",direction="outbound"} 6

# HELP x_connections_opened_total Connections opened, by direction
# TYPE x_connections_opened_total counter
x_connections_opened_total{direction="inbound"} 10
x_connections_opened_total{direction="outbound"} 11

# HELP x_connections_refused_total Connections and dials refused, by reason
# TYPE x_connections_refused_total counter
x_connections_refused_total{reason="deny-list"} 12
x_connections_refused_total{reason="not-allow-listed"} 13
x_connections_refused_total{reason="invalid-address"} 14
x_connections_refused_total{reason="rate-limit"} 15
x_connections_refused_total{reason="pending-limit"} 16
x_connections_refused_total{reason="max-connections"} 17
x_connections_refused_total{reason="peer-denied"} 18
x_connections_refused_total{reason="not-started"} 19

# HELP x_connections_pruned_total Connections pruned, by reason
# TYPE x_connections_pruned_total counter
x_connections_pruned_total{reason="max-connections"} 28
x_connections_pruned_total{reason="high-watermark"} 29
x_connections_pruned_total{reason="max-connections-per-peer"} 30

# HELP x_pending_inbound Inbound connections accepted and not yet open
# TYPE x_pending_inbound gauge
x_pending_inbound 7

# HELP x_pending_evicted_total Pending connections closed to make room for a host that had used less of its rate budget
# TYPE x_pending_evicted_total counter
x_pending_evicted_total 9

# HELP x_dial_queue Dials running and waiting
# TYPE x_dial_queue gauge
x_dial_queue{state="running"} 20
x_dial_queue{state="queued"} 21

# HELP x_dial_queue_refused_total Dials refused because the dial queue was full
# TYPE x_dial_queue_refused_total counter
x_dial_queue_refused_total 22

# HELP x_dial_failures_total Dials that failed or timed out
# TYPE x_dial_failures_total counter
x_dial_failures_total 27

# HELP x_reconnects_total Reconnect attempts, successes and final failures
# TYPE x_reconnects_total counter
x_reconnects_total{outcome="attempt"} 31
x_reconnects_total{outcome="success"} 32
x_reconnects_total{outcome="failure"} 33

# HELP x_close_timeouts_total Graceful closes that ran out of time and were destroyed
# TYPE x_close_timeouts_total counter
x_close_timeouts_total 35

# HELP x_rate_limit_tracked_keys Keys tracked by the inbound rate limiter, by tier
# TYPE x_rate_limit_tracked_keys gauge
x_rate_limit_tracked_keys{tier="host"} 36
x_rate_limit_tracked_keys{tier="subnet"} 37

# HELP x_gate_rules Rules on the gate's lists
# TYPE x_gate_rules gauge
x_gate_rules{list="deny"} 38
x_gate_rules{list="allow"} 39
x_gate_rules{list="trusted"} 40
`

describe('registerPrometheusMetrics() - the exposition', () => {
  it('exports every figure under its name, help text and labels, and the same again at the next scrape', async () => {
    const registry = new Registry()
    const manager = { metrics: () => FIGURES } as unknown as Parameters<typeof registerPrometheusMetrics>[0]
    const metrics = registerPrometheusMetrics(manager, { registry, prefix: 'x_' })
    expect(Object.keys(metrics)).toEqual(['connections', 'opened', 'refused', 'pruned', 'pendingInbound', 'pendingEvicted', 'dialQueue', 'dialQueueRefused', 'dialFailures', 'reconnects', 'closeTimeouts', 'rateLimitKeys', 'gateRules'])
    expect(await registry.metrics()).toBe(EXPOSITION)
    // Counters are reset before each collection: totals are not added up across scrapes.
    expect(await registry.metrics()).toBe(EXPOSITION)
  })
})
