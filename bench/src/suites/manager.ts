import { fork } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createConnectionManager } from '@cm/manager'
import { tcp } from '@cm/manager/tcp'
import { defaultLogger } from '@libp2p/logger'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { formatNs, interleavedTimes, median, rowNamed } from '../harness.ts'
import type { BenchSuite } from '../harness.ts'
import { memoryTransport } from '../support/memory-transport.ts'
import type { MemoryRaw } from '../support/memory-transport.ts'
import type { ConnectionManager, RemoteAddress } from '@cm/manager'
import type { ChildProcess } from 'node:child_process'
import type { Server } from 'node:net'

/**
 * `@cm/manager`'s inbound admission against js-libp2p's, and managed TCP accepts against a
 * bare `net.Server`.
 *
 * Admission: every stage runs (deny list, allow list, pending limit, per-host rate limit,
 * `maxConnections`) for connections from distinct addresses, with 10,000 connections open
 * and `maxConnections` at 10,000, so each attempt passes every check and is refused by the
 * last one. Ours: `manager.accept(raw)` over an in-memory transport (the decision, the
 * refusal event counter and destroying the connection). js-libp2p 3.3.11: its
 * `DefaultConnectionManager.acceptIncomingConnection(maConn)`, built with stub components
 * as its own unit tests do and imported by file URL (the package exports only `.`), with
 * 10,000 connections in its peer map. Both with 10 deny and 10 allow entries that do not
 * match, and a rate limit too high to refuse.
 */
const OPEN = 10_000
const ATTEMPT_ADDRESSES = 50_000

function address (index: number, base = 0): string {
  const value = (base + index) >>> 0
  return `${(value >>> 24) & 0xff}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`
}

const denyList = Array.from({ length: 10 }, (_, index) => `/ip4/203.0.${index}.0/ipcidr/24`)
const allowList: string[] = []

async function ourAdmission (): Promise<{ manager: ConnectionManager<MemoryRaw>, attempts: MemoryRaw[] }> {
  const manager = createConnectionManager({
    transport: memoryTransport,
    config: {
      maxConnections: OPEN,
      maxIncomingPendingConnections: 1_000_000,
      inboundConnectionThreshold: 1_000_000,
      denyList: denyList.map(entry => entry),
      allowList
    }
  })
  await manager.start()
  for (let index = 0; index < OPEN; index++) {
    const ip = address(index, 0x0a000000)
    await manager.accept({ remote: { ip, multiaddr: `/ip4/${ip}/tcp/4001` } })
  }
  if (manager.connections.count({ state: 'open' }) !== OPEN) throw new Error('setup: not all connections opened')
  const attempts = Array.from({ length: ATTEMPT_ADDRESSES }, (_, index) => {
    const ip = address(index, 0x0b000000)
    return { remote: JSON.parse(JSON.stringify({ ip, multiaddr: `/ip4/${ip}/tcp/5001` })) as RemoteAddress }
  })
  return { manager, attempts }
}

interface Libp2pConnectionManager {
  acceptIncomingConnection(maConn: { remoteAddr: unknown }): boolean
  afterUpgradeInbound(): void
  connections: { set(key: unknown, value: unknown[]): void }
}

async function libp2pAdmission (): Promise<{ cm: Libp2pConnectionManager, attempts: Array<{ remoteAddr: unknown }> }> {
  const url = new URL('./connection-manager/index.js', import.meta.resolve('libp2p'))
  const { DefaultConnectionManager } = await import(url.href) as { DefaultConnectionManager: new (components: unknown, init: unknown) => Libp2pConnectionManager }
  const cm = new DefaultConnectionManager({
    peerId: { toString: () => 'self' },
    peerStore: {},
    peerRouting: {},
    transportManager: {},
    connectionGater: {},
    events: new TypedEventEmitter(),
    logger: defaultLogger()
  }, {
    maxConnections: OPEN,
    maxIncomingPendingConnections: 1_000_000,
    inboundConnectionThreshold: 1_000_000,
    deny: denyList,
    allow: allowList
  })
  for (let index = 0; index < OPEN; index++) {
    const peer = { toString: () => `peer-${index}` }
    cm.connections.set(peer, [{ remotePeer: peer, remoteAddr: multiaddr(`/ip4/${address(index, 0x0a000000)}/tcp/4001`), status: 'open', direction: 'inbound', streams: [] }])
  }
  const attempts = Array.from({ length: 2_000 }, (_, index) => ({ remoteAddr: multiaddr(`/ip4/${address(index, 0x0b000000)}/tcp/5001`) }))
  return { cm, attempts }
}

