import { fork, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { createFleet, createFleetAdmin } from '@cm/fleet'
import { createGate } from '@cm/gate'
import { createConnectionManager } from '@cm/manager'
import { tcp } from '@cm/manager/tcp'
import { createClient } from '@redis/client'
import { RateLimiterRedis } from 'rate-limiter-flexible'
import { interleavedTimes, percentile } from '../harness.ts'
import type { BenchSuite, SuiteReport } from '../harness.ts'
import { memoryTransport } from '../support/memory-transport.ts'
import type { MemoryRaw } from '../support/memory-transport.ts'
import type { Fleet } from '@cm/fleet'
import type { ChildProcess } from 'node:child_process'

/**
 * `@cm/fleet` against no fleet and against rate-limiter-flexible's `RateLimiterRedis`, on
 * one redis-server of the suite's own (127.0.0.1, a free port, no persistence).
 *
 * Tasks: `manager.accept` of an admitted connection (then closed) over an in-memory
 * transport, without a fleet (the baseline), with only an empty admission observer
 * (`manager.observeAdmissions`, the hook the fleet counts attempts through: its share of the
 * cost), and with a fleet attached and its budget on (the accept path then also counts the
 * attempt: no I/O);
 * the fleet's cost per attempt against `RateLimiterRedis.consume` (one round trip to Redis
 * per check).
 *
 * Report: the admission ratio the target judges, measured again in interleaved rounds (the
 * two managers in turn, the median of the rounds' ratios), for IPv4 and for IPv6 hosts; ban propagation from `deny()` to
 * enforced on every node, with 3 and 30 nodes following one Redis (p50, p99 of 200 bans);
 * rule changes applied per second by a node; Redis commands per attempt (INFO commandstats)
 * for each limiter.
 */

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}

async function startRedis (): Promise<{ url: string, stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'cm-bench-redis-'))
  const port = await freePort()
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  await new Promise<void>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => { reject(new Error(`redis-server did not start within 10 s (apt-get install -y redis-server)\n${output}`)) }, 10_000)
    child.once('error', error => { clearTimeout(timer); reject(new Error(`redis-server could not be started: ${error.message} (apt-get install -y redis-server)`)) })
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString()
      if (output.includes('Ready to accept connections')) { clearTimeout(timer); resolve() }
    })
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await new Promise(resolve => { child.once('exit', resolve); child.kill('SIGKILL') })
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A distinct IPv6 address in a /64 of its own for each index. */
function ip6 (index: number): string {
  return `2001:db8:${(index >>> 16).toString(16)}:${(index & 0xffff).toString(16)}::1`
}

