import { getEventListeners } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { InvalidConfigError } from '@cm/config'
import { InvalidCandidateError, ProtectionRegistry, Pruner, PrunerStoppedError } from '../src/index.ts'
import { candidate } from './fixtures.ts'
import type { CloseContext, PruneCandidate, PrunerInit, PruneReport } from '../src/index.ts'

/** A fake node: the open connections, a closer that deletes them, a fake clock. */
function node (connections: PruneCandidate[], init: Partial<PrunerInit> = {}): {
  open: Map<string | number, PruneCandidate>
  pruner: Pruner
  listed: Array<string | undefined>
  closes: Array<{ id: string | number, context: CloseContext }>
  clock: { time: number, now: () => number }
} {
  const open = new Map(connections.map(entry => [entry.id, entry]))
  const listed: Array<string | undefined> = []
  const closes: Array<{ id: string | number, context: CloseContext }> = []
  const clock = { time: 0, now: () => clock.time }
  const pruner = new Pruner({
    connections: peer => {
      listed.push(peer)
      return open.values()
    },
    close: (victim, context) => {
      closes.push({ id: victim.id, context })
      return open.delete(victim.id)
    },
    clock,
    ...init
  })
  return { open, pruner, listed, closes, clock }
}

function many (count: number, fields: (index: number) => Partial<PruneCandidate> = () => ({})): PruneCandidate[] {
  return Array.from({ length: count }, (_, index) => candidate(index, { value: index, ...fields(index) }))
}

function closedIds (report: PruneReport): Array<string | number> {
  return report.closed.map(entry => entry.connection.id)
}

/** A promise and the functions that settle it. */
function deferred<T> (): { promise: Promise<T>, resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>(resolvePromise => { resolve = resolvePromise })
  return { promise, resolve }
}

/** A pass under way: 4 open, 3 allowed, its one closer held until `gate` resolves. */
async function passUnderWay (): Promise<{ pruner: Pruner, gate: { resolve: (value: void) => void }, signals: AbortSignal[], running: Promise<PruneReport> }> {
  const gate = deferred<void>()
  const signals: AbortSignal[] = []
  const { pruner } = node(many(4), {
    config: { maxConnections: 3, maxConnectionsPerPeer: 1 },
    close: async (_victim, context) => { signals.push(context.signal); await gate.promise; return true }
  })
  const running = pruner.prune()
  await vi.waitFor(() => { expect(signals.length).toBe(1) })
  return { pruner, gate, signals, running }
}

describe('new Pruner()', () => {
  it('lists every problem of its options at once', () => {
    let caught: unknown
    try {
      new Pruner({ connections: undefined, close: 5, config: { maxConnections: 0, pruneGracePeriod: -1 }, strategy: 'random', protection: {}, clock: {} } as unknown as PrunerInit)
    } catch (error) {
      caught = error
    }
    expect(InvalidConfigError.isInstance(caught)).toBe(true)
    expect((caught as InvalidConfigError).problems.map(problem => problem.path)).toEqual(['connections', 'close', 'protection', 'clock', 'strategy', 'maxConnections', 'pruneGracePeriod'])
    expect(() => new Pruner(undefined as unknown as PrunerInit)).toThrow(InvalidConfigError)
  })

  it('reports a malformed candidate from connections() to the callers of the pass', async () => {
    const { pruner } = node([candidate(1), candidate(2, { direction: 'up' as never })], { config: { maxConnections: 1, maxConnectionsPerPeer: 1 } })
    await expect(pruner.prune()).rejects.toThrow('Expected `direction` of candidate 2 to be "inbound" or "outbound", got "up" (string)')
  })

  it('refuses watermarks at or above maxConnections, loudly (go-libp2p #1640)', () => {
    expect(() => node([], { config: { maxConnections: 100, pruneLowWatermark: 80, pruneHighWatermark: 120 } }))
      .toThrow(/`pruneHighWatermark` \(120\) to be below `maxConnections` \(100\)/)
  })

  it('validates a whole config, refusing unknown options', () => {
    expect(() => node([], { config: { maxConection: 5 } as never })).toThrow(/Unknown option `maxConection` \(did you mean `maxConnections`\?\)/)
  })
})

