import { createServer } from 'node:net'
import { createGate } from '@cm/gate'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createFleet } from '../src/index.ts'
import type { Server } from 'node:net'

/** Lets real I/O callbacks run (setImmediate is not faked). */
async function settle (): Promise<void> {
  for (let index = 0; index < 20; index++) await new Promise(resolve => setImmediate(resolve))
}

async function realWait (condition: () => boolean): Promise<void> {
  for (let index = 0; index < 2_000 && !condition(); index++) await new Promise(resolve => setImmediate(resolve))
  expect(condition()).toBe(true)
}

let server: Server | undefined
afterEach(async () => {
  vi.useRealTimers()
  const closing = server
  server = undefined
  if (closing !== undefined) await new Promise(resolve => { closing.close(resolve) })
})

describe('Fleet, on fake time', () => {
  it('while Redis is away: reconnects with backoff, and lapses its own timed rules on time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] })
    // A "Redis" that hangs up on every connection: each one is an attempt of the fleet.
    let attempts = 0
    server = createServer(socket => { attempts++; socket.destroy() })
    await new Promise<void>(resolve => { server?.listen(0, '127.0.0.1', resolve) })
    const port = (server.address() as { port: number }).port
    const fleet = createFleet({
      redis: { url: `redis://127.0.0.1:${port}` },
      reconnect: { initialDelayMs: 100, maxDelayMs: 400, factor: 2 },
      random: () => 0 // no jitter: the waits are 100, 200, 400, 400 ms
    })
    const gate = createGate()
    fleet.attach({ gate })
    const starting = fleet.start()
    starting.catch(() => {})
    await realWait(() => fleet.state === 'disconnected')
    expect(attempts).toBe(1)

    const write = fleet.deny('203.0.113.0/24', { ttl: 1_000 })
    write.catch(() => {})
    expect(gate.check('203.0.113.9').reason).toBe('deny-list')

    const seen: number[] = []
    for (const step of [99, 1, 199, 1, 399, 1]) {
      await vi.advanceTimersByTimeAsync(step)
      await settle()
      seen.push(attempts)
    }
    // Attempts at 100, 300 (100 + 200) and 700 (+ 400) ms.
    expect(seen).toEqual([1, 2, 2, 3, 3, 4])
    expect(fleet.metrics()).toMatchObject({ state: 'disconnected', connected: 0, localRules: 1, queuedWrites: 1 })

    // The ban was written at 0 with a TTL of 1 s: it lapses at 1 s, Redis or not.
    await vi.advanceTimersByTimeAsync(299)
    expect(gate.check('203.0.113.9').reason).toBe('deny-list')
    await vi.advanceTimersByTimeAsync(1)
    expect(gate.check('203.0.113.9').allowed).toBe(true)
    expect(fleet.rules()).toEqual([])
    await fleet.stop()
  })
})
