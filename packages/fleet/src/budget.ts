import { formatIp, maskIp, parseIpInto } from '@cm/config/address'
import type { ResolvedBudget, ResolvedTier } from './options.ts'

/** One budget key (a host or a tier's prefix) in the current window, on this node. */
interface KeyState {
  readonly tier: number
  /** The canonical text of the key's range (`203.0.113.7`, `2001:db8:1:2::/64`). */
  readonly text: string
  /** The window this state belongs to. */
  window: number
  /** The fleet-wide count as of this node's last sync reply (F). */
  known: number
  /** Attempts admitted since the last report was sent. */
  pending: number
  /** Attempts sent in the report whose reply has not arrived yet. */
  inFlight: number
  /** Until when this node holds the key (refuses it locally); 0: not held. */
  heldUntil: number
}

/** One line of a report: a key and the attempts this node admitted from it. */
export interface ReportLine {
  readonly tier: number
  /** The window the attempts were counted in. */
  readonly window: number
  readonly text: string
  readonly count: number
}

/** What the budget asks of the gates after an attempt or a reply. */
export interface HoldChange {
  /** Keys to refuse locally, with the time (budget clock) until which. */
  readonly hold: ReadonlyArray<{ readonly text: string, readonly tier: string, readonly until: number }>
  /** Keys to refuse no longer. */
  readonly release: readonly string[]
}

const COLON = 58

const NO_CHANGE: HoldChange = Object.freeze({ hold: Object.freeze([]), release: Object.freeze([]) })

/**
 * The most attempts of one key a fleet of `nodes` nodes can admit in one window with
 * budget `limit`, when each node holds the key as soon as its projection says the budget
 * is spent: `limit - 1 + nodes × ceil(limit / nodes)`. (The README derives it.)
 *
 * @param limit - the budget B of the tier, per window
 * @param nodes - the number of nodes N
 *
 * @example
 * ```ts
 * import { budgetBound } from '@cm/fleet'
 *
 * budgetBound(30, 3) // 59: at worst, under twice the budget
 * ```
 */
export function budgetBound (limit: number, nodes: number): number {
  return limit - 1 + nodes * Math.ceil(limit / nodes)
}

/**
 * A node's side of the fleet budget. Counts the attempts this node admitted per key and
 * window, with no I/O, and decides when to hold a key locally: as soon as
 * `known + nodes × (pending + inFlight) >= limit`, that is, when the fleet's total as of
 * the last reply, plus this node's unacknowledged attempts counted once for every node,
 * reaches the budget. A hold lasts until the next reply (at most `holdMs`); a reply whose
 * total reaches the budget holds the key until the window ends (Redis writes the shared
 * block at the same time).
 *
 * Times are the budget clock's: Redis's milliseconds as this node estimates them.
 */
export class BudgetCounter {
  readonly #tiers: readonly ResolvedTier[]
  readonly #maxKeys: number
  readonly #holdMs: number
  readonly #keys = new Map<string, KeyState>()
  readonly #words = new Uint32Array(4)
  readonly #scratch = new Uint32Array(4)
  #nodes = 1
  /** The live-node counts of the last replies: N is the largest, so one late heartbeat does not shrink it. */
  readonly #nodeCounts: number[] = []
  /** Attempts admitted uncounted because `maxKeys` keys were already counted. */
  untracked = 0

  /**
   * @param budget - the tiers and the key cap
   * @param holdMs - how long a hold lasts without a reply
   */
  constructor (budget: ResolvedBudget, holdMs: number) {
    this.#tiers = budget.tiers
    this.#maxKeys = budget.maxKeys
    this.#holdMs = holdMs
  }

  /** The number of live nodes: the largest count of the last 20 replies (at least 1). */
  get nodes (): number {
    return this.#nodes
  }

  /** The number of keys counted. */
  get size (): number {
    return this.#keys.size
  }

