import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { SafeEventEmitter } from '@cm/config/events'
import { createGate } from '@cm/gate'
import { createConnectionManager } from '@cm/manager'
import { afterEach, describe, expect, it } from 'vitest'
import { createFleet, createFleetAdmin, FleetStoppedError } from '../src/index.ts'
import { allIn, rawClient, until } from './support/fleet.ts'
import { freePort, startRedis } from './support/redis.ts'
import type { Fleet, FleetAttemptEvents, FleetInit, FleetRuleRejectDetail } from '../src/index.ts'
import type { RedisServer } from './support/redis.ts'
import type { DefaultGate } from '@cm/gate'
import type { RemoteAddress, Transport } from '@cm/manager'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function redisServer (options?: Parameters<typeof startRedis>[0]): Promise<RedisServer> {
  const server = await startRedis(options)
  cleanups.push(async () => { await server.stop() })
  return server
}

interface MemoryRaw { readonly remote: RemoteAddress }

/** A transport whose connections are handed to `manager.accept` by the test, and close at once. */
const memoryTransport: Transport<MemoryRaw> = {
  dial: async () => await Promise.reject(new Error('not used')),
  listen: async address => ({ addresses: [address], close: async () => {} }),
  close: async () => {},
  abort: () => {},
  remoteAddress: raw => raw.remote,
  onClose: () => {}
}

/** Nodes made of a gate and a fleet each, in this process. */
async function nodes (url: string, count: number, init: FleetInit = {}): Promise<Array<{ gate: DefaultGate, fleet: Fleet }>> {
  const made = Array.from({ length: count }, (_, index) => {
    const gate = createGate()
    const fleet = createFleet({ syncIntervalMs: 50, reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, node: `node-${index}`, ...init, redis: { url, ...init.redis } })
    fleet.attach({ gate })
    cleanups.push(async () => { await fleet.stop() })
    return { gate, fleet }
  })
  await Promise.all(made.map(async node => { await node.fleet.start({ signal: AbortSignal.timeout(10_000) }) }))
  return made
}

