import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createConnectionManager } from '@cm/manager'
import { tcp } from '@cm/manager/tcp'
import { afterEach, describe, expect, it } from 'vitest'
import { budgetBound, createFleet } from '../src/index.ts'
import { until } from './support/fleet.ts'
import { startRedis } from './support/redis.ts'
import { attempt, portOf } from './support/tcp.ts'
import type { Fleet, FleetBudgetInit } from '../src/index.ts'
import type { ConnectionManager } from '@cm/manager'
import type { ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Node {
  readonly manager: ConnectionManager<Socket>
  readonly fleet: Fleet
  readonly port: number
  /** Admitted inbound attempts: remote IP and the time by Redis's clock, as the node estimates it. */
  readonly admitted: Array<{ ip: string, at: number }>
}

/** Three managed TCP nodes in this process, each with a fleet attached. */
async function managedNodes (url: string, budget?: FleetBudgetInit): Promise<Node[]> {
  return await Promise.all([0, 1, 2].map(async index => {
    const manager = createConnectionManager({
      transport: tcp(),
      config: { inboundConnectionThreshold: 1_000, maxIncomingPendingConnections: 200, maxConnections: 1_000 },
      onConnection: connection => { connection.raw.end('ok') }
    })
    const fleet = createFleet({ redis: { url }, node: `tcp-${index}`, syncIntervalMs: 50, ...(budget === undefined ? {} : { budget }) })
    fleet.attach(manager)
    const admitted: Array<{ ip: string, at: number }> = []
    manager.events.addEventListener('connection:pending', event => {
      if (event.detail.connection.direction === 'inbound') admitted.push({ ip: event.detail.connection.remoteIp ?? '', at: Date.now() + fleet.metrics().clockOffsetMs })
    })
    await manager.start()
    const port = portOf((await manager.listen('/ip4/127.0.0.1/tcp/0')).addresses[0])
    await fleet.start({ signal: AbortSignal.timeout(10_000) })
    cleanups.push(async () => {
      await fleet.stop()
      await manager.stop()
    })
    return { manager, fleet, port, admitted }
  }))
}

describe('three managed TCP nodes and one Redis', () => {
  it('a subnet banned on A is refused by B and C at accept; the ban lapses on all three', async () => {
    const redis = await startRedis()
    cleanups.push(async () => { await redis.stop() })
    const [a, b, c] = await managedNodes(redis.url)
    expect(await attempt(b!.port, '127.0.7.7')).toBe('admitted')
    await a!.fleet.deny('127.0.7.0/24', { ttl: 800 })
    await until(() => [b, c].every(node => node!.manager.gate.check('127.0.7.9').reason === 'deny-list'), 'the ban on B and C', 2_000)
    for (const node of [a, b, c]) {
      expect(await attempt(node!.port, '127.0.7.9')).toBe('refused')
      expect(await attempt(node!.port, '127.0.8.9')).toBe('admitted')
    }
    expect(c!.manager.metrics().refused['deny-list']).toBe(1)
    await until(() => [a, b, c].every(node => node!.manager.gate.check('127.0.7.9').allowed), 'the lapse on all three', 2_000)
    for (const node of [a, b, c]) expect(await attempt(node!.port, '127.0.7.9')).toBe('admitted')
  })

  it('a host spraying all three nodes is held to the fleet budget, within budgetBound(limit, nodes) per window', async () => {
    const redis = await startRedis()
    cleanups.push(async () => { await redis.stop() })
    const limit = 30
    const nodes = await managedNodes(redis.url, { limit })
    await until(() => nodes.every(node => node.fleet.metrics().budget?.nodes === 3), 'every node to count three nodes')
    // The sprayer: 12 attempts in flight, round robin over the nodes, for 3.2 s or 60,000 attempts.
    // The time bound is the one meant to end it: a fast machine refuses 8,000 attempts in
    // under 2 s, which left fewer than two whole windows to judge.
    const started = Date.now()
    let sent = 0
    await Promise.all(Array.from({ length: 12 }, async () => {
      while (Date.now() - started < 3_200 && sent < 60_000) {
        const node = nodes[sent++ % 3]!
        await attempt(node.port, '127.0.9.9', 2_000)
      }
    }))
    const ended = Date.now()
    const windows = new Map<number, number>()
    for (const node of nodes) {
      for (const admission of node.admitted) {
        if (admission.ip !== '127.0.9.9') continue
        const window = Math.floor(admission.at / 1_000)
        windows.set(window, (windows.get(window) ?? 0) + 1)
      }
    }
    // Whole windows only: the first and the last were cut by the start and the end.
    const whole = [...windows.entries()].filter(([window]) => window * 1_000 >= started && (window + 1) * 1_000 <= ended)
    const bound = budgetBound(limit, 3)
    expect(whole.length).toBeGreaterThanOrEqual(2)
    for (const [, count] of whole) {
      expect(count).toBeGreaterThanOrEqual(limit - 3)
      expect(count).toBeLessThanOrEqual(bound)
    }
    // Each node alone would have admitted up to 1,000 per second: the fleet held the host.
    const perNode = nodes.map(node => node.admitted.filter(admission => admission.ip === '127.0.9.9').length)
    console.log(`fleet budget ${limit}/s over 3 nodes, bound ${bound}: ${sent} attempts, admitted per whole window ${whole.map(([, count]) => count).join(', ')}; per node ${perNode.join(', ')}`)
  })
})

/** A node in a process of its own (test/support/node-process.mjs), driven over IPC. */
class NodeProcess {
  readonly #child: ChildProcess
  readonly port: Promise<number>
  #next = 0

  constructor (url: string, node: string) {
    this.#child = fork(fileURLToPath(new URL('./support/node-process.mjs', import.meta.url)), [JSON.stringify({ url, node })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.port = new Promise((resolve, reject) => {
      this.#child.once('error', reject)
      this.#child.once('message', (message: { port: number }) => { resolve(message.port) })
    })
  }

  async call (command: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#next
    return await new Promise((resolve, reject) => {
      const onMessage = (message: { id?: number, ok: boolean, reply?: unknown, error?: string }): void => {
        if (message.id !== id) return
        this.#child.off('message', onMessage)
        if (message.ok) resolve(message.reply)
        else reject(new Error(message.error))
      }
      this.#child.on('message', onMessage)
      this.#child.send({ id, command, ...fields })
    })
  }

  async exit (): Promise<void> {
    if (this.#child.exitCode !== null) return
    const exited = new Promise(resolve => { this.#child.once('exit', resolve) })
    this.#child.send({ id: 0, command: 'exit' })
    await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 3_000))])
    this.#child.kill('SIGKILL')
  }
}

