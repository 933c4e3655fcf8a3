import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createConnectionManager } from '@cm/manager'
import { tcp } from '@cm/manager/tcp'
import type { BenchSuite, SuiteReport } from '../harness.ts'
import type { ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'

/**
 * The soak run: 200,000 upgraded inbound connections and 50,000 dials through one manager
 * over loopback, in ten steps, with the heap after GC at each. Nothing the manager keeps may
 * grow per connection: after two steps of warm-up the heap must stay flat (within 1 MiB).
 * Clients in a process of their own. Needs `--expose-gc` (`NODE_OPTIONS=--expose-gc`).
 */
const INBOUND = 200_000
const DIALS = 50_000
const STEPS = 10
const DIAL_PORTS = 10
/** The flatness bound after warm-up. */
const FLAT_BYTES = 2 ** 20

class SoakClients {
  readonly #child: ChildProcess = fork(fileURLToPath(new URL('../support/soak-clients.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })

  async #ask<T> (job: object): Promise<T> {
    return await new Promise(resolve => {
      this.#child.once('message', (reply: T) => { resolve(reply) })
      this.#child.send(job)
    })
  }

  async listen (ports: number): Promise<number[]> {
    return (await this.#ask<{ ports: number[] }>({ type: 'listen', ports })).ports
  }

  async inbound (port: number, count: number, parallel: number): Promise<number> {
    return (await this.#ask<{ served: number }>({ type: 'inbound', port, count, parallel })).served
  }

  close (): void {
    this.#child.disconnect()
  }
}

/** Reads one chunk (the handshake) from a socket, or rejects when the signal aborts. */
async function readOnce (socket: Socket, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onData = (): void => { signal.removeEventListener('abort', onAbort); socket.pause(); resolve() }
    const onAbort = (): void => { socket.removeListener('data', onData); reject(signal.reason) }
    socket.once('data', onData)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

function heapAfterGc (): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('the soak run needs --expose-gc (NODE_OPTIONS=--expose-gc pnpm bench soak)')
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

async function runSoak (): Promise<SuiteReport> {
  const clients = new SoakClients()
  const manager = createConnectionManager({
    transport: tcp({ backlog: 1024 }),
    config: { maxConnections: 2_000, maxIncomingPendingConnections: 1_000, inboundConnectionThreshold: 1_000_000 },
    // Inbound, the client's hello; outbound, the dialled server's first byte.
    upgrade: async (socket, { signal }) => { await readOnce(socket, signal) },
    onConnection: connection => {
      if (connection.record.direction === 'inbound') connection.raw.write('welcome\n')
      else void connection.close()
    }
  })
  await manager.start()
  const port = Number((await manager.listen('/ip4/127.0.0.1/tcp/0')).addresses[0]?.split('/')[4])
  const dialPorts = await clients.listen(DIAL_PORTS)
  const checkpoints: number[] = []
  let served = 0
  let dialled = 0
  const started = performance.now()
  for (let step = 0; step < STEPS; step++) {
    served += await clients.inbound(port, INBOUND / STEPS, 64)
    await Promise.all(dialPorts.map(async dialPort => {
      for (let index = 0; index < DIALS / STEPS / DIAL_PORTS; index++) {
        const connection = await manager.dial(`/ip4/127.0.0.1/tcp/${dialPort}`)
        await connection.close()
        dialled++
      }
    }))
    // Let the last closes finish before the heap is read.
    while (manager.connections.count() > 0) await new Promise(resolve => setTimeout(resolve, 5))
    checkpoints.push(heapAfterGc())
  }
  const seconds = (performance.now() - started) / 1_000
  await manager.stop()
  clients.close()
  const warm = checkpoints.slice(2)
  const spread = Math.max(...warm) - Math.min(...warm)
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(2)
  if (served !== INBOUND || dialled !== DIALS) {
    throw new Error(`soak: ${served} of ${INBOUND} inbound connections served, ${dialled} of ${DIALS} dials made`)
  }
  return {
    lines: [
      '| step | inbound connections | dials | heap after GC (MiB) |',
      '| ---: | ---: | ---: | ---: |',
      ...checkpoints.map((bytes, index) => `| ${index + 1} | ${((index + 1) * INBOUND / STEPS).toLocaleString('en-US')} | ${((index + 1) * DIALS / STEPS).toLocaleString('en-US')} | ${mib(bytes)} |`),
      '',
      `${served.toLocaleString('en-US')} upgraded inbound connections and ${dialled.toLocaleString('en-US')} dials in ${seconds.toFixed(0)} s. After two steps of warm-up the heap after GC spans ${(spread / 1024).toFixed(0)} KiB.`
    ],
    figures: { spreadBytes: spread }
  }
}

export const soakSuite: BenchSuite = {
  name: 'soak',
  description: '200,000 upgraded inbound connections and 50,000 dials through one manager, heap after GC at ten steps',
  baseline: '',
  tasks: () => [],
  report: runSoak,
  targets: [{
    package: '@cm/manager',
    target: 'heap after GC flat within 1 MiB after warm-up, over 200,000 upgraded inbound connections and 50,000 dials',
    evaluate: ({ figures }) => ({ measured: `spans ${((figures['spreadBytes'] ?? Number.NaN) / 1024).toFixed(0)} KiB`, met: (figures['spreadBytes'] ?? Number.POSITIVE_INFINITY) <= FLAT_BYTES })
  }]
}
