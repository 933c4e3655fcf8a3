/**
 * The phases of the attack suite. Each starts a server of its own, attacks it from this
 * process on loopback, bounded in count and in time, and judges it from outside the manager:
 * sockets held at the `net.Server` (counted by the server process itself), the kernel's
 * socket table for the port, the heap after GC, and what a good client experiences.
 */
import { setMaxListeners } from 'node:events'
import { attempt, goodClient, hold, loops, refused, resetAtOnce, sleep, sourceAddress } from './clients.ts'
import { countKernelSockets } from './kernel.ts'
import { ServerProcess } from './server-process.ts'
import type { Ending } from './clients.ts'
import type { ServerOptions, ServerStats } from './protocol.ts'
import type { Socket } from 'node:net'

/** One check of a phase and whether it held. */
export interface Check {
  readonly name: string
  readonly ok: boolean
}

/** A good client's record: attempts, those served, and how the others ended. */
export interface GoodRecord {
  served: number
  attempts: number
  readonly failures: Partial<Record<Ending, number>>
}

/** What a phase measured. */
export interface PhaseResult {
  readonly phase: string
  /** What the attackers did, in a few words. */
  readonly attack: string
  /** Connections the attackers attempted. */
  readonly attempts: number
  /** The bound on sockets held, where one applies. */
  readonly limit: number | undefined
  /** The most sockets the server held at once (counted at the net.Server). */
  readonly peakHeld: number
  /** The most server-side sockets in the kernel's table for the port (LISTEN left out). */
  readonly peakKernel: number
  /** The most unsent bytes in those sockets' send queues at once. */
  readonly peakUnsentBytes: number
  /** Server-side kernel sockets left once the phase settled, and how long that took. */
  readonly kernelLeft: number
  readonly settleMs: number
  /** Heap after GC at the end minus at the start, bytes. */
  readonly heapDeltaBytes: number
  /** A good client's attempts, where one was measured. */
  readonly good: GoodRecord | undefined
  /** Refusals per second, managed and against a bare accept-and-reset server. */
  readonly refusals: { readonly managed: number, readonly bare: number } | undefined
  /** Other figures, for the notes. */
  readonly notes: readonly string[]
  readonly checks: readonly Check[]
}

/** How long and how hard: `short` for CI, full for the README's table. */
export interface Scale {
  readonly short: boolean
}

/** A signal that many sockets may listen to at once, without Node's leak warning. */
function unlimited (signal: AbortSignal): AbortSignal {
  setMaxListeners(0, signal)
  return signal
}

/** A timed abort signal: every load loop stops by itself. */
function deadline (ms: number): AbortSignal {
  return unlimited(AbortSignal.timeout(ms))
}

/** A controller whose signal many sockets may listen to. */
/** The middle value (the mean of the two middle ones for an even count). */
function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

function controller (): AbortController {
  const made = new AbortController()
  unlimited(made.signal)
  return made
}

/** Samples the kernel's table for a port every 25 ms until stopped: the peaks. */
class KernelSampler {
  peakSockets = 0
  peakUnsent = 0
  readonly #timer: ReturnType<typeof setInterval>

  constructor (port: number) {
    this.#timer = setInterval(() => {
      const count = countKernelSockets(port)
      this.peakSockets = Math.max(this.peakSockets, count.sockets)
      this.peakUnsent = Math.max(this.peakUnsent, count.sendQueue)
    }, 25)
  }

  stop (): void {
    clearInterval(this.#timer)
  }
}

/** Waits until the server side holds no kernel socket for the port (or `limitMs` passes). */
async function kernelSettles (port: number, limitMs: number, remote?: (address: string) => boolean): Promise<{ left: number, ms: number, states: string }> {
  const started = performance.now()
  for (;;) {
    const count = countKernelSockets(port, remote)
    const ms = performance.now() - started
    if (count.sockets === 0 || ms >= limitMs) return { left: count.sockets, ms, states: JSON.stringify(count.byState) }
    await sleep(10)
  }
}

function tally (record: GoodRecord, ending: Ending): void {
  record.attempts++
  if (ending === 'served') record.served++
  else record.failures[ending] = (record.failures[ending] ?? 0) + 1
}

