import { formatIp, maskIp, parseIpInto } from '@cm/config/address'
import { COLD, COUNT, HOT, KEY, KeyCounts, MARK, WINDOW } from './key-counts.ts'
import type { ResolvedBudget, ResolvedTier } from './options.ts'

/**
 * One budget key (a host or a tier's prefix) in the current window, on this node, once it
 * is worth reporting (see {@link KeyCounts}).
 */
interface KeyState {
  readonly tier: number
  /** Its key in the map that holds it: the masked IPv4 address as an int32, or an IPv6 prefix's {@link v6MapKey}. */
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

/** One line of a report: a key and the attempts this node admitted from it. */
export interface ReportLine {
  readonly tier: number
  /** The window the attempts were counted in. */
  readonly window: number
  readonly text: string
  readonly count: number
}

/** A key to refuse locally, with the time (budget clock) until which. */
interface Hold { readonly text: string, readonly tier: string, readonly until: number }

/** What the budget asks of the gates after an attempt or a reply. */
export interface HoldChange {
  /** Keys to refuse locally, with the time (budget clock) until which; a later entry for the same key replaces an earlier one. */
  readonly hold: readonly Hold[]
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
  /**
   * Every key, one table per tier and family, by the masked address: one word for IPv4, four
   * for IPv6. A flood from many hosts is mostly keys seen a few times, far under half their
   * budget: those are counted in the table's slots alone, with no object and no pass over
   * them at each sync.
   */
  readonly #v4: KeyCounts[]
  readonly #v6: KeyCounts[]
  /** The keys worth reporting (marked hot in their table), one map per tier and family. */
  readonly #v4Hot: Array<Map<number, KeyState>>
  readonly #v6Hot: Array<Map<string, KeyState>>
  /** Every map of key states, for the passes over them. */
  readonly #tables: Array<Map<number | string, KeyState>>
  /** Per tier, the window its tables were last swept in. */
  readonly #swept: number[]
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
    this.#v4 = budget.tiers.map(() => new KeyCounts(1))
    this.#v6 = budget.tiers.map(() => new KeyCounts(4))
    this.#v4Hot = budget.tiers.map(() => new Map<number, KeyState>())
    this.#v6Hot = budget.tiers.map(() => new Map<string, KeyState>())
    this.#tables = [...this.#v4Hot, ...this.#v6Hot] as Array<Map<number | string, KeyState>>
    this.#swept = budget.tiers.map(() => Number.NEGATIVE_INFINITY)
  }

  /** The number of live nodes: the largest count of the last 20 replies (at least 1). */
  get nodes (): number {
    return this.#nodes
  }