describe('Fleet, over a real Redis', () => {
  it('a ban written on one node is refused by every node, and a TTL lapses on all of them together', async () => {
    const redis = await redisServer()
    const [a, b, c] = await nodes(redis.url, 3)
    const rule = await a!.fleet.deny('203.0.113.0/24', { ttl: 600 })
    expect(rule).toMatchObject({ list: 'deny', entry: '203.0.113.0/24', seq: 1, by: 'node-0' })
    expect(a!.gate.check('203.0.113.9').reason).toBe('deny-list') // at once on the writer
    await until(() => [b, c].every(node => node!.gate.check('203.0.113.9').reason === 'deny-list'), 'the ban on B and C', 2_000)
    const lapsedAt: number[] = []
    await until(() => {
      for (const [index, node] of [a, b, c].entries()) {
        if (lapsedAt[index] === undefined && node!.gate.check('203.0.113.9').allowed) lapsedAt[index] = Date.now()
      }
      return lapsedAt.filter(each => each !== undefined).length === 3
    }, 'the ban to lapse everywhere', 3_000)
    expect(Math.max(...lapsedAt) - Math.min(...lapsedAt)).toBeLessThan(100)
    expect(Math.min(...lapsedAt)).toBeGreaterThanOrEqual((rule.expiresAt ?? 0) - 30)
    await until(() => [a, b, c].every(node => node!.fleet.rules().length === 0), 'the rule to leave every fleet', 500)
  })

  it('allow and trusted rules with TTLs, removals, and an operator writing through createFleetAdmin()', async () => {
    const redis = await redisServer()
    const [a, b] = await nodes(redis.url, 2)
    const admin = createFleetAdmin({ redis: { url: redis.url }, name: 'ops' })
    cleanups.push(() => { admin.close() })
    await admin.trust('192.0.2.0/24', { ttl: 300 })
    await admin.deny('/ip4/198.51.100.7/tcp/4001')
    await until(() => b!.gate.check('192.0.2.5').trusted && !b!.gate.check('198.51.100.7').allowed, 'the operator rules on B')
    expect((await admin.rules()).map(rule => `${rule.list} ${rule.entry} ${rule.by}`)).toEqual(['deny 198.51.100.7 ops', 'trusted 192.0.2.0/24 ops'])
    await until(() => !a!.gate.check('192.0.2.5').trusted, 'the trusted rule to lapse', 2_000)
    expect(await admin.remove('deny', '198.51.100.7')).toBe(true)
    await until(() => a!.gate.check('198.51.100.7').allowed && b!.gate.check('198.51.100.7').allowed, 'the removal everywhere')
    expect(a!.fleet.metrics().rules).toEqual({ deny: 0, allow: 0, trusted: 0 })
  })

  it('the cm-fleet command writes, lists and removes rules', async () => {
    const redis = await redisServer()
    const [a] = await nodes(redis.url, 1)
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
    const run = (...args: string[]): string => execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CM_FLEET_URL: redis.url, USER: 'ops' } })
    expect(run('deny', '/ip4/203.0.113.0/ipcidr/24', '--ttl', '1h')).toMatch(/^deny 203\.0\.113\.0\/24 until \S+ \(change #1\)/)
    await until(() => a!.gate.check('203.0.113.5').reason === 'deny-list', 'the ban on the node')
    expect(run('list')).toMatch(/^deny\t203\.0\.113\.0\/24\t\S+\tops\n$/)
    expect(run('remove', 'deny', '203.0.113.0/24')).toBe('removed deny 203.0.113.0/24\n')
    await until(() => a!.gate.check('203.0.113.5').allowed, 'the removal on the node')
    expect(() => run('deny', '1.2.3.4/33')).toThrow(/prefix length/)
  })

  it('Redis killed: every node keeps its bans and says so; a ban written meanwhile reaches every node when Redis is back (AOF keeps the rest)', async () => {
    const redis = await redisServer({ appendOnly: true })
    const [a, b, c] = await nodes(redis.url, 3)
    await a!.fleet.deny('203.0.113.0/24')
    await until(() => c!.gate.check('203.0.113.1').reason === 'deny-list', 'the first ban on C')
    const states: string[] = []
    b!.fleet.events.addEventListener('fleet:state', event => { states.push(event.detail.state) })

    await redis.kill()
    await allIn([a!.fleet, b!.fleet, c!.fleet], 'disconnected')
    expect(b!.fleet.metrics()).toMatchObject({ state: 'disconnected', connected: 0 })
    for (const node of [a, b, c]) expect(node!.gate.check('203.0.113.1').reason).toBe('deny-list')

    const pending = b!.fleet.deny('198.51.100.0/24', { ttl: 60_000 })
    expect(b!.gate.check('198.51.100.1').reason).toBe('deny-list') // at once on B, Redis or not
    expect(a!.gate.check('198.51.100.1').allowed).toBe(true)
    expect(b!.fleet.metrics().queuedWrites).toBe(1)

    await redis.restart()
    await pending
    await until(() => [a, b, c].every(node => node!.gate.check('198.51.100.1').reason === 'deny-list'), 'the new ban everywhere')
    for (const node of [a, b, c]) expect(node!.gate.check('203.0.113.1').reason).toBe('deny-list')
    await allIn([a!.fleet, b!.fleet, c!.fleet], 'synced')
    expect(states).toEqual(['disconnected', 'synced'])
    expect(b!.fleet.metrics()).toMatchObject({ connected: 1, localRules: 0, queuedWrites: 0, resyncs: { start: 1, gap: 0, epoch: 0 } }) // resumed from the log
  })

  it('a node stopped and started again reloads the snapshot, including what it missed', async () => {
    const redis = await redisServer()
    const [a, b] = await nodes(redis.url, 2)
    await a!.fleet.deny('203.0.113.0/24')
    await until(() => !b!.gate.check('203.0.113.1').allowed, 'the ban on B')
    await b!.fleet.stop()
    expect(b!.gate.check('203.0.113.1').allowed).toBe(true) // stop() takes the fleet's rules off
    await a!.fleet.deny('198.51.100.0/24')
    await a!.fleet.remove('deny', '203.0.113.0/24')
    await b!.fleet.start()
    expect(b!.gate.check('198.51.100.1').reason).toBe('deny-list')
    expect(b!.gate.check('203.0.113.1').allowed).toBe(true)
    expect(b!.fleet.metrics().resyncs.start).toBe(2)
  })

  it('a node further behind than the trimmed log reloads the snapshot (gap), and loses nothing', async () => {
    const redis = await redisServer()
    const [a] = await nodes(redis.url, 1, { logLength: 100 })
    const [c] = await nodes(redis.url, 1, { logLength: 100, node: 'late', reconnect: { initialDelayMs: 1_500, maxDelayMs: 1_500 } })
    await a!.fleet.deny('203.0.113.0/24')
    await until(() => !c!.gate.check('203.0.113.1').allowed, 'the first ban on the late node')
    // Cut the late node off, then write far more than the log keeps.
    const raw = await rawClient(redis.url)
    cleanups.push(() => { raw.close() })
    const clients = String(await raw.send('CLIENT', 'LIST'))
    for (const line of clients.split('\n').filter(each => each.includes('name=cm-fleet:late'))) {
      await raw.send('CLIENT', 'KILL', 'ID', /id=([0-9]+)/.exec(line)?.[1] ?? '')
    }
    await until(() => c!.fleet.state === 'disconnected', 'the late node to notice')
    await Promise.all(Array.from({ length: 400 }, async (_, index) => await a!.fleet.deny(`10.${index >> 8}.${index & 255}.1`)))
    await a!.fleet.remove('deny', '203.0.113.0/24')
    expect(Number(await raw.send('XLEN', 'cm:fleet:log'))).toBeLessThan(300)
    await until(() => c!.fleet.state === 'synced', 'the late node back', 5_000)
    await until(() => c!.fleet.metrics().rules.deny === 400, 'the 400 bans on the late node')
    expect(c!.fleet.metrics().resyncs.gap).toBe(1)
    expect(c!.gate.check('203.0.113.1').allowed).toBe(true)
    expect(c!.gate.check('10.1.143.1').reason).toBe('deny-list')
  })

  it('Redis restarted empty (no persistence): nodes keep their rules and write them back', async () => {
    const redis = await redisServer({ appendOnly: false })
    const [a, b] = await nodes(redis.url, 2)
    await a!.fleet.deny('203.0.113.0/24')
    await a!.fleet.trust('192.0.2.1', { ttl: 60_000 })
    await until(() => b!.fleet.metrics().rules.deny === 1 && b!.fleet.metrics().rules.trusted === 1, 'both rules on B')
    await redis.restart()
    await until(() => a!.fleet.metrics().resyncs.epoch === 1 && b!.fleet.metrics().resyncs.epoch === 1, 'both nodes to see the store was lost')
    for (const node of [a, b]) expect(node!.gate.check('203.0.113.1').reason).toBe('deny-list')
    const admin = createFleetAdmin({ redis: { url: redis.url } })
    cleanups.push(() => { admin.close() })
    let restored: string[] = []
    for (let tries = 0; tries < 100 && restored.length < 2; tries++) {
      restored = (await admin.rules()).map(rule => `${rule.list} ${rule.entry}`)
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    expect(restored).toEqual(['deny 203.0.113.0/24', 'trusted 192.0.2.1'])
  })

  it('hostile data in Redis is refused and reported: no crash, no ban lifted, no access widened', async () => {
    const redis = await redisServer()
    const [a, b] = await nodes(redis.url, 2)
    await a!.fleet.deny('203.0.113.0/24')
    await until(() => !b!.gate.check('203.0.113.1').allowed, 'the ban on B')
    const rejects: FleetRuleRejectDetail[] = []
    b!.fleet.events.addEventListener('rule:reject', event => { rejects.push(event.detail) })
    const raw = await rawClient(redis.url)
    cleanups.push(() => { raw.close() })
    const xadd = async (...fields: string[]): Promise<unknown> => await raw.send('XADD', 'cm:fleet:log', '*', ...fields)
    const seq = Number(await raw.send('HGET', 'cm:fleet:meta', 'seq'))
    await xadd('seq', String(seq + 1), 'op', 'del', 'list', 'deny', 'entry', '203.0.113.1/24', 'exp', '', 'by', 'x') // non-canonical: must not lift the /24
    await xadd('seq', String(seq + 1), 'op', 'set', 'list', 'trusted', 'entry', '0.0.0.0/0', 'exp', '0', 'by', 'x') // trust everyone
    await xadd('seq', String(seq + 1), 'op', 'set', 'list', 'deny', 'entry', 'A'.repeat(100_000), 'exp', '0', 'by', 'x')
    await xadd('seq', String(seq + 1), 'op', 'set', 'list', 'deny', 'entry', '198.51.100.1', 'exp', 'soon', 'by', 'x')
    await xadd('garbage', '\u0000\u00ff')
    await xadd('seq', '999999999', 'op', 'del', 'list', 'deny', 'entry', '203.0.113.0/24', 'exp', '', 'by', 'x') // forged: far ahead of the store
    await raw.send('HSET', 'cm:fleet:rules', 'allow ::/0', `${seq + 9} 0 x 1`, 'deny 198.51.100.9', 'not a value', 'junk', 'junk')
    await until(() => rejects.length >= 6, 'six rejections from the log')
    await b!.fleet.deny('192.0.2.66') // a genuine change after the garbage still gets through
    await until(() => !a!.gate.check('192.0.2.66').allowed, 'a good change after the hostile ones')
    expect(b!.gate.check('203.0.113.1').reason).toBe('deny-list')
    expect(b!.gate.check('8.8.8.8').trusted).toBe(false)
    expect(b!.fleet.state).toBe('synced')
    expect(rejects.map(reject => reject.reason)).toEqual([
      expect.stringMatching(/not canonical/),
      expect.stringMatching(/trusted rule 0\.0\.0\.0\/0 is wider than \/8/),
      expect.stringMatching(/1 to 256 characters/),
      expect.stringMatching(/bad expiry/),
      expect.stringMatching(/bad sequence number/),
      expect.stringMatching(/ahead of the store/)
    ])
    // A node starting now meets the hostile snapshot fields too.
    const [late] = await nodes(redis.url, 1, { node: 'late' })
    expect(late!.fleet.metrics().rejected).toBe(3)
    expect(late!.gate.check('203.0.113.1').reason).toBe('deny-list')
    expect(late!.gate.check('2001:db8::1').allowed).toBe(true) // the allow ::/0 was refused: no exclusive allow list appeared
    expect(late!.gate.size('allow')).toBe(0)
  })

  it('the budget: attempts reported by the events become holds, then a shared block on every node; a block never shortens a ban', async () => {
    const redis = await redisServer()
    // A long window, and a start well inside one: a window that ends between the attempts
    // and their sync would rightly bring no block, and a loaded machine can delay a sync.
    const windowMs = 60_000
    const [a, b] = await nodes(redis.url, 2, { budget: { limit: 10, windowMs } })
    const redisNow = (): number => Date.now() + a!.fleet.metrics().clockOffsetMs
    if (redisNow() % windowMs > windowMs - 5_000) await new Promise(resolve => setTimeout(resolve, windowMs - redisNow() % windowMs + 50))
    const events = new SafeEventEmitter<FleetAttemptEvents>()
    const gate = createGate({ trustedList: ['192.0.2.1'] })
    a!.fleet.attach({ gate, events })
    await a!.fleet.deny('198.51.100.7')
    await until(() => a!.fleet.metrics().budget?.nodes === 2, 'two live nodes')
    const pending = (ip: string): void => { events.safeDispatchEvent('connection:pending', { detail: { connection: { direction: 'inbound', remoteIp: ip } } }) }
    for (let index = 0; index < 20; index++) pending('192.0.2.1')
    expect(a!.fleet.metrics().budget?.keys).toBe(0) // trusted hosts are not counted
    for (let index = 0; index < 5; index++) pending('203.0.113.7')
    expect(gate.check('203.0.113.7').reason).toBe('deny-list') // held: 2 nodes × 5 reached 10
    const syncs = a!.fleet.metrics().budget?.syncs ?? 0
    await until(() => (a!.fleet.metrics().budget?.syncs ?? 0) >= syncs + 2, 'two syncs')
    expect(gate.check('203.0.113.7').allowed).toBe(true) // the fleet counted 5 of 10: released
    for (let index = 0; index < 10; index++) pending('203.0.113.7')
    for (let index = 0; index < 20; index++) pending('198.51.100.7')
    await until(() => !b!.gate.check('203.0.113.7').allowed, 'the shared block on B')
    const block = b!.fleet.rules('deny').find(rule => rule.entry === '203.0.113.7')
    expect(block).toMatchObject({ by: 'budget' })
    expect((block?.expiresAt ?? 0) % windowMs).toBe(0) // until the window ends
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(b!.fleet.rules('deny').find(rule => rule.entry === '198.51.100.7')).toMatchObject({ by: 'node-0' })
    expect(b!.fleet.rules('deny').find(rule => rule.entry === '198.51.100.7')?.expiresAt).toBeUndefined()
  })

  it('the budget counts a manager\'s admissions through its admission observer: no connection:pending listener; trusted hosts exempt; a hold refuses at accept', async () => {
    const redis = await redisServer()
    const manager = createConnectionManager<MemoryRaw>({ transport: memoryTransport, config: { inboundConnectionThreshold: 1_000, trustedList: ['192.0.2.1'] } })
    await manager.start()
    cleanups.push(async () => { await manager.stop() })
    const fleet = createFleet({ redis: { url: redis.url }, syncIntervalMs: 50, budget: { limit: 5, windowMs: 60_000 } })
    cleanups.push(async () => { await fleet.stop() })
    fleet.attach(manager)
    expect(manager.events.listenerCount('connection:pending')).toBe(0)
    await fleet.start({ signal: AbortSignal.timeout(10_000) })
    const accept = async (ip: string): Promise<string> => (await manager.accept({ remote: { ip, multiaddr: `/ip4/${ip}/tcp/1` } })).outcome
    for (let index = 0; index < 10; index++) expect(await accept('192.0.2.1')).toBe('open')
    expect(fleet.metrics().budget?.keys).toBe(0)
    for (let index = 0; index < 5; index++) expect(await accept('203.0.113.7')).toBe('open')
    expect(fleet.metrics().budget?.keys).toBe(1)
    expect(await accept('203.0.113.7')).toBe('refused') // 1 node × 5 reached 5: held
    expect(manager.metrics().refused['deny-list']).toBe(1)
  })

  it('a node that takes only deny rules refuses the others', async () => {
    const redis = await redisServer()
    const [a] = await nodes(redis.url, 1)
    const [strict] = await nodes(redis.url, 1, { node: 'strict', accept: ['deny'] })
    await a!.fleet.trust('192.0.2.1')
    await a!.fleet.deny('203.0.113.1')
    await until(() => !strict!.gate.check('203.0.113.1').allowed, 'the ban on the strict node')
    expect(strict!.gate.check('192.0.2.1').trusted).toBe(false)
    expect(strict!.fleet.metrics().rejected).toBe(1)
  })

  it('an ACL user with only the commands the fleet needs; a wrong password is reported, never fatal', async () => {
    const acl = 'on >s3cret ~cm:fleet:* resetchannels -@all +evalsha +eval +xread +hscan +hexists +ping +time +xadd +hset +hincrby +hdel +hsetnx +hmget +hget +zadd +zrem +zrangebyscore +zremrangebyscore +zcard +pexpire +client|setname'
    const redis = await redisServer({ args: ['--user', 'default', 'off', '--user', 'fleet', ...acl.split(' ')] })
    const [a, b] = await nodes(redis.url, 2, { redis: { username: 'fleet', password: 's3cret' }, budget: { limit: 5 } })
    await a!.fleet.deny('203.0.113.1', { ttl: 10_000 })
    await until(() => !b!.gate.check('203.0.113.1').allowed, 'the ban on B')
    await until(() => (b!.fleet.metrics().budget?.syncs ?? 0) > 2, 'a few syncs')
    const wrong = createFleet({ redis: { url: redis.url, username: 'fleet', password: 'nope' }, reconnect: { initialDelayMs: 50, maxDelayMs: 50 } })
    cleanups.push(async () => { await wrong.stop() })
    const errors: unknown[] = []
    wrong.events.addEventListener('fleet:state', event => { if (event.detail.error !== undefined) errors.push(event.detail.error) })
    await expect(wrong.start({ signal: AbortSignal.timeout(300) })).rejects.toThrow(/timeout|aborted/i)
    await until(() => errors.length > 0, 'the refusal to be reported')
    expect(wrong.state).toBe('disconnected')
    expect(String(errors[0])).toMatch(/WRONGPASS/)
  })

  it('TLS options are passed through to the client', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cm-fleet-tls-'))
    cleanups.push(() => { rmSync(dir, { recursive: true, force: true }) })
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
    const tlsPort = await freePort()
    await redisServer({ port: 0, args: ['--tls-port', String(tlsPort), '--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'), '--tls-ca-cert-file', join(dir, 'cert.pem'), '--tls-auth-clients', 'no'] })
    const ca = readFileSync(join(dir, 'cert.pem'))
    const [a, b] = await nodes(`rediss://127.0.0.1:${tlsPort}`, 2, { redis: { tls: { ca } } })
    await a!.fleet.deny('203.0.113.1')
    await until(() => !b!.gate.check('203.0.113.1').allowed, 'the ban over TLS')
    const untrusting = createFleet({ redis: { url: `rediss://127.0.0.1:${tlsPort}`, connectTimeoutMs: 1_000 }, reconnect: { initialDelayMs: 50, maxDelayMs: 50 } })
    cleanups.push(async () => { await untrusting.stop() })
    await expect(untrusting.start({ signal: AbortSignal.timeout(300) })).rejects.toThrow()
    await until(() => untrusting.state === 'disconnected', 'the TLS failure to be reported')
  })

  it('start() waits for Redis; stop() ends the wait and every queued write', async () => {
    const fleet = createFleet({ redis: { url: `redis://127.0.0.1:${await freePort()}` }, reconnect: { initialDelayMs: 20, maxDelayMs: 20 } })
    const gate = createGate()
    fleet.attach({ gate })
    const starting = fleet.start()
    await until(() => fleet.state === 'disconnected', 'the first failure')
    const write = fleet.deny('203.0.113.1')
    expect(gate.check('203.0.113.1').reason).toBe('deny-list')
    await fleet.stop()
    await expect(starting).rejects.toBeInstanceOf(FleetStoppedError)
    await expect(write).rejects.toBeInstanceOf(FleetStoppedError)
    expect(gate.size()).toBe(0)
    await expect(fleet.deny('203.0.113.1')).rejects.toBeInstanceOf(FleetStoppedError)
    await fleet.stop()
  })
})
