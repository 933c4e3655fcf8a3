import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createConnectionManager } from '../src/manager.ts'
import { MemoryTransport } from './helpers/memory-transport.ts'
import type { MemoryConnection } from './helpers/memory-transport.ts'

/** One step of a random run. `target` picks among the connections seen so far. */
type Step =
  | { readonly kind: 'accept', readonly host: number }
  | { readonly kind: 'open' | 'fail' | 'remote-close' | 'local-close' | 'abort', readonly target: number }
  | { readonly kind: 'tick', readonly ms: number }

const HOSTS = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '198.51.100.1', '203.0.113.7', '2001:db8::1', '2001:db8::2:1']

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('accept' as const), host: fc.nat(HOSTS.length - 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('open' as const), target: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), target: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remote-close' as const), target: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('local-close' as const), target: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), target: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 1_500 }) }) }
)

interface ModelConnection {
  readonly raw: MemoryConnection
  readonly host: string
  readonly trusted: boolean
  state: 'refused' | 'pending' | 'open' | 'closed'
}

const flush = async (): Promise<void> => { for (let index = 0; index < 4; index++) await new Promise(resolve => setImmediate(resolve)) }

describe('admission counters - model', () => {
  it('random accept, refuse, open, fail, close and abort sequences leave every counter equal to a recount', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(step, { minLength: 1, maxLength: 40 }),
      fc.record({ maxConnections: fc.integer({ min: 1, max: 6 }), maxIncomingPendingConnections: fc.integer({ min: 1, max: 4 }), inboundConnectionThreshold: fc.integer({ min: 0, max: 3 }) }),
      async (steps, limits) => {
        let now = 0
        const transport = new MemoryTransport()
        const settlers = new Map<MemoryConnection, (outcome: 'open' | 'fail') => void>()
        const manager = createConnectionManager({
          transport,
          clock: { now: () => now },
          config: { ...limits, maxConnectionsPerPeer: 1, trustedList: ['192.0.2.3'], denyList: ['203.0.113.0/24'], inboundUpgradeTimeout: 2_000_000_000 },
          upgrade: async raw => {
            await new Promise<void>((resolve, reject) => {
              settlers.set(raw, outcome => { if (outcome === 'open') resolve(); else reject(new Error('handshake failed')) })
              raw.onClose(() => { reject(new Error('closed')) })
            })
          }
        })
        await manager.start()
        await manager.listen('/ip4/0.0.0.0/tcp/1')
        // The recount: every connection's state as the events report it, by remote address.
        const model: ModelConnection[] = []
        const byAddress = new Map<string, ModelConnection>()
        let refusedNow: boolean
        let openedTotal = 0
        manager.events.addEventListener('connection:deny', () => { refusedNow = true })
        manager.events.addEventListener('connection:open', event => {
          openedTotal++
          const connection = byAddress.get(event.detail.connection.remoteAddress)
          if (connection !== undefined) connection.state = 'open'
        })
        manager.events.addEventListener('connection:close', event => {
          const connection = byAddress.get(event.detail.connection.remoteAddress)
          if (connection !== undefined) connection.state = 'closed'
        })
        const pick = (target: number): ModelConnection | undefined => model.length === 0 ? undefined : model[target % model.length]
        const live = (connection: ModelConnection | undefined): connection is ModelConnection => connection?.state === 'pending' || connection?.state === 'open'
        try {
          for (const current of steps) {
            switch (current.kind) {
              case 'accept': {
                const host = HOSTS[current.host] ?? '192.0.2.1'
                refusedNow = false
                const raw = transport.inject(host)
                const connection: ModelConnection = { raw, host, trusted: host === '192.0.2.3', state: refusedNow ? 'refused' : 'pending' }
                model.push(connection)
                byAddress.set(raw.remote.multiaddr, connection)
                break
              }
              case 'open':
              case 'fail': {
                const connection = pick(current.target)
                if (connection?.state === 'pending') settlers.get(connection.raw)?.(current.kind)
                break
              }
              case 'remote-close':
              case 'abort': {
                const connection = pick(current.target)
                if (live(connection)) connection.raw.remoteClose(current.kind === 'abort' ? new Error('ECONNRESET') : undefined)
                break
              }
              case 'local-close': {
                const connection = pick(current.target)
                if (live(connection)) {
                  const record = manager.connections.list().find(each => each.remoteAddress === connection.raw.remote.multiaddr)
                  if (record !== undefined) await manager.close(record.id)
                }
                break
              }
              case 'tick':
                now += current.ms
                break
            }
            await flush()
            const count = (state: ModelConnection['state']): number => model.filter(each => each.state === state).length
            const metrics = manager.metrics()
            expect(metrics.pendingInbound.total).toBe(count('pending'))
            expect(metrics.pendingInbound.limited).toBe(model.filter(each => each.state === 'pending' && !each.trusted).length)
            expect(metrics.connections.pending.inbound).toBe(count('pending'))
            expect(metrics.connections.open.inbound).toBe(count('open'))
            expect(metrics.connections.closing.inbound).toBe(0)
            expect(manager.connections.size).toBe(count('pending') + count('open'))
            expect(Object.values(metrics.refused).reduce((sum, value) => sum + value, 0)).toBe(count('refused'))
            expect(metrics.opened.inbound).toBe(openedTotal)
            // The limits hold: untrusted pending within its limit; untrusted connections in any
            // state within maxConnections, and all of them within it plus the trusted ones.
            expect(metrics.pendingInbound.limited).toBeLessThanOrEqual(limits.maxIncomingPendingConnections)
            expect(model.filter(each => live(each) && !each.trusted).length).toBeLessThanOrEqual(limits.maxConnections)
            expect(manager.connections.count()).toBeLessThanOrEqual(limits.maxConnections + model.filter(each => live(each) && each.trusted).length)
            // Every eviction is a pending connection closed with reason `limit`.
            expect(metrics.pendingInbound.evicted).toBe(manager.connections.history().filter(record => record.closeReason === 'limit').length)
            // Refused and closed connections were all destroyed; live ones were not.
            expect(model.filter(each => each.state === 'refused' || each.state === 'closed').every(each => each.raw.closed)).toBe(true)
            expect(model.filter(live).every(each => !each.raw.closed)).toBe(true)
          }
        } finally {
          await manager.stop()
        }
        expect(manager.metrics().pendingInbound).toMatchObject({ total: 0, limited: 0 })
        expect(manager.connections.size).toBe(0)
      }
    ), { numRuns: 300 })
  })
})