function newRecord (): GoodRecord {
  return { served: 0, attempts: 0, failures: {} }
}

/** Probes with a good client every `everyMs` until `until` aborts. */
async function probeGoodClient (port: number, from: string, everyMs: number, until: AbortSignal): Promise<GoodRecord> {
  const record = newRecord()
  while (!until.aborted) {
    const started = performance.now()
    tally(record, await goodClient(port, from))
    await sleep(Math.max(0, everyMs - (performance.now() - started)))
  }
  return record
}

/**
 * `hosts` hosts (127.`block`.x.y), each opening a connection every `everyMs` until `until`
 * aborts; each connection is held as `holding` says. Resolves once they stop opening, with
 * the attempts made and the connections, which resolve when they end.
 */
async function paced (port: number, pace: { readonly hosts: number, readonly block: number, readonly everyMs: number, readonly until: AbortSignal }, holding: Parameters<typeof hold>[2]): Promise<{ attempts: number, held: Array<Promise<void>> }> {
  const held: Array<Promise<void>> = []
  await Promise.all(Array.from({ length: pace.hosts }, async (_, host) => {
    while (!pace.until.aborted) {
      held.push(hold(port, sourceAddress(pace.block, host), holding))
      await sleep(pace.everyMs)
    }
  }))
  return { attempts: held.length, held }
}

const share = (record: GoodRecord): number => record.attempts === 0 ? 0 : record.served / record.attempts

/** A server under attack, with the kernel sampled from the start of the attack. */
class Run {
  readonly server: ServerProcess
  readonly #sampler: KernelSampler
  readonly #before: ServerStats

  private constructor (server: ServerProcess, before: ServerStats) {
    this.server = server
    this.#before = before
    this.#sampler = new KernelSampler(server.port)
  }

  get port (): number {
    return this.server.port
  }

  /** Starts a server, warms it with a few good connections, takes the heap baseline. */
  static async start (options: ServerOptions): Promise<Run> {
    const server = await ServerProcess.start(options)
    for (let index = 0; index < 20; index++) await goodClient(server.port, sourceAddress(9, index), 5_000)
    const before = await server.stats()
    await server.request({ type: 'reset-peak' })
    return new Run(server, before)
  }

  /**
   * Waits for the kernel to let go of the port's sockets (up to `settleLimitMs`), stops the
   * server, and builds the phase's result.
   */
  async finish (phase: Omit<PhaseResult, 'peakHeld' | 'peakKernel' | 'peakUnsentBytes' | 'kernelLeft' | 'settleMs' | 'heapDeltaBytes' | 'checks' | 'notes'> & {
    readonly settleLimitMs: number
    readonly settled?: { left: number, ms: number, states: string }
    readonly notes?: readonly string[]
    readonly checks: (after: ServerStats, settled: { left: number, ms: number }) => readonly Check[]
  }): Promise<PhaseResult> {
    const settled = phase.settled ?? await kernelSettles(this.port, phase.settleLimitMs)
    this.#sampler.stop()
    const after = await this.server.stats()
    await this.server.stop()
    const notes = [...phase.notes ?? [], `refused by reason: ${JSON.stringify(after.refusedBy)}`]
    if (after.evicted > 0) notes.push(`pending connections evicted: ${after.evicted}`)
    if (after.closeTimeouts > 0) notes.push(`closes timed out (and reset): ${after.closeTimeouts}`)
    if (phase.good !== undefined && phase.good.served < phase.good.attempts) notes.push(`good client's failures: ${JSON.stringify(phase.good.failures)}`)
    if (settled.left > 0) notes.push(`kernel sockets left by state: ${settled.states}`)
    return {
      phase: phase.phase,
      attack: phase.attack,
      attempts: phase.attempts,
      limit: phase.limit,
      peakHeld: after.peakHeld,
      peakKernel: this.#sampler.peakSockets,
      peakUnsentBytes: this.#sampler.peakUnsent,
      kernelLeft: settled.left,
      settleMs: settled.ms,
      heapDeltaBytes: after.heapUsed - this.#before.heapUsed,
      good: phase.good,
      refusals: phase.refusals,
      notes,
      checks: [...phase.checks(after, settled)]
    }
  }
}