describe('Pruner.prune() - the node', () => {
  it('closes the surplus above maxConnections, least valuable first, and reports it', async () => {
    const { pruner, open, closes } = node(many(8), { config: { maxConnections: 5 } })
    const report = await pruner.prune()
    expect(closedIds(report)).toEqual([0, 1, 2])
    expect(report.closed.every(entry => entry.reason === 'max-connections')).toBe(true)
    expect(report).toMatchObject({ failed: [], shortfall: 0 })
    expect(open.size).toBe(5)
    expect(closes.map(entry => entry.context.reason)).toEqual(['max-connections', 'max-connections', 'max-connections'])
  })

  it('does nothing at or below the threshold', async () => {
    const { pruner, closes } = node(many(5), { config: { maxConnections: 5 } })
    expect(await pruner.prune()).toEqual({ closed: [], failed: [], shortfall: 0 })
    expect(closes).toEqual([])
  })

  it('uses the configured strategy, or a custom one given to the constructor', async () => {
    const oldest = node(many(4, index => ({ openedAt: 10 - index })), { config: { maxConnections: 3, maxConnectionsPerPeer: 3, pruneStrategy: 'oldest' } })
    expect(closedIds(await oldest.pruner.prune())).toEqual([3])
    const custom = node(many(4), { config: { maxConnections: 3, maxConnectionsPerPeer: 3 }, strategy: { score: entry => -entry.value } })
    expect(closedIds(await custom.pruner.prune())).toEqual([3])
  })

  it('never closes protected, trusted or in-grace connections and reports the shortfall', async () => {
    const connections = [
      candidate('protected-peer', { peer: 'QmKeep' }),
      candidate('flagged', { protected: true }),
      candidate('trusted', { trusted: true }),
      candidate('young', { openedAt: 9_500 }),
      candidate('victim', { value: 100 })
    ]
    const protection = new ProtectionRegistry()
    protection.protect('QmKeep', 'bootstrap')
    const { pruner, clock } = node(connections, { protection, config: { maxConnections: 2, maxConnectionsPerPeer: 1, pruneGracePeriod: 1_000 } })
    clock.time = 10_000
    expect(pruner.protection).toBe(protection)
    const report = await pruner.prune()
    expect(closedIds(report)).toEqual(['victim'])
    expect(report.shortfall).toBe(2)
  })

  it('the grace period ends with the clock', async () => {
    const { pruner, clock } = node(many(4, () => ({ openedAt: 0 })), { config: { maxConnections: 2, maxConnectionsPerPeer: 1, pruneGracePeriod: 60_000 } })
    clock.time = 59_999
    expect(await pruner.prune()).toEqual({ closed: [], failed: [], shortfall: 2 })
    clock.time = 60_000
    expect(closedIds(await pruner.prune())).toEqual([0, 1])
  })

  it('a protection by peer survives the peer reconnecting', async () => {
    const { pruner, open } = node([candidate('first', { peer: 'QmKeep' }), candidate('other', { value: 5 })], { config: { maxConnections: 1, maxConnectionsPerPeer: 1 } })
    pruner.protection.protect('QmKeep', 'sync')
    open.delete('first')
    open.set('second', candidate('second', { peer: 'QmKeep' }))
    open.set('third', candidate('third', { value: 9 }))
    expect(closedIds(await pruner.prune())).toEqual(['other', 'third'])
  })
})

