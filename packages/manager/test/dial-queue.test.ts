import { describe, expect, it } from 'vitest'
import { DialQueue, DialQueueFullError } from '../src/dial-queue.ts'

/** A dial that finishes when told to, and records that it ran. */
function deferredDial<T> (value: T): { run: (signal: AbortSignal) => Promise<T>, finish: () => void, fail: (error: Error) => void, started: () => boolean, signal: () => AbortSignal | undefined } {
  let resolve: (value: T) => void = () => {}
  let reject: (error: Error) => void = () => {}
  let started = false
  let seen: AbortSignal | undefined
  return {
    run: async signal => {
      started = true
      seen = signal
      return await new Promise<T>((res, rej) => {
        resolve = res
        reject = rej
        signal.addEventListener('abort', () => { rej(signal.reason) }, { once: true })
      })
    },
    finish: () => { resolve(value) },
    fail: error => { reject(error) },
    started: () => started,
    signal: () => seen
  }
}

const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('DialQueue', () => {
  it('.dial() - runs at most maxParallelDials at once and starts the next when one ends', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 2, maxDialQueueLength: 10 })
    const dials = ['a', 'b', 'c'].map(name => ({ name, ...deferredDial(name) }))
    const results = dials.map(dial => queue.dial([dial.name], dial.run))
    await tick()
    expect(dials.map(dial => dial.started())).toEqual([true, true, false])
    expect([queue.running, queue.queued]).toEqual([2, 1])
    dials[0]!.finish()
    await expect(results[0]).resolves.toBe('a')
    await tick()
    expect(dials[2]!.started()).toBe(true)
    dials[1]!.finish()
    dials[2]!.finish()
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c'])
    expect([queue.running, queue.queued]).toEqual([0, 0])
  })

  it('.dial() - refuses at once with DialQueueFullError when maxDialQueueLength dials already wait', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 1 })
    const running = deferredDial('a')
    const waiting = deferredDial('b')
    const first = queue.dial(['a'], running.run)
    const second = queue.dial(['b'], waiting.run)
    const third = queue.dial(['c'], deferredDial('c').run)
    await expect(third).rejects.toBeInstanceOf(DialQueueFullError)
    await expect(third).rejects.toMatchObject({ queued: 1, running: 1, name: 'DialQueueFullError' })
    expect(queue.stats().refused).toBe(1)
    running.finish()
    await first
    await tick()
    waiting.finish()
    await expect(second).resolves.toBe('b')
  })

  it('.dial() - with maxDialQueueLength 0, refuses when every slot is busy', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 0 })
    const running = deferredDial('a')
    const first = queue.dial(['a'], running.run)
    await expect(queue.dial(['b'], deferredDial('b').run)).rejects.toBeInstanceOf(DialQueueFullError)
    running.finish()
    await expect(first).resolves.toBe('a')
  })

  it('.dial() - runs higher priorities first, first come first served among equals', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 10 })
    const order: string[] = []
    const blocker = deferredDial('blocker')
    const blocked = queue.dial(['blocker'], blocker.run)
    const dials = [['low', 10], ['high', 90], ['mid-1', 50], ['mid-2', 50], ['higher', 100]] as const
    const results = dials.map(([name, priority]) => queue.dial([name], async () => { order.push(name); return name }, { priority }))
    blocker.finish()
    await blocked
    await Promise.all(results)
    expect(order).toEqual(['higher', 'high', 'mid-1', 'mid-2', 'low'])
  })

  it('.dial() - joins concurrent dials sharing any key into one run', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 5, maxDialQueueLength: 5 })
    let runs = 0
    const dial = deferredDial('conn')
    const run = async (signal: AbortSignal): Promise<string> => { runs++; return await dial.run(signal) }
    const first = queue.dial(['peer:A', '/ip4/127.0.0.1/tcp/1'], run)
    const byPeer = queue.dial(['peer:A'], run)
    const byAddress = queue.dial(['/ip4/127.0.0.1/tcp/1'], run)
    await tick()
    dial.finish()
    await expect(Promise.all([first, byPeer, byAddress])).resolves.toEqual(['conn', 'conn', 'conn'])
    expect(runs).toBe(1)
    expect(queue.stats().joined).toBe(2)
    // Once finished, the same key starts a new dial.
    await queue.dial(['peer:A'], async () => { runs++; return 'again' })
    expect(runs).toBe(2)
  })

  it('.dial() - a joiner with a higher priority raises a queued dial\'s priority; joiners do not count against the queue length', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 2 })
    const order: string[] = []
    const blocker = deferredDial('blocker')
    const blocked = queue.dial(['blocker'], blocker.run)
    const dial = (name: string, priority: number): Promise<string> => queue.dial([name], async () => { order.push(name); return name }, { priority })
    const results = [dial('x', 10), dial('y', 50), dial('x', 90)]
    blocker.finish()
    await blocked
    await Promise.all(results)
    expect(order).toEqual(['x', 'y'])
  })

  it('.dial() - aborting a queued dial removes it from the queue and rejects with the signal\'s reason', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 1 })
    const blocker = deferredDial('blocker')
    const blocked = queue.dial(['blocker'], blocker.run)
    const controller = new AbortController()
    let ran = false
    const queued = queue.dial(['x'], async () => { ran = true; return 'x' }, { signal: controller.signal })
    expect(queue.queued).toBe(1)
    const reason = new Error('caller gave up')
    controller.abort(reason)
    await expect(queued).rejects.toBe(reason)
    expect(queue.queued).toBe(0)
    // The freed place can be taken.
    const next = queue.dial(['y'], async () => 'y')
    blocker.finish()
    await blocked
    await expect(next).resolves.toBe('y')
    expect(ran).toBe(false)
  })

  it('.dial() - aborts a running dial only when every joined caller has aborted', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 1 })
    const dial = deferredDial('conn')
    const first = new AbortController()
    const second = new AbortController()
    const a = queue.dial(['k'], dial.run, { signal: first.signal })
    const b = queue.dial(['k'], dial.run, { signal: second.signal })
    await tick()
    first.abort(new Error('first'))
    await expect(a).rejects.toThrow('first')
    expect(dial.signal()?.aborted).toBe(false)
    second.abort(new Error('second'))
    await expect(b).rejects.toThrow('second')
    expect(dial.signal()?.aborted).toBe(true)
    await tick()
    expect(queue.running).toBe(0)
  })

  it('.dial() - rejects at once when the signal is already aborted', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 1 })
    const reason = new Error('already')
    await expect(queue.dial(['k'], async () => 'k', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
    expect(queue.stats().started).toBe(0)
  })

  it('.dial() - passes a failure to every joined caller, and a synchronous throw too', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 2, maxDialQueueLength: 1 })
    const dial = deferredDial('x')
    const a = queue.dial(['k'], dial.run)
    const b = queue.dial(['k'], dial.run)
    await tick()
    dial.fail(new Error('refused'))
    await expect(a).rejects.toThrow('refused')
    await expect(b).rejects.toThrow('refused')
    await expect(queue.dial(['s'], () => { throw new Error('sync') })).rejects.toThrow('sync')
    expect(queue.running).toBe(0)
  })

  it('.abortAll() - rejects every caller and aborts running dials', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 5 })
    const running = deferredDial('a')
    const a = queue.dial(['a'], running.run)
    const b = queue.dial(['b'], async () => 'b')
    await tick()
    const reason = new Error('stopping')
    queue.abortAll(reason)
    await expect(a).rejects.toBe(reason)
    await expect(b).rejects.toBe(reason)
    expect(running.signal()?.aborted).toBe(true)
    await tick()
    expect([queue.running, queue.queued]).toEqual([0, 0])
  })

  it('.setLimits() - a higher parallel limit starts waiting dials at once', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 5 })
    const a = deferredDial('a')
    const b = deferredDial('b')
    const results = [queue.dial(['a'], a.run), queue.dial(['b'], b.run)]
    await tick()
    expect(b.started()).toBe(false)
    queue.setLimits({ maxParallelDials: 2, maxDialQueueLength: 5 })
    await tick()
    expect(b.started()).toBe(true)
    a.finish()
    b.finish()
    await Promise.all(results)
  })

  it('.stats() - records wait times with the injected clock', async () => {
    let now = 0
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 5 }, { now: () => now })
    const blocker = deferredDial('blocker')
    const blocked = queue.dial(['blocker'], blocker.run)
    const waiting = queue.dial(['w'], async () => 'w')
    now = 250
    blocker.finish()
    await blocked
    await waiting
    expect(queue.stats()).toMatchObject({ started: 2, totalWaitMs: 250, maxWaitMs: 250 })
  })
})