function ip (index: number): string {
  const value = (0x0b000000 + index) >>> 0
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`
}

/** Bans written on node 0, timed until every node's gate refuses them. */
async function propagation (url: string, count: number, bans: number): Promise<{ p50: number, p99: number }> {
  const prefix = `bench:prop${count}:`
  const nodes = Array.from({ length: count }, (_, index) => {
    const gate = createGate()
    const fleet = createFleet({ redis: { url }, prefix, node: `n${index}`, syncIntervalMs: 100 })
    fleet.attach({ gate })
    return { gate, fleet }
  })
  await Promise.all(nodes.map(async node => { await node.fleet.start({ signal: AbortSignal.timeout(20_000) }) }))
  const times: number[] = []
  for (let index = 0; index < bans; index++) {
    const host = ip(index)
    let remaining = count
    let done: () => void = () => {}
    const all = new Promise<void>(resolve => { done = resolve })
    const listeners = nodes.map(node => {
      const listener = (): void => { if (!node.gate.check(host).allowed && --remaining === 0) done() }
      node.fleet.events.addEventListener('rule:apply', listener)
      return listener
    })
    const started = performance.now()
    await nodes[0]!.fleet.deny(host, { ttl: 60_000 })
    if (!nodes[0]!.gate.check(host).allowed) remaining-- // the writer enforces it at once
    if (remaining > 0) await all
    times.push(performance.now() - started)
    nodes.forEach((node, at) => { node.fleet.events.removeEventListener('rule:apply', listeners[at]) })
  }
  await Promise.all(nodes.map(async node => { await node.fleet.stop() }))
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) }
}

/**
 * Rule changes applied per second by one node: the node is cut off (CLIENT KILL), `changes`
 * changes are written meanwhile, and the node catches up from the log when it reconnects;
 * timed from its reconnection to the last change applied, so that the writer's pace does not count.
 */
async function applyRate (url: string, changes: number): Promise<number> {
  const fleet = createFleet({ redis: { url }, prefix: 'bench:rate:', node: 'follower', reconnect: { initialDelayMs: 5_000, maxDelayMs: 5_000 } })
  fleet.attach({ gate: createGate() })
  await fleet.start()
  const admin = createFleetAdmin({ redis: { url }, prefix: 'bench:rate:' })
  const raw = createClient({ url })
  raw.on('error', () => {})
  await raw.connect()
  for (const line of (await raw.sendCommand<string>(['CLIENT', 'LIST'])).split('\n').filter(each => each.includes('name=cm-fleet:follower'))) {
    await raw.sendCommand(['CLIENT', 'KILL', 'ID', /id=([0-9]+)/.exec(line)?.[1] ?? ''])
  }
  while (fleet.state !== 'disconnected') await new Promise(resolve => setTimeout(resolve, 5))
  let applied = 0
  let resyncedAt = 0
  let last = 0
  fleet.events.addEventListener('fleet:state', event => { if (event.detail.state === 'synced') resyncedAt = performance.now() })
  fleet.events.addEventListener('rule:apply', () => { applied++; last = performance.now() })
  for (let offset = 0; offset < changes; offset += 1_000) {
    await Promise.all(Array.from({ length: Math.min(1_000, changes - offset) }, async (_, index) => await admin.deny(ip(offset + index), { ttl: 600_000 })))
  }
  const written = performance.now()
  while (applied < changes) await new Promise(resolve => setTimeout(resolve, 5))
  admin.close()
  raw.destroy()
  await fleet.stop()
  if (resyncedAt < written) throw new Error('the node reconnected before the changes were all written: the figure would count the writer')
  return changes / ((last - resyncedAt) / 1_000)
}

async function commandCount (client: { sendCommand: (args: string[]) => Promise<unknown> }): Promise<number> {
  const stats = String(await client.sendCommand(['INFO', 'commandstats']))
  let total = 0
  for (const match of stats.matchAll(/^cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/gm)) {
    if (match[1] !== 'info') total += Number(match[2])
  }
  return total
}

let cleanup: (() => Promise<void>) | undefined
let interleaved: ((family: 4 | 6) => Promise<number[]>) | undefined
let report: SuiteReport = { lines: [] }
const INTERLEAVED_ROUNDS = 60
const INTERLEAVED_BATCHES = 100

export const fleetSuite: BenchSuite = {
  name: 'fleet',
  description: 'admission with a fleet attached, its cost per attempt against RateLimiterRedis, ban propagation and rule changes (report)',
  baseline: '@cm/manager accept + close, no fleet',
  tasks: async () => {
    const redis = await startRedis()
    const client = createClient({ url: redis.url })
    client.on('error', () => {})
    await client.connect()

    const makeManager = async (): Promise<ReturnType<typeof createConnectionManager<MemoryRaw>>> => {
      const manager = createConnectionManager({ transport: memoryTransport, config: { maxConnections: 100_000, maxIncomingPendingConnections: 100_000, inboundConnectionThreshold: 1_000_000 } })
      await manager.start()
      return manager
    }
    const bare = await makeManager()
    const withObserver = await makeManager()
    withObserver.observeAdmissions(() => {})
    const withFleet = await makeManager()
    const fleet: Fleet = createFleet({ redis: { url: redis.url }, prefix: 'bench:admission:', budget: { limit: 1_000_000 } })
    fleet.attach(withFleet)
    await fleet.start()
    const attempts = Array.from({ length: 50_000 }, (_, index) => ({ remote: { ip: ip(index), multiaddr: `/ip4/${ip(index)}/tcp/5001` } }))
    // The same flood from IPv6 hosts, each in a /64 of its own (the fleet's default key).
    const attempts6 = Array.from({ length: 50_000 }, (_, index) => ({ remote: { ip: ip6(index), multiaddr: `/ip6/${ip6(index)}/tcp/5001` } }))
    let next = 0
    const acceptAndClose = (manager: typeof bare, from = attempts) => async () => {
      for (let index = 0; index < 100; index++) {
        const result = await manager.accept(from[next++ % from.length]!)
        if (result.outcome === 'open') await result.connection.close()
      }
    }

    // Redis commands per attempt: 20,000 attempts from 200 hosts through each limiter.
    const rlf = new RateLimiterRedis({ storeClient: client, useRedisPackage: true, keyPrefix: 'bench:rlf', points: 1_000_000, duration: 1 })
    const perAttempt = async (run: (host: string) => Promise<unknown>, settle: number): Promise<number> => {
      const before = await commandCount(client)
      for (let index = 0; index < 20_000; index++) await run(ip(index % 200))
      await new Promise(resolve => setTimeout(resolve, settle))
      return ((await commandCount(client)) - before - 1) / 20_000
    }
    const counting = createFleet({ redis: { url: redis.url }, prefix: 'bench:ops:', budget: { limit: 1_000_000 }, syncIntervalMs: 100 })
    const countingManager = await makeManager()
    counting.attach(countingManager)
    await counting.start()
    const fleetOps = await perAttempt(async host => {
      const result = await countingManager.accept({ remote: { ip: host, multiaddr: `/ip4/${host}/tcp/1` } })
      if (result.outcome === 'open') await result.connection.close()
    }, 250)
    const rlfOps = await perAttempt(async host => await rlf.consume(host), 0)
    await counting.stop()
    await countingManager.stop()

    // Interleaved, because a table row's median is taken over seconds of its own, and the
    // baseline's alone moved between 4.4 and 12.3 µs from run to run. Rounds of 10,000
    // accepts (tens of milliseconds), so that each carries its share of garbage collection.
    interleaved = async from => {
      const accepts = (manager: typeof bare) => async (): Promise<void> => {
        for (let batch = 0; batch < INTERLEAVED_BATCHES; batch++) await acceptAndClose(manager, from === 6 ? attempts6 : attempts)()
      }
      const pairs = await interleavedTimes(INTERLEAVED_ROUNDS, accepts(bare), accepts(withFleet))
      return pairs.map(([without, withTheFleet]) => withTheFleet / without)
    }

    const three = await propagation(redis.url, 3, 200)
    const thirty = await propagation(redis.url, 30, 200)
    const rate = await applyRate(redis.url, 20_000)
    report = {
      figures: { threeP99: three.p99, thirtyP99: thirty.p99, rate },
      lines: [
      '',
      `Ban propagation, deny() on one node until every node's gate refuses (200 bans, one Redis on loopback): 3 nodes p50 ${three.p50.toFixed(2)} ms, p99 ${three.p99.toFixed(2)} ms; 30 nodes p50 ${thirty.p50.toFixed(2)} ms, p99 ${thirty.p99.toFixed(2)} ms.`,
      `Rule changes applied by one node: ${Math.round(rate).toLocaleString('en')} per second (20,000 changes read from the log after an outage, from its reconnection to the last one applied).`,
      `Redis commands per admitted attempt (INFO commandstats, scripts' inner commands included; 20,000 attempts from 200 hosts): @cm/fleet ${fleetOps.toFixed(3)}, RateLimiterRedis ${rlfOps.toFixed(2)}.`
      ]
    }
    cleanup = async () => {
      await fleet.stop()
      await bare.stop()
      await withObserver.stop()
      await withFleet.stop()
      client.destroy()
      await redis.stop()
    }
    let rlfNext = 0
    return [
      { name: '@cm/manager accept + close, no fleet', batch: 100, fn: acceptAndClose(bare) },
      { name: '@cm/manager accept + close, an empty admission observer', batch: 100, fn: acceptAndClose(withObserver) },
      { name: '@cm/manager accept + close, fleet attached (budget on)', batch: 100, fn: acceptAndClose(withFleet) },
      { name: 'RateLimiterRedis.consume (one Redis round trip)', batch: 10, fn: async () => { for (let index = 0; index < 10; index++) await rlf.consume(ip(rlfNext++ % 10_000)) } }
    ]
  },
  report: async () => {
    const ratios = await interleaved?.(4) ?? []
    const ratios6 = await interleaved?.(6) ?? []
    await cleanup?.()
    const line = (family: string, of: number[]): string => `${family} ${percentile(of, 0.5).toFixed(3)} (quartiles ${percentile(of, 0.25).toFixed(3)}-${percentile(of, 0.75).toFixed(3)})`
    return {
      figures: { ...report.figures, admissionRatio: percentile(ratios, 0.5), admissionRatio6: percentile(ratios6, 0.5) },
      lines: [
        ...report.lines,
        `Interleaved, ${INTERLEAVED_ROUNDS} rounds of ${INTERLEAVED_BATCHES * 100} accepts on each manager, the order swapped every round: time with the fleet / without, median ${line('IPv4 hosts', ratios)}; ${line('IPv6 hosts (a /64 each)', ratios6)}.`
      ]
    }
  },
  targets: [{
    package: '@cm/fleet',
    target: 'ban propagation p99 under 50 ms, 3 and 30 nodes',
    evaluate: ({ figures }) => {
      const three = figures['threeP99'] ?? Number.NaN
      const thirty = figures['thirtyP99'] ?? Number.NaN
      return { measured: `p99 ${three.toFixed(1)} ms at 3 nodes, ${thirty.toFixed(1)} ms at 30`, met: three < 50 && thirty < 50 }
    }
  }, {
    package: '@cm/fleet',
    target: 'admission with the fleet attached within 1.1× of without (in memory)',
    evaluate: ({ figures }) => {
      const ratio = figures['admissionRatio'] ?? Number.NaN
      const ratio6 = figures['admissionRatio6'] ?? Number.NaN
      return { measured: `IPv4 hosts ${ratio.toFixed(2)}×, IPv6 hosts ${ratio6.toFixed(2)}×, medians of ${INTERLEAVED_ROUNDS} interleaved rounds`, met: ratio <= 1.1 && ratio6 <= 1.1 }
    }
  }, {
    package: '@cm/fleet',
    target: 'rule changes applied per second per node, at least 10,000',
    evaluate: ({ figures }) => ({ measured: `${Math.round(figures['rate'] ?? 0).toLocaleString('en')} per second`, met: (figures['rate'] ?? 0) >= 10_000 })
  }]
}