  /** The number of keys counted. */
  get size (): number {
    let size = 0
    for (const table of this.#v4) size += table.size
    for (const table of this.#v6) size += table.size
    return size
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
      const state = family === 4 ? this.#v4State(index, tier, window, ip) : this.#v6State(index, tier, window)
      if (state === undefined) continue
      if (state.window !== window) {
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
   * Counts an IPv4 attempt (the address in `#words`) in its cold slot; returns the key's
   * state once it has one, to count the attempt there instead. A key gets its state when
   * this attempt makes it worth reporting; `undefined` when the attempt was counted here,
   * or not at all (`maxKeys`).
   */
  #v4State (index: number, tier: ResolvedTier, window: number, ip: string): KeyState | undefined {
    const key = maskV4(this.#words[0] as number, tier.ipv4PrefixLength)
    const table = this.#v4[index] as KeyCounts
    let at = table.find(key)
    if (at < 0) {
      if (!this.#hasRoom()) return undefined
      at = table.insert(key, window)
    }
    const slots = table.slots
    const hot = this.#v4Hot[index] as Map<number, KeyState>
    if (slots[at + MARK] === HOT) return hot.get(key)
    if (!this.#countCold(slots, at, window, tier)) return undefined
    // A dotted IPv4 address that parsed is already canonical: the host key's text itself.
    const text = tier.ipv4PrefixLength === 32 && ip.charCodeAt(0) !== COLON ? ip : v4Text(key, tier.ipv4PrefixLength)
    return promote(hot, key, index, slots, at, text)
  }

  /** {@link BudgetCounter.#v4State} for an IPv6 attempt, keyed by its prefix. */
  #v6State (index: number, tier: ResolvedTier, window: number): KeyState | undefined {
    const words = this.#scratch
    words.set(this.#words)
    maskIp(words, tier.ipv6PrefixLength)
    const table = this.#v6[index] as KeyCounts
    let at = table.findWords(words)
    if (at < 0) {
      if (!this.#hasRoom()) return undefined
      at = table.insertWords(words, window)
    }
    const slots = table.slots
    const hot = this.#v6Hot[index] as Map<string, KeyState>
    if (slots[at + MARK] === HOT) return hot.get(v6MapKey(words))
    if (!this.#countCold(slots, at, window, tier)) return undefined
    return promote(hot, v6MapKey(words), index, slots, at, v6Text(words, tier.ipv6PrefixLength))
  }

  /** Whether a new key may be counted; if not (`maxKeys` keys are), the attempt counts as untracked. */
  #hasRoom (): boolean {
    if (this.size < this.#maxKeys) return true
    this.untracked++
    return false
  }

  /**
   * Counts an attempt in a cold slot, in `window`. Returns true, counting nothing, when this
   * attempt makes the key worth reporting: the key then needs a state of its own.
   */
  #countCold (slots: Float64Array, at: number, window: number, tier: ResolvedTier): boolean {
    if (slots[at + WINDOW] !== window) {
      slots[at + WINDOW] = window
      slots[at + COUNT] = 0
    }
    const count = (slots[at + COUNT] as number) + 1
    if (2 * this.#nodes * count >= tier.limit) return true
    slots[at + COUNT] = count
    return false
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
    const before = this.#nodes
    this.#nodes = Math.max(...this.#nodeCounts)
    // More nodes make every unacknowledged attempt weigh more: cold keys may now be worth reporting.
    if (this.#nodes > before) this.#promoteReportable()
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
    this.#sweep(now)
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
        // Back to a cold slot of its last window: the sweep that follows forgets it.
        this.#demote(state)
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
    for (const table of this.#v4) table.clear()
    for (const table of this.#v6) table.clear()
    this.#swept.fill(Number.NEGATIVE_INFINITY)
    return held
  }

  /** Turns a forgotten key's hot slot back into a cold one, of the key's last window, counting nothing. */
  #demote (state: KeyState): void {
    let table: KeyCounts
    let at: number
    if (typeof state.key === 'number') {
      table = this.#v4[state.tier] as KeyCounts
      at = table.find(state.key)
    } else {
      table = this.#v6[state.tier] as KeyCounts
      at = table.findWords(v6Words(state.key, this.#scratch))
    }
    const slots = table.slots
    slots[at + MARK] = COLD
    slots[at + WINDOW] = state.window
    slots[at + COUNT] = 0
    this.#swept[state.tier] = Number.NEGATIVE_INFINITY
  }

  /** Gives every cold key worth reporting now a state of its own. */
  #promoteReportable (): void {
    const words = this.#scratch
    this.#tiers.forEach((tier, index) => {
      const v4 = this.#v4[index] as KeyCounts
      for (let at = 0; at < v4.slots.length; at += v4.stride) {
        if (this.#reportableCold(v4.slots, at, tier)) {
          const key = v4.slots[at + KEY] as number
          promote(this.#v4Hot[index] as Map<number, KeyState>, key, index, v4.slots, at, v4Text(key, tier.ipv4PrefixLength))
        }
      }
      const v6 = this.#v6[index] as KeyCounts
      for (let at = 0; at < v6.slots.length; at += v6.stride) {
        if (this.#reportableCold(v6.slots, at, tier)) {
          for (let word = 0; word < 4; word++) words[word] = v6.slots[at + KEY + word] as number
          promote(this.#v6Hot[index] as Map<string, KeyState>, v6MapKey(words), index, v6.slots, at, v6Text(words, tier.ipv6PrefixLength))
        }
      }
    })
  }

  /** Whether the slot at `at` is a cold key worth reporting (see {@link BudgetCounter.#reportable}). */
  #reportableCold (slots: Float64Array, at: number, tier: ResolvedTier): boolean {
    return slots[at + MARK] === COLD && 2 * this.#nodes * (slots[at + COUNT] as number) >= tier.limit
  }

  /**
   * Once a window at most per tier (or after a demotion), forgets the cold IPv4 keys idle
   * for a whole window and drops the counts of past windows: what {@link BudgetCounter.applyReply}
   * does for keys with a state, done for the cold ones by one pass over their table.
   */
  #sweep (now: number): void {
    this.#tiers.forEach((tier, index) => {
      const window = Math.floor(now / tier.windowMs)
      if (this.#swept[index] === window) return
      this.#swept[index] = window
      const v4 = this.#v4[index] as KeyCounts
      const v6 = this.#v6[index] as KeyCounts
      v4.sweep(window)
      v6.sweep(window)
    })
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

/** Gives the key in the cold slot at `at` a state of its own, with its count (the attempt being counted not included). */
function promote<K extends number | string> (hot: Map<K, KeyState>, key: K, tier: number, slots: Float64Array, at: number, text: string): KeyState {
  const state: KeyState = { tier, key, text, window: slots[at + WINDOW] as number, known: 0, pending: slots[at + COUNT] as number, inFlight: 0, heldUntil: 0 }
  slots[at + MARK] = HOT
  slots[at + COUNT] = 0
  hot.set(key, state)
  return state
}

/** The canonical text of an IPv4 key (an address masked to the prefix, as an int32). */
function v4Text (key: number, prefixLength: number): string {
  const address = formatIp(4, Uint32Array.of(key >>> 0))
  return prefixLength === 32 ? address : `${address}/${prefixLength}`
}

/** The canonical text of an IPv6 key (an address masked to the prefix). */
function v6Text (words: Uint32Array, prefixLength: number): string {
  const address = formatIp(6, words)
  return prefixLength === 128 ? address : `${address}/${prefixLength}`
}

/**
 * The map key of a hot IPv6 key: its four words as eight 16-bit characters, a short string
 * made without formatting the address.
 */
function v6MapKey (words: Uint32Array): string {
  const [w0 = 0, w1 = 0, w2 = 0, w3 = 0] = words
  return String.fromCharCode(w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff)
}

/** The words of a {@link v6MapKey}, written into `out`. */
function v6Words (key: string, out: Uint32Array): Uint32Array {
  for (let word = 0; word < 4; word++) out[word] = ((key.charCodeAt(2 * word) << 16) | key.charCodeAt(2 * word + 1)) >>> 0
  return out
}
