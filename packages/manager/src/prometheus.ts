/**
 * Prometheus metrics for a {@link ConnectionManager}, with `prom-client` (an optional peer
 * dependency: install it yourself). The metrics are read from `manager.metrics()` at each
 * scrape, so they cost nothing between scrapes.
 *
 * @example Expose the manager's metrics
 * ```ts
 * import { createConnectionManager } from '@cm/manager'
 * import { registerPrometheusMetrics } from '@cm/manager/prometheus'
 * import { tcp } from '@cm/manager/tcp'
 * import { Registry } from 'prom-client'
 *
 * const manager = createConnectionManager({ transport: tcp() })
 * const registry = new Registry()
 * registerPrometheusMetrics(manager, { registry })
 * console.log(await registry.metrics()) // cm_connections{state="open",direction="inbound"} 0 ...
 * ```
 *
 * @packageDocumentation
 */
import { Counter, Gauge } from 'prom-client'
import { REFUSAL_REASONS } from './events.ts'
import type { ConnectionManager } from './manager.ts'
import type { Registry } from 'prom-client'

/** Options of {@link registerPrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** The registry to register the metrics in. */
  readonly registry: Registry
  /** A prefix for every metric name. @default 'cm_' */
  readonly prefix?: string | undefined
}

const STATES = ['pending', 'open', 'closing'] as const
const DIRECTIONS = ['inbound', 'outbound'] as const
const PRUNE_REASONS = ['max-connections', 'high-watermark', 'max-connections-per-peer'] as const

/**
 * Registers the manager's metrics in a `prom-client` registry:
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `cm_connections` | gauge | `state` (pending, open, closing), `direction` |
 * | `cm_connections_opened_total` | counter | `direction` |
 * | `cm_connections_refused_total` | counter | `reason` (the admission stage) |
 * | `cm_connections_pruned_total` | counter | `reason` |
 * | `cm_pending_inbound` | gauge | |
 * | `cm_dial_queue` | gauge | `state` (running, queued) |
 * | `cm_dial_queue_refused_total` | counter | |
 * | `cm_dial_failures_total` | counter | |
 * | `cm_reconnects_total` | counter | `outcome` (attempt, success, failure) |
 * | `cm_close_timeouts_total` | counter | |
 * | `cm_rate_limit_tracked_keys` | gauge | `tier` |
 * | `cm_gate_rules` | gauge | `list` (deny, allow, trusted) |
 *
 * @param manager - the manager to read
 * @param options - the registry and a name prefix
 * @returns the metrics registered, by name
 *
 * @example
 * ```ts
 * import { createConnectionManager } from '@cm/manager'
 * import { registerPrometheusMetrics } from '@cm/manager/prometheus'
 * import { tcp } from '@cm/manager/tcp'
 * import { Registry } from 'prom-client'
 *
 * const registry = new Registry()
 * registerPrometheusMetrics(createConnectionManager({ transport: tcp() }), { registry, prefix: 'node_' })
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a manager of any transport
export function registerPrometheusMetrics (manager: ConnectionManager<any>, options: PrometheusMetricsOptions): Record<string, Gauge | Counter> {
  const prefix = options.prefix ?? 'cm_'
  const registers = [options.registry]
  const name = (base: string): string => `${prefix}${base}`
  /** Sets a counter to an absolute total read from the manager (totals only grow). */
  const setTotal = (counter: Counter, labels: Record<string, string>, total: number): void => {
    counter.reset()
    counter.inc(labels, total)
  }
  const metrics: Record<string, Gauge | Counter> = {}
  metrics['connections'] = new Gauge({
    name: name('connections'),
    help: 'Connections held, by state and direction',
    labelNames: ['state', 'direction'],
    registers,
    collect () {
      const { connections } = manager.metrics()
      for (const state of STATES) {
        for (const direction of DIRECTIONS) this.set({ state, direction }, connections[state][direction])
      }
    }
  })
  metrics['opened'] = new Counter({
    name: name('connections_opened_total'),
    help: 'Connections opened, by direction',
    labelNames: ['direction'],
    registers,
    collect () {
      const { opened } = manager.metrics()
      this.reset()
      for (const direction of DIRECTIONS) this.inc({ direction }, opened[direction])
    }
  })
  metrics['refused'] = new Counter({
    name: name('connections_refused_total'),
    help: 'Connections and dials refused, by reason',
    labelNames: ['reason'],
    registers,
    collect () {
      const { refused } = manager.metrics()
      this.reset()
      for (const reason of REFUSAL_REASONS) this.inc({ reason }, refused[reason])
    }
  })
  metrics['pruned'] = new Counter({
    name: name('connections_pruned_total'),
    help: 'Connections pruned, by reason',
    labelNames: ['reason'],
    registers,
    collect () {
      const { pruned } = manager.metrics()
      this.reset()
      for (const reason of PRUNE_REASONS) this.inc({ reason }, pruned[reason])
    }
  })
  metrics['pendingInbound'] = new Gauge({
    name: name('pending_inbound'),
    help: 'Inbound connections accepted and not yet open',
    registers,
    collect () { this.set(manager.metrics().pendingInbound.total) }
  })
  metrics['dialQueue'] = new Gauge({
    name: name('dial_queue'),
    help: 'Dials running and waiting',
    labelNames: ['state'],
    registers,
    collect () {
      const { dialQueue } = manager.metrics()
      this.set({ state: 'running' }, dialQueue.running)
      this.set({ state: 'queued' }, dialQueue.queued)
    }
  })
  metrics['dialQueueRefused'] = new Counter({
    name: name('dial_queue_refused_total'),
    help: 'Dials refused because the dial queue was full',
    registers,
    collect () { setTotal(this, {}, manager.metrics().dialQueue.refused) }
  })
  metrics['dialFailures'] = new Counter({
    name: name('dial_failures_total'),
    help: 'Dials that failed or timed out',
    registers,
    collect () { setTotal(this, {}, manager.metrics().dialFailures) }
  })
  metrics['reconnects'] = new Counter({
    name: name('reconnects_total'),
    help: 'Reconnect attempts, successes and final failures',
    labelNames: ['outcome'],
    registers,
    collect () {
      const { reconnects } = manager.metrics()
      this.reset()
      this.inc({ outcome: 'attempt' }, reconnects.attempts)
      this.inc({ outcome: 'success' }, reconnects.successes)
      this.inc({ outcome: 'failure' }, reconnects.failures)
    }
  })
  metrics['closeTimeouts'] = new Counter({
    name: name('close_timeouts_total'),
    help: 'Graceful closes that ran out of time and were destroyed',
    registers,
    collect () { setTotal(this, {}, manager.metrics().closeTimeouts) }
  })
  metrics['rateLimitKeys'] = new Gauge({
    name: name('rate_limit_tracked_keys'),
    help: 'Keys tracked by the inbound rate limiter, by tier',
    labelNames: ['tier'],
    registers,
    collect () {
      this.reset()
      for (const tier of manager.metrics().rateLimit.tiers) this.set({ tier: tier.name }, tier.trackedKeys)
    }
  })
  metrics['gateRules'] = new Gauge({
    name: name('gate_rules'),
    help: 'Rules on the gate\'s lists',
    labelNames: ['list'],
    registers,
    collect () {
      const { gate } = manager.metrics()
      this.set({ list: 'deny' }, gate.deny)
      this.set({ list: 'allow' }, gate.allow)
      this.set({ list: 'trusted' }, gate.trusted)
    }
  })
  return metrics
}
