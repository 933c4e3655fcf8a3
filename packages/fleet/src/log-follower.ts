import { isChange, preview, readHashRule, readLogEntry } from './records.ts'
import { evalScript, integerReply } from './redis.ts'
import { POSITION_SCRIPT } from './scripts.ts'
import type { FleetEvents, FleetResyncReason } from './events.ts'
import type { ResolvedFleetOptions } from './options.ts'
import type { FleetRule, RuleChange } from './records.ts'
import type { RedisTime } from './redis-time.ts'
import type { RuleTable } from './rule-table.ts'
import type { FleetKeys } from './scripts.ts'
import type { Session } from './session.ts'
import type { SafeEventEmitter } from '@cm/config/events'

/** Log entries read per XREAD. */
const READ_COUNT = 1_000
/** How long one XREAD blocks in Redis. */
const BLOCK_MS = 2_000
/** How much longer than that we wait for its answer before calling the link dead. */
const BLOCK_GRACE_MS = 5_000
/** Hash fields read per HSCAN page. */
const SCAN_COUNT = 1_000
/** The refused log places remembered. */
const MAX_REFUSED_SEQS = 1_024
const STREAM_ID = /^[0-9]{1,20}-[0-9]{1,20}$/

/** The store's position: its last change, the log id after which to read, and its epoch. */
interface Position {
  readonly seq: number
  readonly id: string
  readonly epoch: string
}

/** What a {@link LogFollower} reads and acts through. */
export interface LogFollowerContext {
  readonly options: Pick<ResolvedFleetOptions, 'accept' | 'widestAllow'>
  readonly keys: FleetKeys
  readonly events: SafeEventEmitter<FleetEvents>
  readonly table: RuleTable
  readonly time: RedisTime
  /** A fresh candidate for the store's epoch. */
  newEpoch(): string
  /** Queues a rule to write back to a store that lost its data. */
  restore(rule: FleetRule): void
}

/**
 * Keeps a node's {@link RuleTable} in step with the fleet's store: loads the snapshot (a
 * hash) and follows the ordered log (a stream) with blocking reads, applying each change
 * in order. It remembers the last change applied, so that after an outage it reads on
 * from there, and reloads the snapshot when the log was trimmed past that point (a jump of
 * `seq`) or the store lost its data (a new epoch). Every record read is validated; a
 * refused one is reported, never applied.
 */
export class LogFollower {
  /** The last log position applied. */
  lastSeq = 0
  /** The store's epoch, once known. */
  epoch: string | undefined
  /** Snapshot loads, by reason. */
  readonly resyncs: Record<FleetResyncReason, number> = { start: 0, gap: 0, epoch: 0 }
  #lastId = '0-0'
  /** Log places taken by entries refused by policy, in case a second entry claims one. */
  readonly #refusedSeqs = new Set<number>()
  readonly #context: LogFollowerContext

  constructor (context: LogFollowerContext) {
    this.#context = context
  }

  /** Forgets the position (the fleet stopped): the next start loads the snapshot. */
  reset (): void {
    this.lastSeq = 0
    this.#lastId = '0-0'
    this.epoch = undefined
  }

  /**
   * Back after an outage: the log is read on from the last change applied (a trimmed log
   * shows as a jump of `seq`, and the snapshot is reloaded then). Only a store that lost its
   * data (a new epoch, or fewer changes than the node has seen) is reloaded at once.
   */
  async resume (session: Session): Promise<void> {
    const position = await this.#position(session)
    if (position.epoch !== this.epoch || position.seq < this.lastSeq) {
      await this.resync(session, 'epoch', position)
    }
  }

  /** Loads the snapshot and sets the log position to follow from. */
  async resync (session: Session, reason: FleetResyncReason, known?: Position): Promise<void> {
    const context = this.#context
    const table = context.table
    const { seq, id, epoch } = known ?? await this.#position(session)
    const lost = this.epoch !== undefined && (epoch !== this.epoch || seq < this.lastSeq)
    if (lost) reason = 'epoch'

    const present = new Set<string>()
    const snapshot: RuleChange[] = []
    let cursor = '0'
    do {
      const page = await session.command.sendCommand(['HSCAN', context.keys.rules, cursor, 'COUNT', String(SCAN_COUNT)])
      if (!Array.isArray(page) || page.length !== 2 || typeof page[0] !== 'string' || !Array.isArray(page[1])) {
        throw new Error('Unexpected reply to HSCAN')
      }
      cursor = page[0]
      const pairs = page[1] as unknown[]
      for (let index = 0; index + 1 < pairs.length; index += 2) {
        const field = pairs[index]
        if (typeof field === 'string') present.add(field)
        const read = readHashRule(field, pairs[index + 1], context.options.accept, context.options.widestAllow)
        if (isChange(read)) {
          snapshot.push(read)
        } else {
          table.reject('snapshot', preview(field), read)
        }
      }
    } while (cursor !== '0')

    if (lost) {
      // Redis lost its data (restarted without persistence, or flushed). Keep every rule
      // (never fail open) and write them back, so that the fleet gets them again.
      for (const [key, rule] of table.rules) {
        table.rules.set(key, { ...rule, seq: 0 })
        if (!present.has(key)) context.restore(rule)
      }
    } else {
      for (const [key, rule] of table.rules) {
        if (!present.has(key)) table.removeRule(key, rule, 'snapshot')
      }
    }
    for (const change of snapshot) {
      table.applyChange(change, 'snapshot')
    }
    for (const [key, local] of table.local) {
      if (local.ackSeq !== undefined && local.ackSeq <= seq) table.dropLocal(key, local)
    }
    table.flush()
    this.lastSeq = seq
    this.#lastId = id
    this.#refusedSeqs.clear()
    this.epoch = epoch
    this.resyncs[reason]++
    if (context.events.listenerCount('fleet:resync') > 0) {
      context.events.safeDispatchEvent('fleet:resync', { detail: { reason, rules: table.rules.size, seq } })
    }
  }

