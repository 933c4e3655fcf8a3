import { CmError, systemClock } from '@cm/config'
import { Heap } from 'mnemonist'
import type { Clock } from '@cm/config'

/**
 * Thrown (as a rejection) when a dial cannot wait: `maxParallelDials` dials are running
 * and `maxDialQueueLength` are already waiting.
 *
 * @example
 * ```ts
 * import { DialQueueFullError } from '@cm/manager'
 *
 * function describe (error: unknown): string {
 *   return DialQueueFullError.isInstance(error)
 *     ? `queue full: ${error.queued} waiting, ${error.running} running`
 *     : String(error)
 * }
 * ```
 */
export class DialQueueFullError extends CmError {
  static override readonly name: string = 'DialQueueFullError'

  /** Dials waiting when this one was refused (`maxDialQueueLength`). */
  readonly queued: number
  /** Dials running when this one was refused (`maxParallelDials`). */
  readonly running: number

  /**
   * @param queued - dials waiting
   * @param running - dials running
   */
  constructor (queued: number, running: number) {
    super(`The dial queue is full: ${running} dials are running and ${queued} are waiting`)
    this.queued = queued
    this.running = running
  }
}

/** The limits of a {@link DialQueue}; they may change at any time. */
export interface DialQueueLimits {
  /** The most dials running at once (>= 1). */
  readonly maxParallelDials: number
  /** The most dials waiting (>= 0). */
  readonly maxDialQueueLength: number
}

/** Options of one dial request. */
export interface DialQueueOptions {
  /** Higher runs first; equal priorities run in the order they were asked for. @default 50 */
  readonly priority?: number | undefined
  /** Cancels this caller's wait. The dial itself is aborted when every caller has aborted. */
  readonly signal?: AbortSignal | undefined
}

/** Figures about the queue, for metrics. */
export interface DialQueueStats {
  /** Dials running now. */
  readonly running: number
  /** Dials waiting now. */
  readonly queued: number
  /** Dials refused because the queue was full, since creation. */
  readonly refused: number
  /** Callers that joined a dial already queued or running, since creation. */
  readonly joined: number
  /** Dials started, since creation. */
  readonly started: number
  /** Total milliseconds started dials waited in the queue, since creation. */
  readonly totalWaitMs: number
  /** The longest wait of a started dial, milliseconds, since creation. */
  readonly maxWaitMs: number
}

interface Recipient<T> {
  readonly resolve: (value: T) => void
  readonly reject: (reason: unknown) => void
  readonly signal: AbortSignal | undefined
  readonly onAbort: () => void
}

interface Job<T> {
  readonly keys: Set<string>
  priority: number
  readonly sequence: number
  readonly run: (signal: AbortSignal) => Promise<T>
  readonly controller: AbortController
  readonly recipients: Set<Recipient<T>>
  state: 'queued' | 'running' | 'done'
  readonly enqueuedAt: number
  /** The heap entry currently standing for this job; older entries are stale. */
  entry: HeapEntry<T> | undefined
}

interface HeapEntry<T> {
  readonly job: Job<T>
  readonly priority: number
}

/** The priority a dial gets when none is given (js-libp2p's default dial priority). */
export const DEFAULT_DIAL_PRIORITY = 50

/**
 * A priority queue of dials: at most `maxParallelDials` run at once, at most
 * `maxDialQueueLength` wait (beyond that a dial is refused at once with
 * {@link DialQueueFullError}), higher priorities run first (first come, first served among
 * equals), and concurrent dials that share a key (a peer ID or an address) are joined into
 * one. Each caller may abort its own wait; the dial is aborted when every caller has.
 *
 * It knows nothing of sockets: the manager passes the function that dials.
 *
 * @example
 * ```ts
 * import { DialQueue } from '@cm/manager'
 *
 * const queue = new DialQueue<string>({ maxParallelDials: 2, maxDialQueueLength: 10 })
 * const result = await queue.dial(['/ip4/127.0.0.1/tcp/4001'], async signal => {
 *   signal.throwIfAborted()
 *   return 'connected'
 * }, { priority: 75 })
 * ```
 */
export class DialQueue<T> {
  #limits: DialQueueLimits
  readonly #clock: Clock
  readonly #heap = new Heap<HeapEntry<T>>((a, b) => (b.priority - a.priority) || (a.job.sequence - b.job.sequence))
  readonly #byKey = new Map<string, Job<T>>()
  #sequence = 0
  #running = 0
  #queued = 0
  #refused = 0
  #joined = 0
  #started = 0
  #totalWaitMs = 0
  #maxWaitMs = 0

  /**
   * @param limits - the parallel and queue limits
   * @param clock - the clock for wait times
   */
  constructor (limits: DialQueueLimits, clock: Clock = systemClock) {
    this.#limits = limits
    this.#clock = clock
  }

  /** Dials running now. */
  get running (): number {
    return this.#running
  }

  /** Dials waiting now. */
  get queued (): number {
    return this.#queued
  }

  /**
   * Figures about the queue, for metrics.
   *
   * @example
   * ```ts
   * import { DialQueue } from '@cm/manager'
   *
   * const queue = new DialQueue<void>({ maxParallelDials: 1, maxDialQueueLength: 0 })
   * queue.stats().running // 0
   * ```
   */
  stats (): DialQueueStats {
    return {
      running: this.#running,
      queued: this.#queued,
      refused: this.#refused,
      joined: this.#joined,
      started: this.#started,
      totalWaitMs: this.#totalWaitMs,
      maxWaitMs: this.#maxWaitMs
    }
  }

  /**
   * Changes the limits. A higher `maxParallelDials` starts waiting dials at once; lower
   * limits apply to dials that come next (running and waiting dials are not dropped).
   *
   * @param limits - the new limits
   */
  setLimits (limits: DialQueueLimits): void {
    this.#limits = limits
    this.#pump()
  }

