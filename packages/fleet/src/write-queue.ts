import { ErrorReply } from '@redis/client'
import { FleetQueueFullError, FleetStoppedError, FleetUnavailableError } from './errors.ts'
import { ruleKey } from './records.ts'
import { evalScript, integerReply } from './redis.ts'
import { WRITE_SCRIPT } from './scripts.ts'
import type { FleetState } from './events.ts'
import type { FleetRule } from './records.ts'
import type { LocalRule, RuleTable } from './rule-table.ts'
import type { FleetKeys } from './scripts.ts'
import type { Session } from './session.ts'
import type { GateList } from '@cm/gate'

/** Writes sent at once. */
const WRITE_BATCH = 256

/** A rule change waiting for Redis. */
export interface PendingWrite {
  /** `restore`: a rule written back to a store that lost its data (nobody waits for it). */
  readonly op: 'set' | 'del' | 'restore'
  readonly list: GateList
  readonly entry: string
  /** Milliseconds until it lapses (0: never), for `set`. */
  readonly ttl: number
  /** Its absolute expiry (0: never), for `restore`. */
  readonly expiresAt: number
  /** The rule this node enforces meanwhile, for `set`. */
  readonly local: LocalRule | undefined
  readonly resolve: ((rule: FleetRule) => void) | undefined
  readonly reject: ((error: unknown) => void) | undefined
}

/** What a {@link WriteQueue} reads and acts through. */
export interface WriteQueueContext {
  readonly node: string
  readonly keys: FleetKeys
  /** How many changes the log keeps, about. */
  readonly logLength: number
  /** How many writes may wait. */
  readonly maxQueuedWrites: number
  readonly table: RuleTable
  /** A fresh candidate for the store's epoch. */
  newEpoch(): string
  /** The last log position applied. */
  lastSeq(): number
  /** The live session, if any. */
  session(): Session | undefined
  /** The link's state. */
  state(): FleetState
}

/** The method of `Fleet` a write came from, as its errors name it. */
function operationOf (write: Pick<PendingWrite, 'op' | 'list'>): 'deny' | 'allow' | 'trust' | 'remove' {
  return write.op === 'del' ? 'remove' : write.list === 'trusted' ? 'trust' : write.list
}

/**
 * The rule writes of one node, in order: sent to Redis (one script call each, in batches)
 * while a session lives, kept while Redis is away (up to `maxQueuedWrites`), and each
 * settled when Redis answers. A write acknowledged drops the node's own copy of its rule
 * once the log has brought the change back.
 */
export class WriteQueue {
  /** Writes Redis acknowledged. */
  writes = 0
  readonly #context: WriteQueueContext
  #queue: PendingWrite[] = []
  #draining = false

  constructor (context: WriteQueueContext) {
    this.#context = context
  }

  /** Writes waiting. */
  get length (): number {
    return this.#queue.length
  }

  /** Whether one more write may wait. */
  hasRoom (): boolean {
    return this.#queue.length < this.#context.maxQueuedWrites
  }

  /**
   * Queues a write and resolves with the rule once Redis recorded it.
   *
   * @throws {@link FleetQueueFullError}, {@link FleetStoppedError},
   *   {@link FleetUnavailableError}, or `signal.reason` (as rejections)
   */
  async enqueue (write: Omit<PendingWrite, 'resolve' | 'reject'>, signal: AbortSignal | undefined): Promise<FleetRule> {
    const context = this.#context
    if (!this.hasRoom()) {
      throw new FleetQueueFullError(context.maxQueuedWrites)
    }
    if (context.state() === 'stopped') {
      throw new FleetStoppedError(operationOf(write))
    }
    return await new Promise<FleetRule>((resolve, reject) => {
      const onAbort = (): void => { reject(signal?.reason) }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#queue.push({
        ...write,
        resolve: rule => { signal?.removeEventListener('abort', onAbort); resolve(rule) },
        reject: error => { signal?.removeEventListener('abort', onAbort); reject(error) }
      })
      const session = context.session()
      if (session !== undefined && context.state() === 'synced') void this.drain(session)
    })
  }

  /** Queues a rule to write back to a store that lost its data. */
  restore (rule: FleetRule): void {
    this.#queue.push({ op: 'restore', list: rule.list, entry: rule.entry, ttl: 0, expiresAt: rule.expiresAt ?? 0, local: undefined, resolve: undefined, reject: undefined })
  }

  /** Rejects every waiting write with {@link FleetStoppedError} (the fleet stops). */
  rejectAll (): void {
    const queue = this.#queue
    this.#queue = []
    for (const write of queue) write.reject?.(new FleetStoppedError(operationOf(write)))
  }

  /** Sends the queued writes, in order, while the session lives. */
  async drain (session: Session): Promise<void> {
    if (this.#draining) return
    this.#draining = true
    const context = this.#context
    const table = context.table
    try {
      while (this.#queue.length > 0 && context.session() === session) {
        const batch = this.#queue.slice(0, WRITE_BATCH)
        const keys = [context.keys.rules, context.keys.log, context.keys.meta, context.keys.expiry]
        const results = await Promise.allSettled(batch.map(async write => await evalScript(session.command, WRITE_SCRIPT, keys, [
          write.op, write.list, write.entry, write.ttl, context.node, context.logLength, context.newEpoch(), write.expiresAt
        ])))
        let sent = 0
        for (const [index, result] of results.entries()) {
          const write = batch[index] as PendingWrite
          // Not an answer from Redis (the link broke): this write and the rest go again.
          if (result.status === 'rejected' && !(result.reason instanceof ErrorReply)) break
          sent++
          if (result.status === 'rejected') {
            write.reject?.(new FleetUnavailableError(operationOf(write), result.reason))
            continue
          }
          this.writes++
          const reply = Array.isArray(result.value) ? result.value as unknown[] : []
          const seq = integerReply(reply[0]) ?? 0
          const expiresAt = integerReply(reply[1]) ?? 0
          if (write.local !== undefined) {
            write.local.ackSeq = seq
            const key = ruleKey(write.list, write.entry)
            if (seq <= context.lastSeq() && table.local.get(key) === write.local) table.dropLocal(key, write.local)
          }
          write.resolve?.({ list: write.list, entry: write.entry, seq, by: context.node, ...(expiresAt === 0 ? {} : { expiresAt }) })
        }
        this.#queue.splice(0, sent)
        table.flush()
        if (sent < batch.length) return
      }
    } finally {
      this.#draining = false
    }
  }
}