const noKernelSocketLeft = (settled: { left: number }): Check => ({ name: 'no kernel socket left', ok: settled.left === 0 })
const goodServed = (record: GoodRecord, least = 0.9): Check => ({ name: `good client served in ${least * 100}% of attempts`, ok: share(record) >= least })

/** Opens a connection that completes its handshake and then reads nothing; undefined if refused. */
async function openUnread (port: number, from: string): Promise<Socket | undefined> {
  const { ending, socket } = await attempt(port, from, { hello: true, timeoutMs: 5_000 })
  if (ending !== 'served') return undefined
  socket.pause()
  return socket
}

/**
 * A flood from 500 source addresses over `maxConnections`: the slots are held by open
 * connections, and every flood attempt is refused. The same flood runs against a bare server
 * that accepts and resets every connection, in alternating rounds. The clients share the
 * machine with the server, so the refusals each server could sustain are counted per second
 * of its own CPU time, as well as per second of wall time.
 */
export async function flood (scale: Scale): Promise<PhaseResult> {
  const maxConnections = scale.short ? 50 : 100
  // Many short rounds, each server in turn, the order swapped every round: the machine's
  // speed drifts by more than the gap being measured (CPU per refusal moved from 42 to 61 µs
  // between two runs), so each pair is compared with itself and the median pair is judged.
  // The first rounds are warm-up, counted nowhere: the managed server's refusals per CPU
  // second rose from 0.54 of the bare server's in its first round to 0.82 in the next two,
  // while the JIT compiled its path, and held at 0.94-1.01 after.
  const warmup = 3
  const rounds = scale.short ? 8 : 16
  const roundMs = scale.short ? 600 : 1_000
  const parallel = 200
  const run = await Run.start({ mode: 'managed', config: { maxConnections, maxConnectionsPerPeer: 1 } })
  const bareServer = await ServerProcess.start({ mode: 'bare' })
  const holders = controller()
  const holding = Array.from({ length: maxConnections }, (_, index) => hold(run.port, sourceAddress(1, index), { hello: true, read: true, until: holders.signal }))
  // Bounded like every other wait: once, the holders stalled at 10 held (not reproduced).
  const holdersIn = deadline(20_000)
  while ((await run.server.stats()).held < maxConnections) {
    if (holdersIn.aborted) throw new Error(`flood: only ${(await run.server.stats()).held} of ${maxConnections} holders got in within 20 s`)
    await sleep(20)
  }
  const totals = { managed: { refused: 0, attempts: 0, measured: 0, cpu: 0, ms: 0 }, bare: { refused: 0, attempts: 0, measured: 0, cpu: 0, ms: 0 } }
  const ratios = { cpu: [] as number[], wall: [] as number[] }
  for (let round = -warmup; round < rounds; round++) {
    const rates = { managed: { cpu: 0, wall: 0 }, bare: { cpu: 0, wall: 0 } }
    for (const mode of round % 2 === 0 ? ['managed', 'bare'] as const : ['bare', 'managed'] as const) {
      const server = mode === 'managed' ? run.server : bareServer
      const total = totals[mode]
      const cpu = server.cpuSeconds()
      const started = performance.now()
      let refusedNow = 0
      const attempts = await loops(parallel, Number.MAX_SAFE_INTEGER, deadline(roundMs), async index => {
        const { ending } = await attempt(server.port, sourceAddress(2, index % 500), { hello: false, timeoutMs: 2_000 })
        if (refused(ending)) refusedNow++
      })
      const ms = performance.now() - started
      const cpuUsed = server.cpuSeconds() - cpu
      // Every attempt counts towards "every flood attempt refused", warm-up included.
      total.attempts += attempts
      total.refused += refusedNow
      if (round < 0) continue
      total.measured += refusedNow
      total.ms += ms
      total.cpu += cpuUsed
      rates[mode] = { cpu: refusedNow / cpuUsed, wall: refusedNow / ms }
    }
    if (round < 0) continue
    ratios.cpu.push(rates.managed.cpu / rates.bare.cpu)
    ratios.wall.push(rates.managed.wall / rates.bare.wall)
  }
  holders.abort()
  await Promise.all(holding)
  await bareServer.stop()
  const perCpu = { managed: totals.managed.measured / totals.managed.cpu, bare: totals.bare.measured / totals.bare.cpu }
  const cpuRatio = median(ratios.cpu)
  // The target is 0.9, and the full run judges it. CI's five seconds per server measure the
  // ratio less closely, so the short run guards against a regression (0.75) rather than
  // re-judging the target. The managed server pays a getpeername() per connection that the
  // bare one never calls: it must read the address to judge it.
  const cpuFloor = scale.short ? 0.75 : 0.9
  const refusals = { managed: totals.managed.measured / totals.managed.ms * 1_000, bare: totals.bare.measured / totals.bare.ms * 1_000 }
  return await run.finish({
    phase: 'flood',
    attack: `${maxConnections} connections held open, then 500 hosts, ${parallel} at a time, ${rounds} rounds of ${roundMs / 1_000} s against each server after ${warmup} of warm-up`,
    attempts: totals.managed.attempts,
    limit: maxConnections,
    good: undefined,
    refusals,
    settleLimitMs: 2_000,
    notes: [
      `refusals per second of server CPU, managed / bare: median of ${rounds} rounds ${cpuRatio.toFixed(2)}× (rounds ${Math.min(...ratios.cpu).toFixed(2)}-${Math.max(...ratios.cpu).toFixed(2)}); in all, ${Math.round(perCpu.managed)} managed and ${Math.round(perCpu.bare)} bare, server CPU per refusal ${(1e6 / perCpu.managed).toFixed(1)} µs and ${(1e6 / perCpu.bare).toFixed(1)} µs`,
      `refusals per second of wall time, managed / bare: median of ${rounds} rounds ${median(ratios.wall).toFixed(2)}×`
    ],
    checks: (after, settled) => [
      { name: 'sockets held within maxConnections', ok: after.peakHeld <= maxConnections },
      { name: 'every flood attempt refused', ok: totals.managed.refused === totals.managed.attempts },
      { name: `refusals per second of server CPU at least ${cpuFloor} of a bare server's (median round)`, ok: cpuRatio >= cpuFloor },
      noKernelSocketLeft(settled)
    ]
  })
}