  /**
   * Dials, or joins a dial already queued or running under any of the same keys.
   *
   * @param keys - what identifies the target (its peer ID, its address); at least one
   * @param run - performs the dial; its signal aborts when every caller has aborted or on
   *   {@link DialQueue.abortAll}
   * @param options - priority and this caller's signal
   * @returns the dial's result
   * @throws {@link DialQueueFullError} (as a rejection) when the dial cannot wait; the
   *   caller's `signal.reason` when it aborts
   */
  async dial (keys: readonly string[], run: (signal: AbortSignal) => Promise<T>, options: DialQueueOptions = {}): Promise<T> {
    options.signal?.throwIfAborted()
    const priority = options.priority ?? DEFAULT_DIAL_PRIORITY
    const existing = this.#find(keys)
    if (existing !== undefined) {
      this.#joined++
      for (const key of keys) {
        if (!this.#byKey.has(key)) {
          existing.keys.add(key)
          this.#byKey.set(key, existing)
        }
      }
      // Stryker disable next-line EqualityOperator: at the same priority a job keeps its place (same sequence), so re-queueing changes nothing
      const raised = priority > existing.priority
      if (existing.state === 'queued' && raised) {
        this.#enqueue(existing, priority)
      }
      return await this.#addRecipient(existing, options.signal)
    }
    if (this.#running >= this.#limits.maxParallelDials && this.#queued >= this.#limits.maxDialQueueLength) {
      this.#refused++
      throw new DialQueueFullError(this.#queued, this.#running)
    }
    const job: Job<T> = {
      keys: new Set(keys),
      priority,
      sequence: this.#sequence++,
      run,
      controller: new AbortController(),
      recipients: new Set(),
      state: 'queued',
      enqueuedAt: this.#clock.now(),
      entry: undefined
    }
    for (const key of keys) {
      this.#byKey.set(key, job)
    }
    this.#queued++
    this.#enqueue(job, priority)
    const result = this.#addRecipient(job, options.signal)
    this.#pump()
    return await result
  }

  /**
   * Aborts every queued and running dial; each caller's promise rejects with `reason`.
   *
   * @param reason - the rejection reason
   */
  abortAll (reason: unknown): void {
    for (const job of new Set(this.#byKey.values())) {
      for (const recipient of [...job.recipients]) {
        this.#dropRecipient(job, recipient)
        recipient.reject(reason)
      }
      job.controller.abort(reason)
    }
  }

  #find (keys: readonly string[]): Job<T> | undefined {
    for (const key of keys) {
      const job = this.#byKey.get(key)
      if (job !== undefined) {
        return job // #finish unmaps every key of a finished job
      }
    }
    return undefined
  }

  #enqueue (job: Job<T>, priority: number): void {
    job.priority = priority
    const entry = { job, priority }
    job.entry = entry
    this.#heap.push(entry)
  }

  async #addRecipient (job: Job<T>, signal: AbortSignal | undefined): Promise<T> {
    return await new Promise<T>((resolve, reject) => {
      const recipient: Recipient<T> = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.#dropRecipient(job, recipient)
          // Stryker disable next-line OptionalChaining: onAbort is only registered on a signal
          reject(signal?.reason)
        }
      }
      job.recipients.add(recipient)
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: onAbort removes itself (via #dropRecipient), so `once` changes nothing
      signal?.addEventListener('abort', recipient.onAbort, { once: true })
    })
  }

  /** Removes a caller; a job nobody waits for any more is cancelled or aborted. */
  #dropRecipient (job: Job<T>, recipient: Recipient<T>): void {
    recipient.signal?.removeEventListener('abort', recipient.onAbort)
    job.recipients.delete(recipient)
    if (job.recipients.size > 0) {
      return
    }
    if (job.state === 'queued') {
      this.#queued--
      this.#finish(job)
      this.#pump()
    } else { // running: a finished job has no recipients left to drop
      job.controller.abort(recipient.signal?.reason)
    }
  }

  #finish (job: Job<T>): void {
    // Stryker disable next-line StringLiteral: nothing compares with 'done'; any state other than queued or running reads the same
    job.state = 'done'
    job.entry = undefined
    // every key of a job maps to it: a job takes only keys no other job holds
    for (const key of job.keys) {
      this.#byKey.delete(key)
    }
  }

  #pump (): void {
    while (this.#running < this.#limits.maxParallelDials) {
      const entry = this.#heap.pop()
      if (entry === undefined) {
        return
      }
      if (entry.job.entry !== entry) {
        continue // stale: re-prioritised, cancelled or already started (each clears or replaces job.entry)
      }
      this.#start(entry.job)
    }
  }

  #start (job: Job<T>): void {
    job.state = 'running'
    job.entry = undefined
    this.#queued--
    this.#running++
    this.#started++
    const waited = this.#clock.now() - job.enqueuedAt
    this.#totalWaitMs += waited
    this.#maxWaitMs = Math.max(this.#maxWaitMs, waited)
    const settle = (outcome: { ok: true, value: T } | { ok: false, error: unknown }): void => {
      this.#running--
      this.#finish(job)
      for (const recipient of job.recipients) {
        recipient.signal?.removeEventListener('abort', recipient.onAbort)
        if (outcome.ok) {
          recipient.resolve(outcome.value)
        } else {
          recipient.reject(outcome.error)
        }
      }
      job.recipients.clear()
      this.#pump()
    }
    let promise: Promise<T>
    try {
      promise = job.run(job.controller.signal)
    } catch (error) {
      promise = Promise.reject(error)
    }
    promise.then(value => { settle({ ok: true, value }) }, (error: unknown) => { settle({ ok: false, error }) })
  }
}
