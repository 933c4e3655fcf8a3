import { maskIp } from '@cm/config/address'
import { KeyTable, MAX_PROBES, seededWordHash } from './key-table.ts'
import type { WordHash } from './key-table.ts'
import type { IpFamily } from '@cm/config/address'

/** What a tier keys its budgets by. */
export interface TierKeying {
  /** IPv4 addresses sharing this many leading bits share a key (0 to 32). */
  readonly ipv4PrefixLength: number
  /** IPv6 addresses sharing this many leading bits share a key (0 to 128). */
  readonly ipv6PrefixLength: number
  /** The most keys kept per address family. */
  readonly maxKeys: number
  /** Hashes masked IPv6 words to a key (tests inject a poor one to force collisions). */
  readonly hash?: WordHash
}

/**
 * One tier of the limiter: a rate (`limit` attempts per `windowMs`, burst `limit`) applied
 * per key, the keys derived from an address's masked words, and the state of each key in a
 * bounded table per address family ({@link KeyTable}). Internal: `RateLimiter` drives it.
 *
 * **Algorithm: GCRA** (the generic cell rate algorithm, a token bucket written as one number
 * per key). A key's state is its theoretical arrival time (TAT): when its budget is full
 * again. An attempt at time `now` is admitted when `max(TAT, now) + interval - now <= limit
 * × interval`, where `interval = windowMs / limit`; admitting it sets
 * `TAT = max(TAT, now) + interval`. A refused attempt changes nothing. A key whose TAT is at
 * or before `now` has its full budget, exactly like a key never seen.
 *
 * **Exact arithmetic.** Times are kept in units of `1 / limit` milliseconds (elapsed
 * milliseconds × limit), so the interval is `windowMs` units and the bucket `limit ×
 * windowMs` units: whole numbers whenever the clock and `windowMs` are, with no rounding to
 * accumulate (1000 / 3 ms is not a binary fraction). They are exact integers while
 * `elapsed × limit < 2^53` (104 days at a limit of 1,000,000; 57,000 years at 5); after
 * that the rounding stays under a microsecond for 292 years at any allowed limit.
 *
 * **Keys.** An IPv4 prefix is its own key (an int32). An IPv6 prefix is hashed to an int32
 * with a seeded hash and checked against the stored words, so two prefixes never share a
 * budget; after {@link MAX_PROBES} collisions in a row (about never), a prefix takes over
 * the last key it tried, and the address that held it loses its state (gets its budget back).
 */
export class Tier {
  /** The tier's name, for refusals and counters. */
  readonly name: string
  /** Attempts admitted per window, and the largest burst. */
  readonly limit: number
  /** The window in milliseconds. */
  readonly windowMs: number
  /** The IPv4 prefix length (0 to 32) keys are made of, or -1 for the global tier. */
  readonly ipv4PrefixLength: number
  /** The IPv6 prefix length (0 to 128) keys are made of, or -1 for the global tier. */
  readonly ipv6PrefixLength: number
  /** The most keys kept per address family (1 for the global tier). */
  readonly maxKeys: number

  /** Attempts this tier refused (another tier may have refused them too). */
  refused = 0
  /** Keys dropped to make room for another. */
  evictions = 0
  /** Evicted keys that were still throttled, whose hosts got their budget back early. */
  throttledEvictions = 0
  /** After {@link Tier.check} refused: milliseconds until it would admit (Infinity: never). */
  wait = 0

  /** `limit × windowMs`: the bucket, in units of 1/limit ms. */
  readonly #bucket: number
  /** The tables by family, or undefined for the global tier and for limit 0 (no state). */
  readonly #ipv4: KeyTable | undefined
  readonly #ipv6: KeyTable | undefined
  /** The global tier's one TAT. */
  #globalTat = Number.NEGATIVE_INFINITY
  /** `time[0]`: milliseconds since the limiter's origin, written by the limiter per attempt. */
  readonly #time: Float64Array

  readonly #ipv4Shift: number
  readonly #ipv6Masks: Uint32Array
  readonly #hash: WordHash

  // What check() found, for commit(): the table, the key, its slot (-1 if new), the masked
  // words, its next TAT and now. Doubles are passed in fields, never as arguments or return
  // values, so that a call V8 does not inline allocates no boxed number.
  #pendingTable: KeyTable | undefined
  #pendingKey = 0
  // Stryker disable next-line UnaryOperator: check() sets it before any commit() reads it
  #pendingSlot = -1
  #m0 = 0
  #m1 = 0
  #m2 = 0
  #m3 = 0
  #pendingTat = 0
  #pendingNow = 0