let tcpCleanup: (() => Promise<void>) | undefined
let tcpInterleaved: (() => Promise<SuiteReport>) | undefined
const TCP_BATCH = 200
const TCP_PARALLEL = 20

/**
 * The same comparison over loopback TCP, as a service sees it: connections from a client
 * process of its own (`support/tcp-clients.ts`: connect, read one byte, close) against a
 * managed server without a fleet (the baseline) and with a fleet attached, budget on.
 */
export const fleetTcpSuite: BenchSuite = {
  name: 'fleet',
  description: `admission over loopback TCP (${TCP_BATCH} connections per sample, ${TCP_PARALLEL} at a time, clients in a separate process), with a fleet attached against without`,
  baseline: '@cm/manager (tcp), no fleet',
  tasks: async () => {
    const redis = await startRedis()
    const child = fork(fileURLToPath(new URL('../support/tcp-clients.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const run = async (port: number): Promise<number> => await new Promise(resolve => {
      child.once('message', (reply: { served: number }) => { resolve(reply.served) })
      child.send({ port, count: TCP_BATCH, parallel: TCP_PARALLEL })
    })
    const serve = async (): Promise<{ manager: ReturnType<typeof createConnectionManager>, port: number }> => {
      const manager = createConnectionManager({
        transport: tcp({ backlog: 1024 }),
        config: { maxConnections: 1_000, maxIncomingPendingConnections: 1_000, inboundConnectionThreshold: 1_000_000 },
        onConnection: connection => { connection.raw.end('ok') }
      })
      await manager.start()
      const port = Number((await manager.listen('/ip4/127.0.0.1/tcp/0')).addresses[0]?.split('/')[4])
      return { manager, port }
    }
    const bare = await serve()
    const managed = await serve()
    const fleet = createFleet({ redis: { url: redis.url }, prefix: 'bench:tcp:', budget: { limit: 1_000_000 } })
    fleet.attach(managed.manager)
    await fleet.start()
    tcpCleanup = async () => {
      child.disconnect()
      await fleet.stop()
      await bare.manager.stop()
      await managed.manager.stop()
      await redis.stop()
    }
    const expectServed = (served: number): void => { if (served !== TCP_BATCH) throw new Error(`served ${served} of ${TCP_BATCH}`) }
    tcpInterleaved = async () => {
      // The median ratio of accept rates, with / without the fleet.
      const serve = (port: number) => async (): Promise<void> => { expectServed(await run(port)) }
      const pairs = await interleavedTimes(40, serve(bare.port), serve(managed.port))
      const sorted = pairs.map(([without, withTheFleet]) => without / withTheFleet).sort((a, b) => a - b)
      return {
        lines: [
          '',
          `Interleaved, 40 rounds of ${TCP_BATCH} connections to each server, the order swapped every round: accept rate with the fleet / without, median ${percentile(sorted, 0.5).toFixed(3)} (quartiles ${percentile(sorted, 0.25).toFixed(3)}-${percentile(sorted, 0.75).toFixed(3)}).`
        ],
        figures: { ratio: percentile(sorted, 0.5) }
      }
    }
    return [
      { name: '@cm/manager (tcp), no fleet', batch: TCP_BATCH, fn: async () => { expectServed(await run(bare.port)) } },
      { name: '@cm/manager (tcp), fleet attached (budget on)', batch: TCP_BATCH, fn: async () => { expectServed(await run(managed.port)) } }
    ]
  },
  report: async () => {
    const interleaved = await tcpInterleaved?.() ?? { lines: [] }
    await tcpCleanup?.()
    return interleaved
  },
  targets: [{
    package: '@cm/fleet',
    target: 'admission over loopback TCP with the fleet attached within 1.1× of without',
    evaluate: ({ figures }) => ({ measured: `accept-rate ratio ${(figures['ratio'] ?? Number.NaN).toFixed(3)}, median of 40 interleaved rounds`, met: (figures['ratio'] ?? 0) >= 1 / 1.1 })
  }]
}