export const managerAdmissionSuite: BenchSuite = {
  name: 'manager',
  description: `inbound admission, every stage, with ${OPEN.toLocaleString('en')} connections open`,
  baseline: 'js-libp2p acceptIncomingConnection',
  tasks: async () => {
    const ours = await ourAdmission()
    const theirs = await libp2pAdmission()
    let next = 0
    let nextTheirs = 0
    return [
      {
        name: 'js-libp2p acceptIncomingConnection',
        fn: () => {
          const attempt = theirs.attempts[nextTheirs++ % theirs.attempts.length]!
          if (theirs.cm.acceptIncomingConnection(attempt)) theirs.cm.afterUpgradeInbound()
        }
      },
      {
        name: '@cm/manager accept (refused at maxConnections)',
        batch: 100,
        fn: () => {
          for (let index = 0; index < 100; index++) {
            void ours.manager.accept(ours.attempts[next++ % ours.attempts.length]!)
          }
        }
      }
    ]
  },
  report: () => ({
    lines: [
      '',
      'Both refuse every attempt at the last stage (maxConnections, with 10,000 open), after the',
      'deny list, the allow list, the pending limit and the rate limit have admitted it.'
    ]
  }),
  targets: [{
    package: '@cm/manager',
    target: 'admission, every stage, 10,000 open: median under 1 µs',
    evaluate: ({ rows }) => {
      const ours = rowNamed(rows, '@cm/manager accept (refused at maxConnections)')
      return { measured: `${formatNs(ours.medianNs)} (js-libp2p: ${formatNs(rowNamed(rows, 'js-libp2p acceptIncomingConnection').medianNs)})`, met: ours.medianNs < 1_000 }
    }
  }]
}

