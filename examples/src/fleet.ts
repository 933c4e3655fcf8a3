/**
 * Example: a fleet of three managed TCP nodes sharing one deny list and one rate budget
 * through a local Redis. A subnet banned on one node is refused by all three; a host that
 * sprays the fleet is held to the fleet's budget, not three times it.
 *
 * The example starts its own redis-server (Debian's package: `apt-get install redis-server`)
 * on 127.0.0.1 and a free port, in a temporary folder, and stops it at the end.
 *
 * Run: pnpm --filter @cm/examples fleet
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { budgetBound, createFleet } from '@cm/fleet'
import { startServer } from './support/network.ts'
import { Report, sleep, until } from './support/report.ts'
import type { Server } from './support/network.ts'
import type { Fleet } from '@cm/fleet'
import type { ChildProcess } from 'node:child_process'

const report = new Report('A fleet of three nodes', [
  'Three @cm/manager TCP servers on 127.0.0.1, each with a @cm/fleet attached, and one redis-server',
  'started by the example. Clients connect from 127.x.y.z addresses.'
])

const LIMIT = 10 // attempts per second per host, across the fleet
let redis: ChildProcess | undefined
let dir: string | undefined
const nodes: Array<{ server: Server, fleet: Fleet }> = []
const result: Record<string, unknown> = {}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => { resolve(port) })
    })
  })
}

async function startRedis (port: number, folder: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', folder, '--save', '', '--appendonly', 'yes', '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  await new Promise<void>((resolve, reject) => {
    let output = ''
    child.once('error', error => { reject(new Error(`redis-server could not be started (${error.message}); install it with \`apt-get install -y redis-server\``)) })
    child.once('exit', code => { reject(new Error(`redis-server exited with code ${String(code)}:\n${output}`)) })
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString()
      if (output.includes('Ready to accept connections')) resolve()
    })
  })
  return child
}

await report.run(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cm-fleet-example-'))
  const port = await freePort()
  redis = await startRedis(port, dir)
  const url = `redis://127.0.0.1:${port}`
  report.line(`redis-server on ${url} (append-only file in a temporary folder)`)

  for (const name of ['a', 'b', 'c']) {
    const server = await startServer({
      config: { inboundConnectionThreshold: 1_000, maxIncomingPendingConnections: 100 },
      onConnection: connection => { connection.raw.end('ok\n') }
    })
    const fleet = createFleet({ redis: { url }, node: `node-${name}`, budget: { limit: LIMIT }, syncIntervalMs: 50 })
    fleet.attach(server.manager)
    await fleet.start({ signal: AbortSignal.timeout(5_000) })
    nodes.push({ server, fleet })
  }
  const [a, b, c] = nodes
  await until(() => nodes.every(node => node.fleet.metrics().budget?.nodes === 3), 'every node to see three live nodes')
  report.line(`three nodes on ports ${nodes.map(node => node.server.port).join(', ')}, all synced`)

  report.section('1. A subnet banned on node A is refused by B and C')
  const ban = await a!.fleet.deny('127.0.3.0/24', { ttl: 60_000 })
  report.line(`node-a: deny 127.0.3.0/24 for a minute (change #${ban.seq})`)
  await until(() => nodes.every(node => !node.server.manager.gate.check('127.0.3.7').allowed), 'the ban on every node', 2_000)
  const banned: string[] = []
  for (const [index, node] of nodes.entries()) {
    const { verdict } = await node.server.attempt('127.0.3.7')
    const other = await node.server.attempt('127.0.4.4')
    const name = ['a', 'b', 'c'][index]
    report.line(`node-${name}: 127.0.3.7 ${verdict.admitted ? 'admitted' : `refused (${verdict.reason}, rule ${verdict.rule ?? ''})`}; 127.0.4.4 ${other.verdict.admitted ? 'admitted' : 'refused'}`)
    report.check(!verdict.admitted && verdict.reason === 'deny-list', `node-${name} refuses the banned subnet`)
    report.check(other.verdict.admitted, `node-${name} admits a host outside it`)
    banned.push(verdict.admitted ? 'admitted' : verdict.reason)
  }
  result['banned'] = banned
  report.check(b!.fleet.rules('deny').some(rule => rule.entry === '127.0.3.0/24' && rule.by === 'node-a'), 'node B holds the rule node A wrote')

  report.section(`2. A host spraying all three nodes is held to the fleet budget (${LIMIT} per second)`)
  const host = '127.0.9.9'
  const started = Date.now()
  let sent = 0
  while (Date.now() - started < 1_500 && sent < 300) {
    const node = nodes[sent++ % 3]!
    node.server.connect(host)
    await sleep(5)
  }
  await sleep(200)
  const perNode = nodes.map(node => node.server.verdicts(host).filter(verdict => verdict.admitted).length)
  const admitted = perNode.reduce((sum, count) => sum + count, 0)
  const bound = budgetBound(LIMIT, 3)
  report.line(`${sent} attempts from ${host} in ${((Date.now() - started) / 1000).toFixed(1)} s, round robin: admitted ${perNode.join(' + ')} = ${admitted}`)
  report.line(`each node alone would have admitted up to 1,000 per second; the fleet's bound is ${bound} per window (budgetBound(${LIMIT}, 3))`)
  const windows = Math.ceil((Date.now() - started) / 1_000) + 1
  report.check(admitted >= LIMIT, `the host got at least its budget (${LIMIT})`)
  report.check(admitted <= bound * windows, `the host got no more than the bound over the ${windows} windows the spray touched (${bound * windows})`)
  report.check(admitted < sent / 2, 'most of the spray was refused')
  const refusals = nodes.flatMap(node => node.server.verdicts(host).filter(verdict => !verdict.admitted).map(verdict => verdict.admitted ? '' : verdict.reason))
  report.check(refusals.every(reason => reason === 'deny-list'), 'every refusal came from the fleet (a hold or the shared block), none from the local limiter')
  result['spray'] = { sent, admitted, perNode, bound, limit: LIMIT }
  const block = c!.fleet.rules('deny').find(rule => rule.entry === host)
  report.line(block === undefined ? 'the shared block has lapsed already' : `node-c holds the shared block on ${host} until ${new Date(block.expiresAt ?? 0).toISOString()} (by ${block.by})`)

  report.section('3. The link, as every node reports it')
  for (const node of nodes) {
    const metrics = node.fleet.metrics()
    report.line(`${node.fleet.node}: ${metrics.state}, ${metrics.rules.deny} deny rules, ${metrics.budget?.syncs ?? 0} budget syncs, clock offset ${metrics.clockOffsetMs} ms`)
  }
  result['states'] = nodes.map(node => node.fleet.state)
  report.finish(result)
}, async () => {
  for (const node of nodes) {
    await node.fleet.stop()
    await node.server.stop()
  }
  if (redis !== undefined && redis.exitCode === null) {
    const exited = new Promise(resolve => { redis?.once('exit', resolve) })
    redis.kill('SIGKILL')
    await exited
  }
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})