/**
 * One host bursts as fast as it can, its connections never finishing their handshakes; a
 * good client from another host keeps connecting.
 */
export async function burst (scale: Scale): Promise<PhaseResult> {
  const count = scale.short ? 1_000 : 3_000
  const maxConnections = 100
  const run = await Run.start({ mode: 'managed', config: { maxConnections, maxConnectionsPerPeer: 1 } })
  const probing = controller()
  const good = probeGoodClient(run.port, '127.0.0.2', 250, probing.signal)
  const attempts = await loops(100, count, deadline(20_000), async () => {
    await hold(run.port, '127.4.0.1', { hello: false, read: false, until: unlimited(AbortSignal.timeout(1_000)) })
  })
  probing.abort()
  const goodRecord = await good
  return await run.finish({
    phase: 'one-host burst',
    attack: `${count} connections from one host, 100 at a time, no handshake`,
    attempts,
    limit: maxConnections,
    good: goodRecord,
    refusals: undefined,
    settleLimitMs: 2_000,
    checks: (after, settled) => [
      { name: 'sockets held within maxConnections', ok: after.peakHeld <= maxConnections },
      goodServed(goodRecord),
      noKernelSocketLeft(settled)
    ]
  })
}

/**
 * A slowloris: 30 hosts, each opening connections at its whole rate budget (5 a second)
 * and never finishing a handshake, so that the pending slots stay full. A good client whose
 * handshake takes no time connects twice a second.
 */
