import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createConnectionManager } from '../src/manager.ts'
import { registerPrometheusMetrics } from '../src/prometheus.ts'
import { MemoryTransport } from './helpers/memory-transport.ts'

const flush = async (): Promise<void> => { for (let index = 0; index < 4; index++) await new Promise(resolve => setImmediate(resolve)) }

describe('registerPrometheusMetrics()', () => {
  it('exports the manager\'s figures as they are at each scrape', async () => {
    const transport = new MemoryTransport()
    const manager = createConnectionManager({ transport, config: { denyList: ['203.0.113.0/24'], maxConnections: 2, maxConnectionsPerPeer: 1 } })
    const registry = new Registry()
    registerPrometheusMetrics(manager, { registry })
    await manager.start()
    await manager.listen('/ip4/0.0.0.0/tcp/1')
    transport.inject('192.0.2.1')
    transport.inject('192.0.2.2')
    transport.inject('192.0.2.3') // max-connections
    transport.inject('203.0.113.9') // deny-list
    await flush()
    const text = await registry.metrics()
    expect(text).toContain('cm_connections{state="open",direction="inbound"} 2')
    expect(text).toContain('cm_connections_opened_total{direction="inbound"} 2')
    expect(text).toContain('cm_connections_refused_total{reason="max-connections"} 1')
    expect(text).toContain('cm_connections_refused_total{reason="deny-list"} 1')
    expect(text).toContain('cm_gate_rules{list="deny"} 1')
    expect(text).toContain('cm_pending_evicted_total 0')
    expect(text).toMatch(/# TYPE cm_connections_refused_total counter/)
    // The next scrape sees the change, and totals do not double count.
    await manager.stop()
    const after = await registry.metrics()
    expect(after).toContain('cm_connections{state="open",direction="inbound"} 0')
    expect(after).toContain('cm_connections_opened_total{direction="inbound"} 2')
  })

  it('takes a name prefix', async () => {
    const registry = new Registry()
    registerPrometheusMetrics(createConnectionManager({ transport: new MemoryTransport() }), { registry, prefix: 'node_' })
    expect(await registry.metrics()).toContain('node_connections{state="open",direction="outbound"} 0')
  })
})