/** The load generator, a child process (see `support/tcp-clients.ts`). */
class Clients {
  readonly #child: ChildProcess
  constructor () {
    this.#child = fork(fileURLToPath(new URL('../support/tcp-clients.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  }

  /** Runs `count` connections against `port`; resolves with how many were served. */
  async run (port: number, count: number, parallel: number): Promise<number> {
    return await new Promise(resolve => {
      this.#child.once('message', (reply: { served: number }) => { resolve(reply.served) })
      this.#child.send({ port, count, parallel })
    })
  }

  close (): void {
    this.#child.disconnect()
  }
}

const BATCH = 200
const PARALLEL = 20

export const managerTcpSuite: BenchSuite = {
  name: 'manager-tcp',
  description: `loopback TCP: time per accepted connection (${BATCH} per sample, ${PARALLEL} at a time, clients in a separate process), managed against a bare net.Server`,
  baseline: 'bare net.Server',
  tasks: async () => {
    const clients = new Clients()
    const bare: Server = createServer(socket => { socket.end('ok') })
    await new Promise<void>(resolve => { bare.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, resolve) })
    const barePort = (bare.address() as { port: number }).port
    const managed = createConnectionManager({
      transport: tcp({ backlog: 1024 }),
      config: { maxConnections: 1_000, maxIncomingPendingConnections: 1_000, inboundConnectionThreshold: 1_000_000 },
      onConnection: connection => { connection.raw.end('ok') }
    })
    await managed.start()
    const managedPort = Number((await managed.listen('/ip4/127.0.0.1/tcp/0')).addresses[0]?.split('/')[4])
    const denying = createConnectionManager({ transport: tcp({ backlog: 1024 }), config: { denyList: ['127.0.0.0/8'] } })
    await denying.start()
    const denyingPort = Number((await denying.listen('/ip4/127.0.0.1/tcp/0')).addresses[0]?.split('/')[4])
    interleave = async () => await interleavedRatio(clients, barePort, managedPort)
    cleanup = async () => {
      clients.close()
      await new Promise(resolve => { bare.close(resolve) })
      await managed.stop()
      await denying.stop()
    }
    return [
      { name: 'bare net.Server', batch: BATCH, fn: async () => { expectServed(await clients.run(barePort, BATCH, PARALLEL), BATCH, 'bare') } },
      { name: '@cm/manager (tcp), admitted', batch: BATCH, fn: async () => { expectServed(await clients.run(managedPort, BATCH, PARALLEL), BATCH, 'managed') } },
      { name: '@cm/manager (tcp), denied and reset', batch: BATCH, fn: async () => { expectServed(await clients.run(denyingPort, BATCH, PARALLEL), 0, 'denied') } }
    ]
  },
  report: async () => {
    try {
      const interleaved = await interleave?.()
      return {
        lines: ['', 'Per connection: connect, admission, one byte served, close. Accepted connections per second: 1 s / the median per connection.', ...interleaved?.lines ?? []],
        figures: { ratio: interleaved?.ratio ?? Number.NaN }
      }
    } finally {
      // Also when a round fails: the client process and the servers would keep this one alive.
      await cleanup?.()
    }
  },
  targets: [{
    package: '@cm/manager',
    target: 'accepted connections per second over loopback TCP, managed / bare, at least 0.9',
    evaluate: ({ figures }) => ({ measured: `median ratio ${(figures['ratio'] ?? Number.NaN).toFixed(2)} over 100 interleaved rounds`, met: (figures['ratio'] ?? 0) >= 0.9 })
  }]
}

/** Fails the benchmark when a batch was not served as its server should serve it. */
function expectServed (served: number, expected: number, name: string): void {
  if (served !== expected) throw new Error(`${name}: ${served} of ${BATCH} connections served, expected ${expected}`)
}

let cleanup: (() => Promise<void>) | undefined
let interleave: (() => Promise<{ lines: string[], ratio: number }>) | undefined

const ROUNDS = 100

/**
 * The accept-rate ratio measured so that drift on a shared machine falls on both sides:
 * {@link ROUNDS} rounds of one batch against the bare server and one against the managed
 * one, back to back, the order swapped every round. Reports the median time per
 * connection of each and the median of the per-round ratios.
 */
async function interleavedRatio (clients: Clients, barePort: number, managedPort: number): Promise<{ lines: string[], ratio: number }> {
  const serve = (port: number, name: string) => async (): Promise<void> => {
    expectServed(await clients.run(port, BATCH, PARALLEL), BATCH, `interleaved rounds, ${name}`)
  }
  const pairs = await interleavedTimes(ROUNDS, serve(barePort, 'bare'), serve(managedPort, 'managed'))
  // Microseconds per connection.
  const bare = pairs.map(([bareMs]) => bareMs * 1_000 / BATCH)
  const managed = pairs.map(([, managedMs]) => managedMs * 1_000 / BATCH)
  const ratios = pairs.map(([bareMs, managedMs]) => bareMs / managedMs)
  return {
    lines: [
      '',
      `Interleaved (${ROUNDS} rounds of ${BATCH} connections against each server, back to back, order swapped every round): median ${median(bare).toFixed(1)} µs per connection bare, ${median(managed).toFixed(1)} µs managed; accept-rate ratio managed / bare: median ${median(ratios).toFixed(2)} over the rounds (${Math.min(...ratios).toFixed(2)} to ${Math.max(...ratios).toFixed(2)}).`
    ],
    ratio: median(ratios)
  }
}
