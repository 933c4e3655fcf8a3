import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { DialQueue, DialQueueFullError } from '../src/dial-queue.ts'

/** A dial that finishes when told to and counts its runs. */
function gatedDial<T> (value: T): { run: (signal: AbortSignal) => Promise<T>, finish: () => void, runs: () => number } {
  const waiting: Array<(value: T) => void> = []
  let runs = 0
  return {
    run: async signal => {
      runs++
      return await new Promise<T>((resolve, reject) => {
        waiting.push(resolve)
        signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
      })
    },
    finish: () => { for (const resolve of waiting.splice(0)) resolve(value) },
    runs: () => runs
  }
}

const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('DialQueue edges', () => {
  it('DialQueueFullError - the message names the running and waiting counts', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 1 })
    const blocker = gatedDial('x')
    const first = queue.dial(['a'], blocker.run)
    const second = queue.dial(['b'], blocker.run)
    const error = await queue.dial(['c'], blocker.run).catch((error: unknown) => error)
    expect(error).toBeInstanceOf(DialQueueFullError)
    expect((error as DialQueueFullError).message).toBe('The dial queue is full: 1 dials are running and 1 are waiting')
    await tick()
    blocker.finish()
    await first
    await tick()
    blocker.finish()
    await second
  })

  it('.dial() - equal priorities start in the order they were asked for', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 20 })
    const order: number[] = []
    const blocker = gatedDial('x')
    const head = queue.dial(['head'], blocker.run)
    const results = Array.from({ length: 9 }, async (_, index) => await queue.dial([`k${index}`], async () => { order.push(index); return 'ok' }))
    await tick()
    blocker.finish()
    await head
    await Promise.all(results)
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
  })

  it('.dial() - a joining caller adds its other keys to the dial, and only keys no other dial holds', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 4, maxDialQueueLength: 10 })
    const one = gatedDial('one')
    const two = gatedDial('two')
    const three = gatedDial('three')
    const first = queue.dial(['a'], one.run)
    const second = queue.dial(['b'], two.run)
    const joined = queue.dial(['a', 'b', 'c'], three.run) // joins the dial under 'a'
    const byC = queue.dial(['c'], three.run) // 'c' was added to the dial under 'a'
    const byB = queue.dial(['b'], three.run) // 'b' still belongs to the second dial
    await tick()
    expect([one.runs(), two.runs(), three.runs()]).toEqual([1, 1, 0])
    expect(queue.stats().joined).toBe(3)
    one.finish()
    expect(await Promise.all([first, joined, byC])).toEqual(['one', 'one', 'one'])
    // the first dial is over: 'b' must still lead to the second one
    const byBLater = queue.dial(['b'], three.run)
    await tick()
    expect(three.runs()).toBe(0)
    two.finish()
    expect(await Promise.all([second, byB, byBLater])).toEqual(['two', 'two', 'two'])
  })

  it('.dial() - once a dial is over, its keys dial anew', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 2, maxDialQueueLength: 10 })
    const one = gatedDial('one')
    const first = queue.dial(['a'], one.run)
    const joined = queue.dial(['a', 'b'], one.run)
    await tick()
    one.finish()
    await Promise.all([first, joined])
    const two = gatedDial('two')
    const again = [queue.dial(['a'], two.run), queue.dial(['b'], two.run)]
    await tick()
    expect(two.runs()).toBe(2)
    two.finish()
    expect(await Promise.all(again)).toEqual(['two', 'two'])
  })

  it('.dial() - joining a queued dial with a lower priority does not lower it', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 10 })
    const order: string[] = []
    const blocker = gatedDial('x')
    const head = queue.dial(['head'], blocker.run)
    const high = queue.dial(['high'], async () => { order.push('high'); return 'high' }, { priority: 80 })
    const middle = queue.dial(['middle'], async () => { order.push('middle'); return 'middle' }, { priority: 60 })
    const joined = queue.dial(['high'], async () => { order.push('never'); return 'never' }, { priority: 10 })
    await tick()
    blocker.finish()
    await Promise.all([head, high, middle, joined])
    expect(order).toEqual(['high', 'middle'])
  })

  it('.dial() - joining a running dial with a higher priority does not run it again', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 2, maxDialQueueLength: 10 })
    const one = gatedDial('one')
    const other = gatedDial('other')
    const first = queue.dial(['a'], one.run)
    await tick()
    const joined = queue.dial(['a'], one.run, { priority: 100 })
    const second = queue.dial(['b'], other.run) // frees the pump with a slot open
    await tick()
    expect(one.runs()).toBe(1)
    one.finish()
    other.finish()
    expect(await Promise.all([first, joined, second])).toEqual(['one', 'one', 'other'])
  })

  it('.dial() - removes its abort listener when the dial settles', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 10 })
    const controller = new AbortController()
    const one = gatedDial('one')
    const result = queue.dial(['a'], one.run, { signal: controller.signal })
    await tick()
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    one.finish()
    await expect(result).resolves.toBe('one')
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  it('.abortAll() - removes the callers\' abort listeners', async () => {
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 10 })
    const running = new AbortController()
    const waiting = new AbortController()
    const one = gatedDial('one')
    const results = [
      queue.dial(['a'], one.run, { signal: running.signal }),
      queue.dial(['b'], one.run, { signal: waiting.signal })
    ].map(async result => await result.catch((error: unknown) => error))
    await tick()
    queue.abortAll(new Error('stop'))
    expect(await Promise.all(results)).toEqual([new Error('stop'), new Error('stop')])
    expect(getEventListeners(running.signal, 'abort')).toHaveLength(0)
    expect(getEventListeners(waiting.signal, 'abort')).toHaveLength(0)
  })

  it('.stats() - wait times come from the clock', async () => {
    let now = 1000
    const queue = new DialQueue<string>({ maxParallelDials: 1, maxDialQueueLength: 10 }, { now: () => now })
    const one = gatedDial('one')
    const two = gatedDial('two')
    const first = queue.dial(['a'], one.run)
    const second = queue.dial(['b'], two.run)
    await tick()
    now = 1250
    one.finish()
    await first
    await tick()
    two.finish()
    await second
    expect(queue.stats()).toMatchObject({ started: 2, totalWaitMs: 250, maxWaitMs: 250 })
  })
})