  /** Reads the log with blocking XREADs and applies every change, in order. */
  async follow (session: Session, signal: AbortSignal): Promise<void> {
    const context = this.#context
    const table = context.table
    while (!signal.aborted) {
      const read = session.reader.sendCommand(['XREAD', 'COUNT', String(READ_COUNT), 'BLOCK', String(BLOCK_MS), 'STREAMS', context.keys.log, this.#lastId])
      let deadline: ReturnType<typeof setTimeout> | undefined
      const reply = await Promise.race([
        read,
        new Promise<never>((_resolve, reject) => {
          deadline = setTimeout(() => { reject(new Error(`No answer from Redis to a blocking read within ${BLOCK_MS + BLOCK_GRACE_MS} ms`)) }, BLOCK_MS + BLOCK_GRACE_MS)
        })
      ]).finally(() => { clearTimeout(deadline) })
      if (reply === null) continue
      const entries = Array.isArray(reply) && Array.isArray(reply[0]) ? (reply[0] as unknown[])[1] : undefined
      if (!Array.isArray(entries)) throw new Error('Unexpected reply to XREAD')
      for (const item of entries as unknown[]) {
        if (!Array.isArray(item) || typeof item[0] !== 'string' || !STREAM_ID.test(item[0])) {
          throw new Error('Unexpected entry in the XREAD reply')
        }
        const id = item[0]
        const change = readLogEntry(item[1], context.options.accept, context.options.widestAllow)
        this.#lastId = id
        const seq = change.seq
        if (seq === undefined) {
          // Malformed: not written by the fleet's scripts, so it took no place in the log.
          if (!isChange(change)) table.reject('log', id, change)
          continue
        }
        if (seq > this.lastSeq + 1) {
          if (await this.#isGap(session, seq)) {
            table.flush()
            await this.resync(session, 'gap')
            break
          }
          table.reject('log', id, { reason: `sequence number ${seq} is ahead of the store's` })
          continue
        }
        if (seq <= this.lastSeq) {
          // Two entries claim one place: the first was refused, so it was likely forged.
          if (isChange(change) && this.#refusedSeqs.delete(seq)) {
            table.applyChange(change, 'log')
          } else {
            table.reject('log', id, { reason: `sequence number ${seq} was already applied` })
          }
          continue
        }
        this.lastSeq = seq
        if (isChange(change)) {
          table.applyChange(change, 'log')
        } else {
          table.reject('log', id, change)
          this.#refusedSeqs.add(seq)
          if (this.#refusedSeqs.size > MAX_REFUSED_SEQS) this.#refusedSeqs.delete(this.#refusedSeqs.values().next().value ?? 0)
        }
      }
      table.flush()
    }
  }

  /** Whether a jump to `seq` is a real gap (the store has reached it), not a forged entry. */
  async #isGap (session: Session, seq: number): Promise<boolean> {
    return (await this.#position(session)).seq >= seq
  }

  /** The store's position (last seq and log id) and epoch, and its clock, read atomically. */
  async #position (session: Session): Promise<Position> {
    const context = this.#context
    const sentAt = context.time.nodeNow()
    const position = await evalScript(session.command, POSITION_SCRIPT, [context.keys.meta], [context.newEpoch()])
    if (!Array.isArray(position) || position.length !== 4) throw new Error('Unexpected reply to the position script')
    const [seqText, id, epoch, redisNow] = position as unknown[]
    const seq = integerReply(seqText)
    if (seq === undefined || seq < 0 || typeof id !== 'string' || !STREAM_ID.test(id) || typeof epoch !== 'string' || epoch.length === 0 || epoch.length > 64) {
      // The store's own bookkeeping is damaged: keep everything we hold and try again later.
      throw new Error(`The fleet's meta record is malformed (seq ${preview(seqText)}, id ${preview(id)}, epoch ${preview(epoch)})`)
    }
    context.time.learn(redisNow, sentAt)
    return { seq, id, epoch }
  }
}