  /**
   * @param name - the tier's name
   * @param limit - attempts per window, 0 to 1,000,000
   * @param windowMs - the window in milliseconds, > 0
   * @param keying - how keys are made and how many are kept, or `undefined` for the global
   *   tier (one key for every address)
   * @param time - `time[0]` is read as the time of each check: milliseconds since an origin
   */
  constructor (name: string, limit: number, windowMs: number, keying: TierKeying | undefined, time: Float64Array) {
    this.name = name
    this.#time = time
    this.limit = limit
    this.windowMs = windowMs
    this.#bucket = limit * windowMs
    // Stryker disable next-line UnaryOperator: only the keyed tiers are sorted and masked by these
    this.ipv4PrefixLength = keying?.ipv4PrefixLength ?? -1
    // Stryker disable next-line UnaryOperator: as above
    this.ipv6PrefixLength = keying?.ipv6PrefixLength ?? -1
    this.maxKeys = keying?.maxKeys ?? 1
    this.#ipv4Shift = 32 - Math.max(0, this.ipv4PrefixLength)
    this.#ipv6Masks = maskIp(new Uint32Array([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]), Math.max(0, this.ipv6PrefixLength))
    // Stryker disable next-line ArithmeticOperator: a seed made 0 changes answers only for /64 prefixes chosen to collide under it (five within four neighbouring slots); none was found among 2^26, so a test would need a precomputed multicollision (TESTING.md)
    this.#hash = keying?.hash ?? seededWordHash((Math.random() * 0x100000000) | 0)
    // The global tier needs no table. A tier of limit 0 keeps none either: check(), usage()
    // and charge() return before reaching it, and a table allocates on its first insert.
    // Stryker disable next-line BooleanLiteral: IPv4 keys are whole prefixes; stored words would only cost memory
    this.#ipv4 = keying === undefined ? undefined : new KeyTable(keying.maxKeys, false)
    this.#ipv6 = keying === undefined ? undefined : new KeyTable(keying.maxKeys, true)
  }

  /** How many keys are held (some may have refilled already: they are dropped first). */
  get trackedKeys (): number {
    // Stryker disable next-line LogicalOperator,ConditionalExpression: both tables exist or neither; the second test narrows the type
    if (this.#ipv4 === undefined || this.#ipv6 === undefined) {
      return this.#globalTat === Number.NEGATIVE_INFINITY ? 0 : 1
    }
    return this.#ipv4.size + this.#ipv6.size
  }


