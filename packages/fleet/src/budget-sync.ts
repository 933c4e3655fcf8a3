import { BudgetCounter } from './budget.ts'
import { evalScript, integerReply } from './redis.ts'
import { SYNC_SCRIPT } from './scripts.ts'
import type { ReportLine } from './budget.ts'
import type { FleetState } from './events.ts'
import type { ResolvedFleetOptions } from './options.ts'
import type { RedisTime } from './redis-time.ts'
import type { RuleTable } from './rule-table.ts'
import type { FleetKeys } from './scripts.ts'
import type { Session } from './session.ts'

/** Budget keys per sync call. */
const SYNC_CHUNK = 512

/** What a {@link BudgetSync} reads and acts through. */
export interface BudgetSyncContext {
  readonly node: string
  readonly options: Pick<ResolvedFleetOptions, 'budget' | 'syncIntervalMs' | 'logLength'>
  readonly keys: FleetKeys
  readonly table: RuleTable
  readonly time: RedisTime
  /** A fresh candidate for the store's epoch. */
  newEpoch(): string
  /** The store's epoch, as the log follower last read it. */
  epoch(): string | undefined
  /** The live session, if any. */
  session(): Session | undefined
  /** The link's state. */
  state(): FleetState
}

/**
 * A node's periodic sync with the fleet's store, every `syncIntervalMs` while synchronised:
 * its heartbeat (the N of the budget), a clock measurement, lapsed rules pruned in Redis,
 * and, with a budget, the attempts counted since the last sync, whose totals turn into
 * holds on the gates. Counting an attempt is {@link BudgetSync.record}: in memory, no I/O.
 */
export class BudgetSync {
  /** The budget's counter, or `undefined` without a budget. */
  readonly counter: BudgetCounter | undefined
  /** Syncs completed. */
  syncs = 0
  readonly #context: BudgetSyncContext
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor (context: BudgetSyncContext) {
    this.#context = context
    const options = context.options
    this.counter = options.budget === null ? undefined : new BudgetCounter(options.budget, Math.max(4 * options.syncIntervalMs, 1_000))
  }

  /** Counts an admitted inbound attempt of an untrusted host for the budget (no I/O). */
  record (ip: string): void {
    const counter = this.counter
    if (counter === undefined || this.#context.state() !== 'synced') return
    const change = counter.record(ip, this.#context.time.now())
    if (change.hold.length > 0) this.#context.table.applyHolds(change)
  }

  /** Forgets the counts and lifts the holds (Redis is away, or the fleet stops). */
  reset (): void {
    this.#context.table.releaseHolds(this.counter?.reset() ?? [])
  }

  /** Syncs after `syncIntervalMs`, then again after each sync, while `session` is live and synchronised. */
  schedule (session: Session): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#sync(session).then(
        () => { if (this.#context.session() === session && this.#context.state() === 'synced') this.schedule(session) },
        (error: unknown) => { session.fail(error) }
      )
    }, this.#context.options.syncIntervalMs)
  }

  stop (): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** One sync: heartbeat, clock, lapsed rules pruned in Redis, budget report and reply. */
  async #sync (session: Session): Promise<void> {
    const context = this.#context
    const options = context.options
    const counter = this.counter
    const lines = counter?.takeReport() ?? []
    const tiers = options.budget?.tiers ?? []
    const head = [
      context.node,
      Math.max(10 * options.syncIntervalMs, 2_000),
      options.logLength,
      context.newEpoch(),
      context.keys.budget,
      tiers.length,
      ...tiers.flatMap(tier => [tier.limit, tier.windowMs])
    ]
    const chunks: ReportLine[][] = []
    for (let index = 0; index < lines.length || index === 0; index += SYNC_CHUNK) {
      chunks.push(lines.slice(index, index + SYNC_CHUNK))
    }
    const keys = [context.keys.rules, context.keys.log, context.keys.meta, context.keys.expiry, context.keys.nodes]
    const sentAt = context.time.nodeNow()
    const replies = await Promise.all(chunks.map(async chunk => await evalScript(session.command, SYNC_SCRIPT, keys, [
      ...head,
      ...chunk.flatMap(line => [line.tier, line.window, line.text, line.count])
    ])))
    if (context.session() !== session) return
    const first = replies[0]
    if (!Array.isArray(first) || first.length < 3) throw new Error('Unexpected reply to the sync script')
    context.time.learn(first[0], sentAt)
    if (first[2] !== context.epoch()) {
      throw new Error('The fleet store lost its data (its epoch changed)')
    }
    this.syncs++
    if (counter !== undefined) {
      const totals = replies.flatMap(reply => Array.isArray(reply) ? reply.slice(3).map(value => integerReply(value) ?? -1) : [])
      const change = counter.applyReply(lines, totals, integerReply(first[1]) ?? 1, context.time.now())
      if (change.hold.length > 0 || change.release.length > 0) {
        context.table.applyHolds(change)
        context.table.flush()
      }
    }
  }
}