export async function slowloris (scale: Scale): Promise<PhaseResult> {
  const seconds = scale.short ? 12 : 30
  const hosts = 30
  const maxIncomingPendingConnections = 10
  const run = await Run.start({ mode: 'managed', config: { inboundUpgradeTimeout: 10_000, maxIncomingPendingConnections, inboundConnectionThreshold: 5 } })
  const phaseEnd = deadline(seconds * 1_000)
  const attackers = paced(run.port, { hosts, block: 5, everyMs: 200, until: phaseEnd }, { hello: false, read: false, until: phaseEnd })
  await sleep(1_000) // the slots fill first
  const good = await probeGoodClient(run.port, '127.0.0.2', 500, phaseEnd)
  const { attempts, held } = await attackers
  await Promise.all(held)
  return await run.finish({
    phase: 'slowloris',
    attack: `${hosts} hosts × 5 connections/s for ${seconds} s, never finishing the handshake`,
    attempts,
    limit: maxIncomingPendingConnections,
    good,
    refusals: undefined,
    settleLimitMs: 2_000,
    checks: (after, settled) => [
      { name: 'sockets held within maxIncomingPendingConnections (+ the good client\'s)', ok: after.peakHeld <= maxIncomingPendingConnections + 1 },
      goodServed(good),
      noKernelSocketLeft(settled)
    ]
  })
}

/**
 * Clients that never read while the server writes 4 MiB to each and closes it after
 * 200 ms: the graceful close cannot finish, so it times out and must reset the socket. The
 * clients keep their sockets; the server's must be gone within `connectionCloseTimeout` +
 * 200 ms of its close.
 */
export async function neverRead (scale: Scale): Promise<PhaseResult> {
  const seconds = scale.short ? 4 : 8
  const maxConnections = 20
  const closeAfterMs = 200
  const connectionCloseTimeout = 1_000
  const run = await Run.start({ mode: 'managed', config: { maxConnections, maxConnectionsPerPeer: 1, connectionCloseTimeout }, payloadBytes: 4 * 1024 * 1024, closeAfterMs })
  const clientsLeave = controller()
  // 40 hosts, each a new connection every 250 ms (within its rate), none of them ever read.
  const { attempts, held: kept } = await paced(run.port, { hosts: 40, block: 3, everyMs: 250, until: deadline(seconds * 1_000) }, { hello: true, read: false, until: clientsLeave.signal })
  const bound = closeAfterMs + connectionCloseTimeout + 200
  const settled = await kernelSettles(run.port, bound + 2_000)
  clientsLeave.abort()
  await Promise.all(kept)
  return await run.finish({
    phase: 'never-read clients',
    attack: `40 hosts × 4 connections/s for ${seconds} s; 4 MiB written to each and closed after ${closeAfterMs} ms, never read`,
    attempts,
    limit: maxConnections,
    good: undefined,
    refusals: undefined,
    settleLimitMs: 0,
    settled,
    checks: after => [
      { name: 'sockets held within maxConnections', ok: after.peakHeld <= maxConnections },
      { name: `kernel sockets gone within ${bound} ms of the last attempt, the clients still there`, ok: settled.left === 0 && settled.ms <= bound }
    ]
  })
}

/** Connections reset by the client at once, many before the server has accepted them. */
export async function resets (scale: Scale): Promise<PhaseResult> {
  const count = scale.short ? 2_000 : 10_000
  const run = await Run.start({ mode: 'managed', config: { inboundConnectionThreshold: 50 } })
  const probing = controller()
  const good = probeGoodClient(run.port, '127.0.0.2', 250, probing.signal)
  const attempts = await loops(100, count, deadline(60_000), async index => { await resetAtOnce(run.port, sourceAddress(8, index % 200)) })
  probing.abort()
  const goodRecord = await good
  await sleep(200)
  const tracked = (await run.server.stats()).tracked
  return await run.finish({
    phase: 'immediate resets',
    attack: `${count} connections reset by the client at once, 200 hosts`,
    attempts,
    limit: undefined,
    good: goodRecord,
    refusals: undefined,
    settleLimitMs: 2_000,
    notes: [`connections the manager still tracked 200 ms after: ${tracked}`],
    checks: (_, settled) => [
      { name: 'nothing tracked once the resets are over', ok: tracked === 0 },
      goodServed(goodRecord),
      noKernelSocketLeft(settled)
    ]
  })
}

/**
 * A range is banned at run time while 50 of its hosts hold open connections that do not
 * read (1 MiB written to each): every one must be gone from the kernel within
 * `connectionCloseTimeout` + 200 ms, and the range refused from then on.
 */