describe('Pruner.prune() - watermarks', () => {
  const config = { maxConnections: 10, pruneLowWatermark: 5, pruneHighWatermark: 8 }

  it('.needsPruning() - above the high watermark when set, above maxConnections otherwise', () => {
    const { pruner } = node([], { config })
    expect(pruner.needsPruning(8)).toBe(false)
    expect(pruner.needsPruning(9)).toBe(true)
    const plain = node([], { config: { maxConnections: 10 } }).pruner
    expect(plain.needsPruning(10)).toBe(false)
    expect(plain.needsPruning(11)).toBe(true)
  })

  it('does nothing up to the high watermark', async () => {
    const { pruner } = node(many(8), { config })
    expect((await pruner.prune()).closed).toEqual([])
  })

  it('prunes from above the high watermark down to the low one', async () => {
    const { pruner, open } = node(many(9), { config })
    const report = await pruner.prune()
    expect(closedIds(report)).toEqual([0, 1, 2, 3])
    expect(report.closed.every(entry => entry.reason === 'high-watermark')).toBe(true)
    expect(open.size).toBe(5)
  })

  it('above maxConnections the reason is max-connections, and the target still the low watermark', async () => {
    const { pruner, open } = node(many(11), { config })
    const report = await pruner.prune()
    expect(report.closed.length).toBe(6)
    expect(report.closed.every(entry => entry.reason === 'max-connections')).toBe(true)
    expect(open.size).toBe(5)
  })
})

describe('Pruner.prune() - per peer', () => {
  it('closes one peer\'s surplus among its own connections only, by the same strategy', async () => {
    const connections = [
      candidate('a1', { peer: 'QmA', streams: 2 }),
      candidate('a2', { peer: 'QmA', streams: 0, value: 10 }),
      candidate('a3', { peer: 'QmA', streams: 0 }),
      candidate('b1', { peer: 'QmB' }),
      candidate('b2', { peer: 'QmB' })
    ]
    const { pruner, open, listed } = node(connections, { config: { maxConnections: 100, maxConnectionsPerPeer: 1 } })
    expect(pruner.peerNeedsPruning(2)).toBe(true)
    expect(pruner.peerNeedsPruning(1)).toBe(false)
    const report = await pruner.prune({ peer: 'QmA' })
    // Value before streams: a1 (untagged, busy) goes before a2 (tagged, idle).
    expect(closedIds(report)).toEqual(['a3', 'a1'])
    expect(report.closed.every(entry => entry.reason === 'max-connections-per-peer')).toBe(true)
    expect([...open.keys()]).toEqual(['a2', 'b1', 'b2'])
    // The provider was asked for QmA's connections; it returned all, and the pruner filtered.
    expect(listed).toEqual(['QmA'])
  })

  it('per-peer steps run first, and the node step counts what they closed', async () => {
    const connections = [...many(4, () => ({ peer: 'QmA' })), candidate('x', { value: 50 }), candidate('y', { value: 60 })]
    const { pruner, open, listed } = node(connections, { config: { maxConnections: 4, maxConnectionsPerPeer: 2 } })
    const [peerReport, nodeReport] = await Promise.all([pruner.prune({ peer: 'QmA' }), pruner.prune()])
    expect(peerReport).toBe(nodeReport)
    expect(listed).toEqual(['QmA', undefined])
    expect(peerReport.closed.map(entry => [entry.connection.id, entry.reason])).toEqual([[0, 'max-connections-per-peer'], [1, 'max-connections-per-peer']])
    expect(open.size).toBe(4)
  })
})

