import { Heap } from 'mnemonist'
import { preview, ruleKey } from './records.ts'
import type { GateBinding, Source } from './binding.ts'
import type { HoldChange } from './budget.ts'
import type { FleetEvents, FleetRemoveReason, FleetRuleSource } from './events.ts'
import type { FleetRule, Refusal, RuleChange } from './records.ts'
import type { SafeEventEmitter } from '@cm/config/events'
import type { GateList } from '@cm/gate'

/** A rule this node wrote, enforced here until its change comes back through the log. */
export interface LocalRule {
  readonly list: GateList
  readonly entry: string
  readonly expiresAt: number
  /** The change's sequence number, once Redis acknowledged it. */
  ackSeq: number | undefined
}

interface Timed {
  readonly kind: 'rule' | 'local' | 'hold'
  readonly key: string
  readonly at: number
}

function compareTimed (a: Timed, b: Timed): number {
  return a.at - b.at
}

/** What a {@link RuleTable} reports through and reads. */
export interface RuleTableContext {
  readonly events: SafeEventEmitter<FleetEvents>
  /** Rules held from the fleet at the most. */
  readonly maxRules: number
  /** Redis time as this node estimates it (ms). */
  now(): number
}

/**
 * What one node holds and enforces: the fleet's rules (from the snapshot and the log), its
 * own rules not yet back from the log, and its budget holds. It puts each change on every
 * attached gate (through their {@link GateBinding}s), takes each off when its time comes
 * (one timer for the earliest), and reports `rule:*` and `budget:*` events.
 *
 * Changes are batched: callers end a batch with {@link RuleTable.flush}, which lets the
 * bindings close the connections new bans match.
 */
export class RuleTable {
  /** The fleet's rules, by {@link ruleKey}. */
  readonly rules = new Map<string, FleetRule>()
  /** This node's own rules not yet back from the log, by {@link ruleKey}. */
  readonly local = new Map<string, LocalRule>()
  /** Budget holds: key text to until when (Redis time). */
  readonly holds = new Map<string, number>()
  /** Rule changes applied, and records refused. */
  readonly counts = { applied: 0, rejected: 0 }
  readonly #context: RuleTableContext
  readonly #bindings = new Set<GateBinding>()
  #timed = new Heap<Timed>(compareTimed)
  #lapseTimer: ReturnType<typeof setTimeout> | undefined
  #lapseAt = Infinity

  constructor (context: RuleTableContext) {
    this.#context = context
  }