  /**
   * Decides whether this tier admits an attempt at `time[0]`, without changing any budget.
   * When it does, what to store is remembered for {@link Tier.commit}; when it does not,
   * {@link Tier.wait} says how long until it would.
   *
   * @param family - the address family
   * @param words - the address words
   * @returns whether this tier admits the attempt
   */
  check (family: IpFamily, words: Uint32Array): boolean {
    const limit = this.limit
    // A fast path: the arithmetic below refuses a limit of 0 too, with a wait of Infinity.
    // Stryker disable next-line ConditionalExpression,BlockStatement: the same refusal either way
    if (limit === 0) {
      this.refused++
      this.wait = Number.POSITIVE_INFINITY
      return false
    }
    const now = (this.#time[0] ?? 0) * limit
    let base = now
    // Stryker disable next-line UnaryOperator: read only with a table, which sets it
    let slot = -1
    if (this.#ipv4 === undefined) {
      // Stryker disable next-line EqualityOperator: at equality, max(tat, now) is either
      if (this.#globalTat > now) {
        base = this.#globalTat
      }
    } else {
      const table = family === 4 ? this.#ipv4 : this.#ipv6 as KeyTable
      slot = family === 4 ? this.#findIpv4(table, words) : this.#findIpv6(table, words)
      if (slot >= 0) {
        const tat = table.tat(slot)
        // Stryker disable next-line EqualityOperator: at equality, max(tat, now) is either
        if (tat > now) {
          base = tat
        }
      }
      this.#pendingTable = table
    }
    const next = base + this.windowMs
    const over = next - now - this.#bucket
    if (over > 0) {
      this.refused++
      this.wait = over / limit
      return false
    }
    this.#pendingSlot = slot
    this.#pendingTat = next
    this.#pendingNow = now
    return true
  }

  /** Uses one attempt of the budget {@link Tier.check} last admitted. */
  commit (): void {
    const table = this.#pendingTable
    if (table === undefined) {
      this.#globalTat = this.#pendingTat
    } else if (this.#pendingSlot >= 0) {
      table.setTat(this.#pendingSlot, this.#pendingTat)
    } else {
      table.setTat(this.#insert(table, this.#pendingNow), this.#pendingTat)
    }
  }

  /**
   * How much of its budget the key of an address has used at `time[0]`: 0 (a full budget,
   * or a key not held) to 1 (none left). A read only: the key is not marked as seen. A tier
   * whose limit is 0 has no budget at all: 1.
   */
  usage (family: IpFamily, words: Uint32Array): number {
    const limit = this.limit
    if (limit === 0) {
      return 1
    }
    const now = (this.#time[0] ?? 0) * limit
    let tat = this.#globalTat
    // Stryker disable next-line ConditionalExpression: the limiter asks only keyed tiers (the global tier says nothing of a host)
    if (this.#ipv4 !== undefined) {
      const table = family === 4 ? this.#ipv4 : this.#ipv6 as KeyTable
      const slot = family === 4 ? this.#findIpv4(table, words, true) : this.#findIpv6(table, words, true)
      tat = slot < 0 ? now : table.tat(slot)
    }
    // Stryker disable next-line EqualityOperator: at equality both branches give 0
    return tat <= now ? 0 : Math.min(1, (tat - now) / this.#bucket)
  }

  /**
   * Uses one attempt of the budget of the key an address maps to at `time[0]`, without
   * asking: a penalty. The budget never goes below empty (usage at most 1), so a penalty
   * delays a host by at most one window. A tier whose limit is 0, and the global tier, keep
   * nothing.
   */
  charge (family: IpFamily, words: Uint32Array): void {
    const limit = this.limit
    const table = family === 4 ? this.#ipv4 : this.#ipv6
    // Stryker disable next-line ConditionalExpression,BlockStatement: the limiter charges only keyed tiers; the test narrows the type
    if (table === undefined) {
      return
    }
    if (limit === 0) {
      return
    }
    const now = (this.#time[0] ?? 0) * limit
    let slot = family === 4 ? this.#findIpv4(table, words) : this.#findIpv6(table, words)
    const tat = slot < 0 ? now : Math.max(table.tat(slot), now)
    if (slot < 0) {
      slot = this.#insert(table, now)
    }
    table.setTat(slot, Math.min(tat + this.windowMs, now + this.#bucket))
  }

  /**
   * Forgets the state of the key an address maps to.
   *
   * @returns whether a key was held
   */
  forget (family: IpFamily, words: Uint32Array): boolean {
    const table = family === 4 ? this.#ipv4 : this.#ipv6
    if (table === undefined) {
      return false
    }
    const slot = family === 4 ? this.#findIpv4(table, words) : this.#findIpv6(table, words)
    return slot >= 0 && table.remove(this.#pendingKey)
  }

  /**
   * Inserts the key the last lookup left in #pendingKey (with its words) and counts the key
   * it evicted, if any; returns the new key's slot.
   */
  #insert (table: KeyTable, now: number): number {
    const slot = table.insert(this.#pendingKey, this.#m0, this.#m1, this.#m2, this.#m3)
    const evicted = table.evictedSlot
    if (evicted >= 0) {
      this.evictions++
      if (table.tat(evicted) > now) {
        this.throttledEvictions++
      }
    }
    return slot
  }

  /** Forgets every key. */
  clear (): void {
    this.#globalTat = Number.NEGATIVE_INFINITY
    this.#ipv4?.clear()
    this.#ipv6?.clear()
  }

  /**
   * The slot of an IPv4 address's key (-1 if not held); leaves the key in #pendingKey. A
   * `peek` does not mark the key as seen.
   */
  #findIpv4 (table: KeyTable, words: Uint32Array, peek = false): number {
    // An int32: a small integer (Smi) to V8 on 64-bit Node.
    const key = this.ipv4PrefixLength === 0 ? 0 : ((words[0] ?? 0) >>> this.#ipv4Shift) | 0
    this.#pendingKey = key
    return peek ? table.peek(key) : table.get(key)
  }

  /**
   * The slot of an IPv6 address's prefix (-1 if not held), probing past collisions; leaves
   * in #pendingKey the key it is (or would be inserted) under, and the masked words. A
   * `peek` does not mark the keys it reads as seen.
   */
  #findIpv6 (table: KeyTable, words: Uint32Array, peek = false): number {
    const masks = this.#ipv6Masks
    const m0 = ((words[0] ?? 0) & (masks[0] ?? 0)) >>> 0
    const m1 = ((words[1] ?? 0) & (masks[1] ?? 0)) >>> 0
    const m2 = ((words[2] ?? 0) & (masks[2] ?? 0)) >>> 0
    const m3 = ((words[3] ?? 0) & (masks[3] ?? 0)) >>> 0
    this.#m0 = m0
    this.#m1 = m1
    this.#m2 = m2
    this.#m3 = m3
    let key = this.#hash(m0, m1, m2, m3)
    for (let probe = 1; ; probe++) {
      this.#pendingKey = key
      const slot = peek ? table.peek(key) : table.get(key)
      if (slot < 0 || table.matches(slot, m0, m1, m2, m3)) {
        return slot
      }
      if (probe === MAX_PROBES) {
        return -1 // insert() replaces the address holding the last key tried
      }
      // Stryker disable next-line ArithmeticOperator: any fixed probe sequence works; keys are checked against the words
      key = (key + 1) | 0
    }
  }
}