describe('Pruner.prune() - closes that fail', () => {
  it('selects a replacement for each victim not closed, and reports only what was closed', async () => {
    const failure = new Error('busy')
    const open = new Map(many(6).map(entry => [entry.id, entry]))
    const attempts: Array<string | number> = []
    const pruner = new Pruner({
      config: { maxConnections: 4, maxConnectionsPerPeer: 1 },
      connections: () => open.values(),
      close: victim => {
        attempts.push(victim.id)
        if (victim.id === 0) return false
        if (victim.id === 1) throw failure
        return open.delete(victim.id)
      }
    })
    const report = await pruner.prune()
    expect(attempts).toEqual([0, 1, 2, 3])
    expect(closedIds(report)).toEqual([2, 3])
    expect(report.failed.map(entry => [entry.connection.id, entry.error])).toEqual([[0, undefined], [1, failure]])
    expect(report.shortfall).toBe(0)
    expect(open.size).toBe(4)
  })

  it('reports the shortfall when every eligible connection refuses to close', async () => {
    const { pruner, open } = node(many(4), { config: { maxConnections: 2, maxConnectionsPerPeer: 1 }, close: () => false })
    const report = await pruner.prune()
    expect(report.closed).toEqual([])
    expect(report.failed.length).toBe(4)
    expect(report.shortfall).toBe(2)
    expect(open.size).toBe(4)
  })

  it('a closer that returns nothing counts as closed', async () => {
    const { pruner } = node(many(3), { config: { maxConnections: 2, maxConnectionsPerPeer: 1 }, close: () => undefined })
    expect(closedIds(await pruner.prune())).toEqual([0])
  })

  it('rejects with what connections() throws, and recovers on the next call', async () => {
    let fail = true
    const error = new Error('tracker gone')
    const pruner = new Pruner({
      connections: () => { if (fail) throw error; return [] },
      close: () => true
    })
    await expect(pruner.prune()).rejects.toBe(error)
    fail = false
    expect(await pruner.prune()).toEqual({ closed: [], failed: [], shortfall: 0 })
  })
  it('connections() may return a promise: the pass waits for its list, and a rejection reaches the callers', async () => {
    const values = new Map<number, number>()
    const open = many(4, () => ({ value: 0 }))
    const listing = deferred<void>()
    const pruner = new Pruner({
      config: { maxConnections: 3, maxConnectionsPerPeer: 1 },
      // The values are read from a store before the candidates are listed.
      connections: async () => {
        await listing.promise
        return open.map(entry => ({ ...entry, value: values.get(entry.id as number) ?? 0 }))
      },
      close: () => true
    })
    const pass = pruner.prune()
    for (const [id, value] of [[0, 5], [1, 1], [2, 7], [3, 9]] as const) values.set(id, value)
    listing.resolve()
    expect(closedIds(await pass)).toEqual([1])
    const error = new Error('store gone')
    const failing = new Pruner({ connections: async () => { throw error }, close: () => true })
    await expect(failing.prune()).rejects.toBe(error)
  })
})

