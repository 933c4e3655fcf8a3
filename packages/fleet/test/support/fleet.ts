import { createClient } from '@redis/client'
import type { Fleet, FleetState } from '../../src/index.ts'

/** Waits until `condition()` holds, polling every 5 ms; fails after `timeoutMs`. */
export async function until (condition: () => boolean, what: string, timeoutMs = 10_000): Promise<number> {
  const started = performance.now()
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  return performance.now() - started
}

/** Waits until every fleet is in `state`. */
export async function allIn (fleets: readonly Fleet[], state: FleetState, timeoutMs = 15_000): Promise<void> {
  await until(() => fleets.every(fleet => fleet.state === state), `every node ${state}`, timeoutMs)
}

/** A raw Redis client for a test to write what it likes (hostile data) or inspect the store. */
export async function rawClient (url: string, options: { username?: string, password?: string } = {}): Promise<{ send: (...args: string[]) => Promise<unknown>, close: () => void }> {
  const client = createClient({ url, RESP: 2, socket: { reconnectStrategy: false }, ...options })
  client.on('error', () => {})
  await client.connect()
  return {
    send: async (...args) => await client.sendCommand(args),
    close: () => { client.destroy() }
  }
}
