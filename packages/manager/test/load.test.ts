import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createConnectionManager } from '../src/manager.ts'
import { tcp } from '../src/tcp.ts'
import { portOf } from './helpers/clients.ts'

const ATTEMPTS = 20_000
const SOURCES = 1_000
const IN_FLIGHT = 200
const TIME_LIMIT_MS = 60_000
const HOLD_MS = 500

/** Counts of the process's active handles by kind (sockets, servers, timers). */
function handles (): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}

/** One attempt from a source address: connect, read the greeting and stay a while (so the
 *  open count meets maxConnections), or see the refusal. */
async function attempt (port: number, localAddress: string): Promise<'served' | 'refused'> {
  return await new Promise(resolve => {
    const socket = connect({ port, host: '127.0.0.1', localAddress })
    let served = false
    socket.on('data', () => {
      served = true
      setTimeout(() => { socket.destroy() }, HOLD_MS)
    })
    socket.on('error', () => {})
    socket.on('close', () => { resolve(served ? 'served' : 'refused') })
    socket.setTimeout(10_000, () => { socket.destroy() })
  })
}

describe('ConnectionManager under load', () => {
  it(`${ATTEMPTS} attempts from ${SOURCES} loopback addresses: never over maxConnections, nothing left after stop, memory bounded`, async () => {
    const before = handles()
    const manager = createConnectionManager({
      transport: tcp({ backlog: 4096 }),
      config: { maxConnections: 100, maxIncomingPendingConnections: 50, inboundConnectionThreshold: 2, rateLimit: { maxKeys: 4096 } },
      onConnection: connection => { connection.raw.write('ok\n') }
    })
    let maxOpen = 0
    manager.events.addEventListener('connection:open', () => { maxOpen = Math.max(maxOpen, manager.connections.count({ state: 'open' })) })
    await manager.start()
    const listener = await manager.listen('/ip4/127.0.0.1/tcp/0')
    const port = portOf(listener.addresses[0])
    const heapBefore = process.memoryUsage().heapUsed

    const started = performance.now()
    const outcomes = { served: 0, refused: 0 }
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < ATTEMPTS && performance.now() - started < TIME_LIMIT_MS) {
        const index = next++
        // Each source makes its attempts in a burst of ATTEMPTS / SOURCES, faster than its rate.
        const source = Math.floor(index / (ATTEMPTS / SOURCES)) % SOURCES
        const outcome = await attempt(port, `127.10.${Math.floor(source / 250)}.${(source % 250) + 1}`)
        outcomes[outcome]++
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
    const elapsed = performance.now() - started

    console.log(`load: ${ATTEMPTS} attempts in ${Math.round(elapsed)} ms: ${JSON.stringify(outcomes)}, refused ${JSON.stringify(manager.metrics().refused)}, max open ${maxOpen}`)
    expect(outcomes.served + outcomes.refused).toBe(ATTEMPTS)
    expect(elapsed).toBeLessThan(TIME_LIMIT_MS)
    expect(maxOpen).toBeLessThanOrEqual(100)
    const metrics = manager.metrics()
    expect(metrics.opened.inbound).toBe(outcomes.served)
    expect(metrics.refused['rate-limit']).toBeGreaterThan(0)
    expect(metrics.refused['max-connections']).toBeGreaterThan(0)
    expect(metrics.rateLimit.tiers.every(tier => tier.trackedKeys <= tier.maxKeys)).toBe(true)
    expect(manager.connections.history().length).toBeLessThanOrEqual(manager.config.connectionHistorySize)
    // Memory: the structures are bounded; the heap has not grown with the number of attempts.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024)

    await manager.stop()
    expect(manager.connections.size).toBe(0)
    await new Promise(resolve => setTimeout(resolve, 50))
    const after = handles()
    for (const kind of ['TCPSocketWrap', 'TCPServerWrap', 'Timeout']) {
      expect(after[kind] ?? 0, kind).toBeLessThanOrEqual(before[kind] ?? 0)
    }
  }, 120_000)
})