  /** Puts everything held on a new binding's gate; returns the function that takes it off. */
  attach (binding: GateBinding): () => void {
    this.#bindings.add(binding)
    for (const rule of this.rules.values()) {
      binding.set(rule.list, rule.entry, 'fleet', rule.expiresAt ?? Infinity)
    }
    for (const local of this.local.values()) {
      binding.set(local.list, local.entry, 'local', local.expiresAt)
    }
    for (const [text, until] of this.holds) {
      binding.set('deny', text, 'hold', until)
    }
    binding.flush()
    return () => {
      if (this.#bindings.delete(binding)) binding.detach()
    }
  }

  /** Applies one change of the snapshot or the log, unless what the node holds is newer. */
  applyChange (change: RuleChange, source: FleetRuleSource): void {
    const key = ruleKey(change.list, change.entry)
    const current = this.rules.get(key)
    const local = this.local.get(key)
    if (local?.ackSeq !== undefined && local.ackSeq <= change.seq) this.dropLocal(key, local)
    if (current !== undefined && change.seq <= current.seq) return
    this.counts.applied++
    const expiresAt = change.expiresAt === 0 ? Infinity : change.expiresAt
    if (change.op === 'del' || expiresAt <= this.#context.now()) {
      if (current !== undefined) this.removeRule(key, current, change.op === 'del' ? 'removed' : 'lapsed')
      return
    }
    const maxRules = this.#context.maxRules
    if (current === undefined && this.rules.size >= maxRules) {
      this.reject(source === 'snapshot' ? 'snapshot' : 'log', key, { reason: `over maxRules (${maxRules})`, seq: change.seq })
      return
    }
    const rule: FleetRule = expiresAt === Infinity
      ? { list: change.list, entry: change.entry, seq: change.seq, by: change.by }
      : { list: change.list, entry: change.entry, expiresAt, seq: change.seq, by: change.by }
    this.rules.set(key, rule)
    this.#set(rule.list, rule.entry, 'fleet', expiresAt, rule.by !== 'budget')
    if (expiresAt !== Infinity) this.#pushTimed({ kind: 'rule', key, at: expiresAt })
    const events = this.#context.events
    if (events.listenerCount('rule:apply') > 0) {
      events.safeDispatchEvent('rule:apply', { detail: { rule, source } })
    }
  }

  removeRule (key: string, rule: FleetRule, reason: FleetRemoveReason): void {
    this.rules.delete(key)
    this.#set(rule.list, rule.entry, 'fleet', undefined)
    const events = this.#context.events
    if (events.listenerCount('rule:remove') > 0) {
      events.safeDispatchEvent('rule:remove', { detail: { rule, reason } })
    }
  }

  /** Enforces a rule this node writes, at once (and closes what a ban matches). */
  addLocal (key: string, local: LocalRule): void {
    this.local.set(key, local)
    this.#set(local.list, local.entry, 'local', local.expiresAt, true)
    this.flush()
    if (local.expiresAt !== Infinity) this.#pushTimed({ kind: 'local', key, at: local.expiresAt })
  }

  dropLocal (key: string, local: LocalRule): void {
    this.local.delete(key)
    this.#set(local.list, local.entry, 'local', undefined)
  }

  /** Counts and reports a record read from Redis and refused. */
  reject (source: 'snapshot' | 'log', at: string, refusal: Refusal): void {
    this.counts.rejected++
    const events = this.#context.events
    if (events.listenerCount('rule:reject') > 0) {
      events.safeDispatchEvent('rule:reject', { detail: { source, at: preview(at), reason: refusal.reason } })
    }
  }

  /** Places the budget's new holds and lifts the ones it released. */
  applyHolds (change: HoldChange): void {
    const events = this.#context.events
    for (const hold of change.hold) {
      if (this.holds.get(hold.text) === hold.until) continue
      this.holds.set(hold.text, hold.until)
      this.#set('deny', hold.text, 'hold', hold.until)
      this.#pushTimed({ kind: 'hold', key: hold.text, at: hold.until })
      if (events.listenerCount('budget:hold') > 0) {
        events.safeDispatchEvent('budget:hold', { detail: { key: hold.text, tier: hold.tier, until: hold.until } })
      }
    }
    this.releaseHolds(change.release)
  }

  releaseHolds (keys: readonly string[]): void {
    const events = this.#context.events
    for (const key of keys) {
      if (!this.holds.delete(key)) continue
      this.#set('deny', key, 'hold', undefined)
      if (events.listenerCount('budget:release') > 0) {
        events.safeDispatchEvent('budget:release', { detail: { key, tier: '' } })
      }
    }
  }

  /** Ends a batch of changes. */
  flush (): void {
    for (const binding of this.#bindings) binding.flush()
  }

  /**
   * Takes the fleet's rules and this node's own off the gates, without events (the fleet
   * stops), and stops the lapse timer. Holds are released apart, by the budget.
   */
  clear (): void {
    for (const [key, rule] of this.rules) {
      this.rules.delete(key)
      this.#set(rule.list, rule.entry, 'fleet', undefined)
    }
    for (const [key, local] of this.local) {
      this.local.delete(key)
      this.#set(local.list, local.entry, 'local', undefined)
    }
    this.flush()
    this.#timed = new Heap<Timed>(compareTimed)
    if (this.#lapseTimer !== undefined) clearTimeout(this.#lapseTimer)
    this.#lapseTimer = undefined
    this.#lapseAt = Infinity
  }

  #set (list: GateList, entry: string, source: Source, expiresAt: number | undefined, sweep = false): void {
    for (const binding of this.#bindings) {
      binding.set(list, entry, source, expiresAt, sweep)
    }
  }

  /** Queues a lapse; one timer serves the earliest. */
  #pushTimed (item: Timed): void {
    if (this.#timed.size > 4 * (this.rules.size + this.local.size + this.holds.size) + 1_024) {
      this.#timed = Heap.from(this.#timed.consume().filter(each => this.#isLive(each)), compareTimed)
    }
    this.#timed.push(item)
    this.#scheduleLapse()
  }

  #isLive (item: Timed): boolean {
    switch (item.kind) {
      case 'rule': return this.rules.get(item.key)?.expiresAt === item.at
      case 'local': return this.local.get(item.key)?.expiresAt === item.at
      case 'hold': return this.holds.get(item.key) === item.at
    }
  }

  #scheduleLapse (): void {
    const top = this.#timed.peek()
    if (top === undefined || top.at >= this.#lapseAt) return
    if (this.#lapseTimer !== undefined) clearTimeout(this.#lapseTimer)
    this.#lapseAt = top.at
    this.#lapseTimer = setTimeout(() => { this.#lapse() }, Math.min(Math.max(0, top.at - this.#context.now()), 2_147_483_647))
    this.#lapseTimer.unref?.()
  }

  /** Takes every rule, own rule and hold whose time has come off the gates. */
  #lapse (): void {
    this.#lapseTimer = undefined
    this.#lapseAt = Infinity
    const now = this.#context.now()
    for (let top = this.#timed.peek(); top !== undefined && top.at <= now; top = this.#timed.peek()) {
      this.#timed.pop()
      if (!this.#isLive(top)) continue
      if (top.kind === 'rule') {
        const rule = this.rules.get(top.key)
        if (rule !== undefined) this.removeRule(top.key, rule, 'lapsed')
      } else if (top.kind === 'local') {
        const local = this.local.get(top.key)
        if (local !== undefined) this.dropLocal(top.key, local)
      } else {
        this.releaseHolds([top.key])
      }
    }
    this.flush()
    this.#scheduleLapse()
  }
}