export async function ban (): Promise<PhaseResult> {
  const connectionCloseTimeout = 1_000
  const hosts = 50
  const run = await Run.start({ mode: 'managed', config: { connectionCloseTimeout }, payloadBytes: 1024 * 1024 })
  const sockets: Socket[] = []
  for (let index = 0; index < hosts; index++) {
    const socket = await openUnread(run.port, sourceAddress(6, index))
    if (socket !== undefined) sockets.push(socket)
  }
  const probing = controller()
  const good = probeGoodClient(run.port, '127.0.0.2', 250, probing.signal)
  await sleep(300)
  const reply = await run.server.request({ type: 'deny', entry: '127.6.0.0/16' })
  const settled = await kernelSettles(run.port, connectionCloseTimeout + 2_000, address => address.startsWith('127.6.'))
  const afterBan = await Promise.all(Array.from({ length: 10 }, async (_, index) => await attempt(run.port, sourceAddress(6, index), { hello: true, timeoutMs: 2_000 })))
  await sleep(300)
  probing.abort()
  const goodRecord = await good
  for (const socket of sockets) socket.resetAndDestroy()
  const bound = connectionCloseTimeout + 200
  return await run.finish({
    phase: 'runtime ban',
    attack: `${hosts} hosts of 127.6.0.0/16 hold connections that do not read (1 MiB each); the range is banned`,
    attempts: hosts + afterBan.length,
    limit: undefined,
    good: goodRecord,
    refusals: undefined,
    settleLimitMs: 2_000,
    notes: [`connections the ban closed: ${reply.closed ?? 0} of ${sockets.length} open; their kernel sockets gone after ${Math.round(settled.ms)} ms`],
    checks: (_, left) => [
      { name: 'the ban closed every connection of the range', ok: sockets.length === hosts && reply.closed === hosts },
      { name: `their kernel sockets gone within ${bound} ms`, ok: settled.left === 0 && settled.ms <= bound },
      { name: 'the range refused afterwards', ok: afterBan.every(each => refused(each.ending)) },
      goodServed(goodRecord, 1),
      noKernelSocketLeft(left)
    ]
  })
}

/**
 * A churn of connections (connect, handshake, answer, reset), in ten batches with the heap
 * after GC taken after each: after two batches of warm-up it must stay flat (within 1 MiB).
 */
export async function churn (scale: Scale): Promise<PhaseResult> {
  const count = scale.short ? 10_000 : 100_000
  const batches = 10
  const run = await Run.start({ mode: 'managed', config: { inboundConnectionThreshold: 100, maxIncomingPendingConnections: 100 } })
  const record = newRecord()
  const checkpoints: number[] = []
  const stopAfter = deadline(600_000)
  for (let batch = 0; batch < batches; batch++) {
    await loops(64, count / batches, stopAfter, async index => {
      tally(record, await goodClient(run.port, sourceAddress(7, index % 1_000)))
    })
    checkpoints.push((await run.server.stats()).heapUsed)
  }
  const warm = checkpoints.slice(2)
  const spread = Math.max(...warm) - Math.min(...warm)
  return await run.finish({
    phase: 'churn',
    attack: `${count} connections, 64 at a time, 1,000 hosts`,
    attempts: record.attempts,
    limit: undefined,
    good: record,
    refusals: undefined,
    settleLimitMs: 2_000,
    notes: [`heap after GC after each tenth (MiB): ${checkpoints.map(bytes => (bytes / 2 ** 20).toFixed(2)).join(', ')}; spread after warm-up ${(spread / 1024).toFixed(0)} KiB`],
    checks: (_, settled) => [
      { name: 'every connection served', ok: record.served === count },
      { name: 'heap after GC flat within 1 MiB after two tenths of warm-up', ok: spread <= 2 ** 20 },
      noKernelSocketLeft(settled)
    ]
  })
}

/** Every phase, in the order they run. */
export const PHASES: ReadonlyArray<{ readonly name: string, readonly run: (scale: Scale) => Promise<PhaseResult> }> = [
  { name: 'flood', run: flood },
  { name: 'burst', run: burst },
  { name: 'slowloris', run: slowloris },
  { name: 'never-read', run: neverRead },
  { name: 'resets', run: resets },
  { name: 'ban', run: ban },
  { name: 'churn', run: churn }
]