  /** The keys held now. */
  held (): string[] {
    return [...this.#keys.values()].filter(state => state.heldUntil > 0).map(state => state.text)
  }

  /**
   * Counts one admitted attempt from `ip` at `now`. Returns the keys to hold now (usually
   * none). Never throws; an unparsable address is not counted.
   */
  record (ip: string, now: number): HoldChange {
    const family = parseIpInto(ip, this.#words)
    if (family === 0) {
      return NO_CHANGE
    }
    let change: HoldChange = NO_CHANGE
    const tiers = this.#tiers
    for (let index = 0; index < tiers.length; index++) {
      const tier = tiers[index] as ResolvedTier
      // A dotted IPv4 address that parsed is already canonical: the host key itself.
      const text = family === 4 && tier.ipv4PrefixLength === 32 && ip.charCodeAt(0) !== COLON ? ip : this.#keyText(family, tier)
      const window = Math.floor(now / tier.windowMs)
      let state = this.#keys.get(text)
      if (state === undefined) {
        if (this.#keys.size >= this.#maxKeys) {
          this.untracked++
          continue
        }
        state = { tier: index, text, window, known: 0, pending: 0, inFlight: 0, heldUntil: 0 }
        this.#keys.set(text, state)
      } else if (state.window !== window) {
        state.window = window
        state.known = 0
        state.inFlight = 0
        state.pending = 0
        state.heldUntil = 0
      }
      state.pending++
      if (state.heldUntil <= now && state.known + this.#nodes * (state.pending + state.inFlight) >= tier.limit) {
        const hold = { text, tier: tier.name, until: Math.min(now + this.#holdMs, (window + 1) * tier.windowMs) }
        state.heldUntil = hold.until
        change = change === NO_CHANGE ? { hold: [hold], release: [] } : { hold: [...change.hold, hold], release: [] }
      }
    }
    return change
  }

  /**
   * Takes the report to send: every key with pending attempts whose projection has reached
   * half its budget; their counts move to in-flight until {@link BudgetCounter.applyReply}.
   */
  takeReport (): ReportLine[] {
    const lines: ReportLine[] = []
    for (const state of this.#keys.values()) {
      if (state.pending > 0 && this.#reportable(state)) {
        lines.push({ tier: state.tier, window: state.window, text: state.text, count: state.pending })
        state.inFlight += state.pending
        state.pending = 0
      }
    }
    return lines
  }

  /**
   * Takes Redis's answer to a report: the fleet-wide total of each line, and the live
   * node count. Returns the holds to place (keys at or over budget: until the window
   * ends) and to lift (keys whose projection is under budget again). A key's attempts of a
   * past window are carried into the current one if they were worth reporting, else dropped;
   * a key not seen for a whole window is forgotten.
   */
  applyReply (lines: readonly ReportLine[], totals: readonly number[], nodes: number, now: number): HoldChange {
    this.#nodeCounts.push(Math.max(1, nodes))
    if (this.#nodeCounts.length > 20) this.#nodeCounts.shift()
    this.#nodes = Math.max(...this.#nodeCounts)
    const hold: Array<{ text: string, tier: string, until: number }> = []
    const release: string[] = []
    lines.forEach((line, index) => {
      const state = this.#keys.get(line.text)
      if (state === undefined || state.window !== line.window) return
      state.inFlight = Math.max(0, state.inFlight - line.count)
      const total = totals[index]
      if (total !== undefined && Number.isSafeInteger(total) && total >= state.known) {
        state.known = total
      }
    })
    for (const [text, state] of this.#keys) {
      const tier = this.#tiers[state.tier] as ResolvedTier
      const window = Math.floor(now / tier.windowMs)
      if (state.window !== window) {
        if (state.heldUntil > 0) release.push(text)
        if (state.pending > 0 && this.#reportable(state)) {
          state.window = window
          state.known = 0
          state.inFlight = 0
          state.heldUntil = 0
        } else if (state.window < window - 1) {
          this.#keys.delete(text)
        } else {
          // Attempts of the past window that were never reported go with it; the key stays
          // for one window, so that a host seen again reuses it.
          state.known = 0
          state.inFlight = 0
          state.pending = 0
          state.heldUntil = 0
        }
        continue
      }
      if (state.known >= tier.limit) {
        state.heldUntil = (window + 1) * tier.windowMs
        hold.push({ text, tier: tier.name, until: state.heldUntil })
      } else if (state.known + this.#nodes * (state.pending + state.inFlight) >= tier.limit) {
        state.heldUntil = Math.min(now + this.#holdMs, (window + 1) * tier.windowMs)
        hold.push({ text, tier: tier.name, until: state.heldUntil })
      } else if (state.heldUntil > 0) {
        state.heldUntil = 0
        release.push(text)
      }
    }
    return hold.length === 0 && release.length === 0 ? NO_CHANGE : { hold, release }
  }

  /**
   * Forgets everything (Redis is away: the node falls back on its own limiter). Returns
   * the keys that were held, to release.
   */
  reset (): string[] {
    const held = this.held()
    this.#keys.clear()
    return held
  }

  /**
   * Whether a key's pending attempts go into the next report: once its projection
   * (`known + nodes × unacknowledged`) reaches half its budget. The bound holds whatever is
   * reported, because a node counts its unreported attempts as unacknowledged; reporting
   * only lets a host that uses few nodes have more than its share of each. Below half the
   * budget there is nothing to gain, so a host seen a few times (a flood from many hosts)
   * costs no Redis work.
   */
  #reportable (state: KeyState): boolean {
    const tier = this.#tiers[state.tier] as ResolvedTier
    return 2 * (state.known + this.#nodes * (state.pending + state.inFlight)) >= tier.limit
  }

  /** The canonical text of the key of the address in #words for a tier. */
  #keyText (family: 4 | 6, tier: ResolvedTier): string {
    const prefix = family === 4 ? tier.ipv4PrefixLength : tier.ipv6PrefixLength
    const full = family === 4 ? 32 : 128
    const scratch = this.#scratch
    scratch.set(this.#words)
    const words = family === 4 ? scratch.subarray(0, 1) : scratch
    maskIp(words, prefix)
    const address = formatIp(family, words)
    return prefix === full ? address : `${address}/${prefix}`
  }
}
