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
import type { ConnectionManager } from './manager.ts'
import type { ManagerMetrics } from './metrics.ts'
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
 * | `cm_pending_evicted_total` | counter | |
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
  /** Values by label value, or one value for a metric without labels. */
  type Read = () => Record<string, number> | number
  const labelled = (read: Read, label: string | undefined, apply: (labels: Record<string, string>, value: number) => void): void => {
    const values = read()
    // A metric without a label reads one number; one with a label, a value per label value.
    if (typeof values === 'number') {
      apply({}, values)
      return
    }
    for (const [key, value] of Object.entries(values)) apply({ [label as string]: key }, value)
  }
  /** A gauge read from the manager at each scrape. */
  const gauge = (name: string, help: string, label: string | undefined, read: Read): Gauge => new Gauge({
    name: `${prefix}${name}`,
    help,
    // Stryker disable next-line ConditionalExpression: prom-client exposes the same text given an undefined label name; the test keeps the option exact
    labelNames: label === undefined ? [] : [label],
    registers,
    collect () {
      this.reset()
      labelled(read, label, (labels, value) => { this.set(labels, value) })
    }
  })
  /** A counter set to the manager's running total at each scrape (totals only grow). */
  const total = (name: string, help: string, label: string | undefined, read: Read): Counter => new Counter({
    name: `${prefix}${name}`,
    help,
    // Stryker disable next-line ConditionalExpression: prom-client exposes the same text given an undefined label name; the test keeps the option exact
    labelNames: label === undefined ? [] : [label],
    registers,
    collect () {
      this.reset()
      labelled(read, label, (labels, value) => { this.inc(labels, value) })
    }
  })
  const metrics = (): ManagerMetrics => manager.metrics()
  return {
    connections: new Gauge({
      name: `${prefix}connections`,
      help: 'Connections held, by state and direction',
      labelNames: ['state', 'direction'],
      registers,
      collect () {
        const { connections } = metrics()
        for (const state of STATES) {
          for (const direction of DIRECTIONS) this.set({ state, direction }, connections[state][direction])
        }
      }
    }),
    opened: total('connections_opened_total', 'Connections opened, by direction', 'direction', () => ({ ...metrics().opened })),
    refused: total('connections_refused_total', 'Connections and dials refused, by reason', 'reason', () => ({ ...metrics().refused })),
    pruned: total('connections_pruned_total', 'Connections pruned, by reason', 'reason', () => ({ ...metrics().pruned })),
    pendingInbound: gauge('pending_inbound', 'Inbound connections accepted and not yet open', undefined, () => metrics().pendingInbound.total),
    pendingEvicted: total('pending_evicted_total', 'Pending connections closed to make room for a host that had used less of its rate budget', undefined, () => metrics().pendingInbound.evicted),
    dialQueue: gauge('dial_queue', 'Dials running and waiting', 'state', () => {
      const { dialQueue } = metrics()
      return { running: dialQueue.running, queued: dialQueue.queued }
    }),
    dialQueueRefused: total('dial_queue_refused_total', 'Dials refused because the dial queue was full', undefined, () => metrics().dialQueue.refused),
    dialFailures: total('dial_failures_total', 'Dials that failed or timed out', undefined, () => metrics().dialFailures),
    reconnects: total('reconnects_total', 'Reconnect attempts, successes and final failures', 'outcome', () => {
      const { reconnects } = metrics()
      return { attempt: reconnects.attempts, success: reconnects.successes, failure: reconnects.failures }
    }),
    closeTimeouts: total('close_timeouts_total', 'Graceful closes that ran out of time and were destroyed', undefined, () => metrics().closeTimeouts),
    rateLimitKeys: gauge('rate_limit_tracked_keys', 'Keys tracked by the inbound rate limiter, by tier', 'tier', () =>
      Object.fromEntries(metrics().rateLimit.tiers.map(tier => [tier.name, tier.trackedKeys]))),
    gateRules: gauge('gate_rules', 'Rules on the gate\'s lists', 'list', () => ({ ...metrics().gate }))
  }
}