describe('Pruner.prune() - single flight', () => {
  it('calls in one tick share one pass', async () => {
    const { pruner, listed } = node(many(5), { config: { maxConnections: 3, maxConnectionsPerPeer: 1 } })
    const reports = await Promise.all([pruner.prune(), pruner.prune(), pruner.prune()])
    expect(listed).toEqual([undefined])
    expect(reports[1]).toBe(reports[0])
    expect(reports[2]).toBe(reports[0])
    expect(closedIds(reports[0])).toEqual([0, 1])
  })

  it('calls made while a pass runs coalesce into one next pass that lists the connections afresh', async () => {
    const open = new Map(many(5).map(entry => [entry.id, entry]))
    const gate = deferred<void>()
    let listings = 0
    const pruner = new Pruner({
      config: { maxConnections: 3, maxConnectionsPerPeer: 1 },
      connections: () => { listings++; return [...open.values()] },
      close: async victim => {
        await gate.promise
        return open.delete(victim.id)
      }
    })
    const first = pruner.prune()
    await vi.waitFor(() => { expect(listings).toBe(1) })
    // While the first pass waits on its closes, two new connections open and two triggers come.
    open.set('new-1', candidate('new-1', { value: 99 }))
    open.set('new-2', candidate('new-2', { value: 98 }))
    const second = pruner.prune()
    const third = pruner.prune()
    gate.resolve()
    const [firstReport, secondReport, thirdReport] = await Promise.all([first, second, third])
    expect(closedIds(firstReport)).toEqual([0, 1])
    expect(secondReport).toBe(thirdReport)
    expect(closedIds(secondReport)).toEqual([2, 3])
    expect(listings).toBe(2)
    expect(open.size).toBe(3)
  })

  it('a caller\'s abort rejects that caller only; the pass goes on for the others', async () => {
    const gate = deferred<void>()
    const { pruner, open } = node(many(4), {
      config: { maxConnections: 3, maxConnectionsPerPeer: 1 },
      close: async () => { await gate.promise; return true }
    })
    const controller = new AbortController()
    const aborted = pruner.prune({ signal: controller.signal })
    const other = pruner.prune()
    const reason = new Error('caller gave up')
    controller.abort(reason)
    await expect(aborted).rejects.toBe(reason)
    gate.resolve()
    expect((await other).closed.length).toBe(1)
    expect(open.size).toBe(4) // this closer does not delete
  })

  it('a call with an aborted signal rejects at once and starts no pass', async () => {
    const { pruner, listed } = node(many(4), { config: { maxConnections: 3, maxConnectionsPerPeer: 1 } })
    const reason = new Error('already')
    await expect(pruner.prune({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
    await Promise.resolve()
    expect(listed).toEqual([])
  })
})

describe('Pruner.stop() and .start()', () => {
  it('lets a running pass finish, cancels the queued one, aborts the closers\' signal, and refuses new calls', async () => {
    const { pruner, gate, signals, running } = await passUnderWay()
    const queued = pruner.prune()
    const stopped = pruner.stop()
    await expect(queued).rejects.toBeInstanceOf(PrunerStoppedError)
    expect(signals[0]?.aborted).toBe(true)
    await expect(pruner.prune()).rejects.toSatisfy(error => PrunerStoppedError.isInstance(error))
    gate.resolve()
    await stopped
    expect((await running).closed.length).toBe(1)
    await pruner.stop()
    pruner.start()
    pruner.start()
    expect((await pruner.prune()).closed.length).toBe(1)
  })

  it('a pass interrupted by stop() selects no more replacements', async () => {
    const gate = deferred<void>()
    const attempts: Array<string | number> = []
    const { pruner } = node(many(10), {
      config: { maxConnections: 8, maxConnectionsPerPeer: 1 },
      close: async (victim, context) => {
        attempts.push(victim.id)
        await gate.promise
        return !context.signal.aborted
      }
    })
    const running = pruner.prune()
    await vi.waitFor(() => { expect(attempts.length).toBe(2) })
    const stopped = pruner.stop()
    gate.resolve()
    await stopped
    const report = await running
    expect(attempts).toEqual([0, 1])
    expect(report).toMatchObject({ closed: [], shortfall: 2 })
  })
})

describe('Pruner.updateConfig()', () => {
  it('replaces options from the next pass, validated as a whole', async () => {
    const { pruner } = node(many(6), { config: { maxConnections: 10, maxConnectionsPerPeer: 1 } })
    expect((await pruner.prune()).closed).toEqual([])
    pruner.updateConfig({ maxConnections: 4 })
    expect(closedIds(await pruner.prune())).toEqual([0, 1])
    expect(() => { pruner.updateConfig({ pruneLowWatermark: 2, pruneHighWatermark: 4, strategy: 'random' as never }) }).toThrow(InvalidConfigError)
    expect(pruner.needsPruning(5)).toBe(true)
    expect(pruner.needsPruning(4)).toBe(false)
  })

  it('a custom strategy stays until replaced, and a named pruneStrategy drops it', async () => {
    const { pruner, open } = node(many(6), { config: { maxConnections: 5, maxConnectionsPerPeer: 1 }, strategy: { score: entry => -entry.value } })
    pruner.updateConfig({ maxConnections: 5 })
    expect(closedIds(await pruner.prune())).toEqual([5])
    open.set(5, candidate(5, { value: 5 }))
    pruner.updateConfig({ pruneStrategy: 'least-valuable' })
    expect(closedIds(await pruner.prune())).toEqual([0])
    open.set(0, candidate(0, { value: 0 }))
    pruner.updateConfig({ strategy: { compare: (a, b) => b.value - a.value } })
    expect(closedIds(await pruner.prune())).toEqual([5])
  })
})

describe('Pruner - the edges', () => {
  it('says what each malformed option should be', () => {
    let caught: unknown
    try {
      new Pruner({ connections: 1, close: 2, protection: 3 } as unknown as PrunerInit)
    } catch (error) {
      caught = error
    }
    expect((caught as InvalidConfigError).problems.map(problem => [problem.path, problem.expected])).toEqual([
      ['connections', 'a function listing the open connections'],
      ['close', 'a function closing one connection'],
      ['protection', 'a ProtectionRegistry']
    ])
  })

  it('its errors carry their names and messages', () => {
    expect(new PrunerStoppedError()).toMatchObject({ name: 'PrunerStoppedError', message: 'The pruner is stopped' })
    expect(new InvalidCandidateError(7, 'value', 'bad')).toMatchObject({ name: 'InvalidCandidateError', candidateId: 7, field: 'value', message: 'bad' })
  })

  it('a retry round after some closes failed asks only for what is still missing', async () => {
    // 7 open, 4 allowed: 3 to close. 0 refuses; 1 and 2 close; the retry closes 3 alone.
    const { pruner, open } = node(many(7), {
      config: { maxConnections: 4, maxConnectionsPerPeer: 1 },
      close: victim => victim.id !== 0 && open.delete(victim.id)
    })
    const report = await pruner.prune()
    expect(closedIds(report)).toEqual([1, 2, 3])
    expect(report.failed.map(entry => entry.connection.id)).toEqual([0])
    expect(open.size).toBe(4)
  })

  it('the node step does not count again what the per-peer step closed, even while connections() still lists it', async () => {
    // connections() lists every connection, closed or not (a close that has not landed yet).
    const connections = [...many(4, () => ({ peer: 'QmA' })), candidate('x', { value: 50 }), candidate('y', { value: 60 })]
    const closes: Array<string | number> = []
    const pruner = new Pruner({
      config: { maxConnections: 3, maxConnectionsPerPeer: 2 },
      connections: () => connections,
      close: victim => { closes.push(victim.id) }
    })
    const [report] = await Promise.all([pruner.prune({ peer: 'QmA' }), pruner.prune()])
    // QmA: 4 to 2 (0 and 1); the node: 4 left, 3 allowed, so one more (2).
    expect(closes).toEqual([0, 1, 2])
    expect(report.closed.map(entry => entry.reason)).toEqual(['max-connections-per-peer', 'max-connections-per-peer', 'max-connections'])
  })

  it('at exactly maxConnections, above the high watermark, the reason is high-watermark', async () => {
    const { pruner } = node(many(10), { config: { maxConnections: 10, pruneHighWatermark: 8, pruneLowWatermark: 6, maxConnectionsPerPeer: 1 } })
    const report = await pruner.prune()
    expect(report.closed.map(entry => entry.reason)).toEqual(['high-watermark', 'high-watermark', 'high-watermark', 'high-watermark'])
  })

  it('leaves no listener on the caller\'s signal once its call has settled', async () => {
    const { pruner } = node(many(3), { config: { maxConnections: 2, maxConnectionsPerPeer: 1 } })
    const controller = new AbortController()
    for (let round = 0; round < 3; round++) {
      await pruner.prune({ signal: controller.signal })
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  it('start() on a running pruner changes nothing: stop() still aborts the closers of the pass under way', async () => {
    const { pruner, gate, signals, running } = await passUnderWay()
    pruner.start()
    const stopped = pruner.stop()
    expect(signals[0]?.aborted).toBe(true)
    gate.resolve()
    await stopped
    await running
  })
})
