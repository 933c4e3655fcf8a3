import { formatIp, maskIp, parseIpInto } from '@cm/config/address'
import type { HoldChange, ReportLine } from '../../src/budget.ts'
import type { ResolvedBudget, ResolvedTier } from '../../src/options.ts'

/** One budget key (a host or a tier's prefix) in the current window, on this node. */
interface KeyState {
  readonly tier: number
  /** Its key in the table that holds it (see {@link BudgetCounter}). */
  readonly key: number | string
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

/** A key to refuse locally, with the time (budget clock) until which. */
type Hold = HoldChange['hold'][number]

const COLON = 58

const NO_CHANGE: HoldChange = Object.freeze({ hold: Object.freeze([]), release: Object.freeze([]) })

/**
 * The reference the model test holds `BudgetCounter` to: the counter as it was before the
 * cold keys moved into typed arrays (`src/key-counts.ts`), one object and one map entry
 * per key, with every key settled at every reply. Same behaviour, simpler shape.
 *
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
export class ReferenceBudgetCounter {
  readonly #tiers: readonly ResolvedTier[]
  readonly #maxKeys: number
  readonly #holdMs: number
  /**
   * IPv4 keys, one map per tier, by the masked address as an int32: a small integer to V8
   * on 64-bit Node, so a lookup on the accept path hashes no string and follows no pointer
   * to compare keys. The host tier of a busy node holds thousands of keys, mostly out of
   * the CPU's caches.
   */
  readonly #v4: Array<Map<number, KeyState>>
  /** IPv6 keys, one map per tier, by their text. */
  readonly #v6: Array<Map<string, KeyState>>
  /** Every table, for the passes over all keys. */
  readonly #tables: Array<Map<number | string, KeyState>>
  #size = 0
  /** The key each line of a report was taken from, for its reply. */
  readonly #reported = new WeakMap<ReportLine, KeyState>()
  /**
   * The states holding each held text. Two tiers of the same prefix length count the same
   * text apart, but the gate holds a text once: until the latest of its holders' times,
   * and released when the last one lets go.
   */
  readonly #holding = new Map<string, Set<KeyState>>()
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
    this.#v4 = budget.tiers.map(() => new Map<number, KeyState>())
    this.#v6 = budget.tiers.map(() => new Map<string, KeyState>())
    this.#tables = [...this.#v4, ...this.#v6] as Array<Map<number | string, KeyState>>
  }

  /** The number of live nodes: the largest count of the last 20 replies (at least 1). */
  get nodes (): number {
    return this.#nodes
  }

  /** The number of keys counted. */
  get size (): number {
    return this.#size
  }

  /** The keys held now. */
  held (): string[] {
    return [...this.#holding.keys()]
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
      const window = Math.floor(now / tier.windowMs)
      const table = (family === 4 ? this.#v4[index] : this.#v6[index]) as Map<number | string, KeyState>
      const key = family === 4 ? maskV4(this.#words[0] as number, tier.ipv4PrefixLength) : this.#keyText(6, tier)
      let state = table.get(key)
      if (state === undefined) {
        if (this.#size >= this.#maxKeys) {
          this.untracked++
          continue
        }
        // A dotted IPv4 address that parsed is already canonical: the host key's text itself.
        const text = typeof key === 'string' ? key : tier.ipv4PrefixLength === 32 && ip.charCodeAt(0) !== COLON ? ip : this.#keyText(4, tier)
        state = { tier: index, key, text, window, known: 0, pending: 0, inFlight: 0, heldUntil: 0 }
        table.set(key, state)
        this.#size++
      } else if (state.window !== window) {
        state.window = window
        state.known = 0
        state.inFlight = 0
        state.pending = 0
        // The gate's hold lapses by itself: it ended with the past window at the latest.
        if (state.heldUntil > 0) this.#unhold(state)
      }
      state.pending++
      if (state.heldUntil <= now && state.known + this.#nodes * (state.pending + state.inFlight) >= tier.limit) {
        const hold = this.#hold(state, tier, Math.min(now + this.#holdMs, (window + 1) * tier.windowMs))
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
    for (const table of this.#tables) {
      for (const state of table.values()) {
        if (state.pending > 0 && this.#reportable(state)) {
          const line = { tier: state.tier, window: state.window, text: state.text, count: state.pending }
          this.#reported.set(line, state)
          lines.push(line)
          state.inFlight += state.pending
          state.pending = 0
        }
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
    const hold: Hold[] = []
    const release: string[] = []
    lines.forEach((line, index) => {
      const state = this.#reported.get(line)
      if (state === undefined || state.window !== line.window) return
      state.inFlight = Math.max(0, state.inFlight - line.count)
      const total = totals[index]
      if (total !== undefined && Number.isSafeInteger(total) && total >= state.known) {
        state.known = total
      }
    })
    for (const table of this.#tables) {
      for (const state of table.values()) {
        this.#settle(state, table, now, hold, release)
      }
    }
    if (hold.length === 0 && release.length === 0) return NO_CHANGE
    // A text one tier let go of and another then held stays held.
    return { hold, release: release.filter(text => !this.#holding.has(text)) }
  }

  /** One key's part of {@link BudgetCounter.applyReply}, after the totals are in. */
  #settle (state: KeyState, table: Map<number | string, KeyState>, now: number, hold: Hold[], release: string[]): void {
    const tier = this.#tiers[state.tier] as ResolvedTier
    const window = Math.floor(now / tier.windowMs)
    if (state.window !== window) {
      if (state.heldUntil > 0) this.#letGo(state, hold, release)
      if (state.pending > 0 && this.#reportable(state)) {
        state.window = window
        state.known = 0
        state.inFlight = 0
      } else if (state.window < window - 1) {
        table.delete(state.key)
        this.#size--
      } else {
        // Attempts of the past window that were never reported go with it; the key stays
        // for one window, so that a host seen again reuses it.
        state.known = 0
        state.inFlight = 0
        state.pending = 0
      }
      return
    }
    if (state.known >= tier.limit) {
      hold.push(this.#hold(state, tier, (window + 1) * tier.windowMs))
    } else if (state.known + this.#nodes * (state.pending + state.inFlight) >= tier.limit) {
      hold.push(this.#hold(state, tier, Math.min(now + this.#holdMs, (window + 1) * tier.windowMs)))
    } else if (state.heldUntil > 0) {
      this.#letGo(state, hold, release)
    }
  }

  /** Holds a key until `until`; returns the gate's hold of its text: until its holders' latest time. */
  #hold (state: KeyState, tier: ResolvedTier, until: number): Hold {
    state.heldUntil = until
    let holders = this.#holding.get(state.text)
    if (holders === undefined) {
      holders = new Set()
      this.#holding.set(state.text, holders)
    }
    holders.add(state)
    return { text: state.text, tier: tier.name, until: latestOf(holders).heldUntil }
  }

  /** Stops holding a key; returns its text's other holders, if any. */
  #unhold (state: KeyState): Set<KeyState> | undefined {
    state.heldUntil = 0
    const holders = this.#holding.get(state.text)
    holders?.delete(state)
    if (holders !== undefined && holders.size > 0) return holders
    this.#holding.delete(state.text)
    return undefined
  }

  /** Stops holding a key: its text is released, or held until its other holders' latest time. */
  #letGo (state: KeyState, hold: Hold[], release: string[]): void {
    const others = this.#unhold(state)
    if (others === undefined) {
      release.push(state.text)
      return
    }
    const last = latestOf(others)
    hold.push({ text: state.text, tier: (this.#tiers[last.tier] as ResolvedTier).name, until: last.heldUntil })
  }

  /**
   * Forgets everything (Redis is away: the node falls back on its own limiter). Returns
   * the keys that were held, to release.
   */
  reset (): string[] {
    const held = this.held()
    this.#holding.clear()
    for (const table of this.#tables) table.clear()
    this.#size = 0
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

/** An IPv4 address (a word) masked to a prefix length, as an int32 key. */
function maskV4 (word: number, prefixLength: number): number {
  return prefixLength === 0 ? 0 : word & (-1 << (32 - prefixLength))
}

/** The holder held the longest, of a set that has at least one. */
function latestOf (holders: ReadonlySet<KeyState>): KeyState {
  let latest: KeyState | undefined
  for (const holder of holders) if (latest === undefined || holder.heldUntil > latest.heldUntil) latest = holder
  return latest as KeyState
}