describe('three nodes in processes of their own', () => {
  it('ban on A refused by B and C; Redis killed, a ban written on B meanwhile, Redis back: every node converges; a restarted node reloads', async () => {
    const redis = await startRedis({ appendOnly: true })
    cleanups.push(async () => { await redis.stop() })
    const start = (name: string): NodeProcess => {
      const node = new NodeProcess(redis.url, name)
      cleanups.push(async () => { await node.exit() })
      return node
    }
    const processes = ['a', 'b', 'c'].map(start)
    const [a, b, c] = processes
    const ports = await Promise.all(processes.map(async node => await node.port))
    await Promise.all(processes.map(async node => await node.call('start')))

    await a!.call('deny', { entry: '127.0.5.0/24' })
    const refusedEverywhere = async (host: string): Promise<boolean> => (await Promise.all(ports.map(async port => await attempt(port, host)))).every(outcome => outcome === 'refused')
    for (let tries = 0; tries < 100 && !(await refusedEverywhere('127.0.5.5')); tries++) await new Promise(resolve => setTimeout(resolve, 20))
    expect(await refusedEverywhere('127.0.5.5')).toBe(true)
    expect(await attempt(ports[1]!, '127.0.6.6')).toBe('admitted')

    await redis.kill()
    const disconnected = async (): Promise<boolean> => (await Promise.all(processes.map(async node => await node.call('metrics') as { connected: number }))).every(metrics => metrics.connected === 0)
    for (let tries = 0; tries < 200 && !(await disconnected()); tries++) await new Promise(resolve => setTimeout(resolve, 20))
    expect(await disconnected()).toBe(true)
    expect(await refusedEverywhere('127.0.5.5')).toBe(true) // known bans hold without Redis
    await b!.call('deny', { entry: '127.0.6.0/24', wait: false })
    expect(await attempt(ports[1]!, '127.0.6.6')).toBe('refused')
    expect(await attempt(ports[2]!, '127.0.6.6')).toBe('admitted')

    await redis.restart()
    for (let tries = 0; tries < 200 && !(await refusedEverywhere('127.0.6.6')); tries++) await new Promise(resolve => setTimeout(resolve, 20))
    expect(await refusedEverywhere('127.0.6.6')).toBe(true)
    expect(await refusedEverywhere('127.0.5.5')).toBe(true)
    const metrics = await b!.call('metrics') as { states: string[], connected: number }
    expect(metrics.connected).toBe(1)
    expect(metrics.states).toEqual(['connecting', 'synced', 'disconnected', 'synced'])

    await c!.exit()
    const restarted = start('c')
    const port = await restarted.port
    await restarted.call('start')
    expect(await attempt(port, '127.0.5.5')).toBe('refused')
    expect(await attempt(port, '127.0.6.6')).toBe('refused')
    expect(await attempt(port, '127.0.4.4')).toBe('admitted')
    expect(await restarted.call('metrics')).toMatchObject({ resyncs: { start: 1 }, rules: { deny: 2 } })
  })
})
