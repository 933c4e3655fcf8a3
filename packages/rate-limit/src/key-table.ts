import { LRUMapWithDelete } from 'mnemonist'

/**
 * A bounded table of per-key state for one tier and one address family: a `mnemonist`
 * `LRUMapWithDelete` from a key to a slot, the state (a TAT, see `Tier`) in a `Float64Array`
 * by slot and, for IPv6, the masked address words by slot so that a hashed key can be
 * checked. Internal.
 *
 * Keys are int32 numbers: small integers (Smis) to V8 on 64-bit Node, so a lookup allocates
 * nothing and the map compares keys without following a pointer. An IPv4 prefix is its own
 * key. An IPv6 prefix (up to 128 bits) is hashed to 32 bits; the words stored with each key
 * tell a true match from a collision, and a collision moves on to the next key (linear
 * probing, up to {@link MAX_PROBES} keys).
 *
 * At `capacity`, inserting a key evicts the least recently seen one (every lookup counts as
 * seen). Slots: one more than keys, so that an insert can take one before the map evicts.
 * Nothing is allocated until the first insert.
 */
export class KeyTable {
  /** The most keys held. */
  readonly capacity: number
  /** Whether keys are checked against stored words (IPv6). */
  readonly #checked: boolean

  /**
   * The slot of the key the last {@link KeyTable.insert} evicted (or replaced), or -1. Its
   * TAT stays readable until the next insert.
   */
  // Stryker disable next-line UnaryOperator: insert() sets it before anyone reads it
  evictedSlot = -1

  #keys: LRUMapWithDelete<number, number> | undefined
  #tats = new Float64Array(0)
  #words = new Uint32Array(0)
  #freeSlots = new Uint32Array(0)
  #freeCount = 0
  #unusedSlot = 0

  /**
   * @param capacity - the most keys held, >= 1
   * @param checked - whether to store and check the address words of each key (IPv6)
   */
  constructor (capacity: number, checked: boolean) {
    this.capacity = capacity
    this.#checked = checked
  }

  /** Keys held. */
  get size (): number {
    return this.#keys?.size ?? 0
  }

  /**
   * The slot of `key`, or -1 if it is not held. Marks the key as seen.
   */
  get (key: number): number {
    return this.#keys?.get(key) ?? -1
  }

  /**
   * The slot of `key`, or -1 if it is not held. Unlike {@link KeyTable.get}, a read only:
   * the key is not marked as seen.
   */
  peek (key: number): number {
    return this.#keys?.peek(key) ?? -1
  }

  /** Whether the words stored with a slot are these (IPv6 keys). */
  matches (slot: number, m0: number, m1: number, m2: number, m3: number): boolean {
    const words = this.#words
    const base = slot * 4
    return words[base] === m0 && words[base + 1] === m1 && words[base + 2] === m2 && words[base + 3] === m3
  }

  /** The TAT in a slot. */
  tat (slot: number): number {
    return this.#tats[slot] ?? 0
  }

  /** Sets the TAT in a slot. */
  setTat (slot: number, tat: number): void {
    this.#tats[slot] = tat
  }

  /**
   * Holds `key` (with its words), evicting the least recently seen key at capacity; sets
   * {@link KeyTable.evictedSlot}. If `key` is already held (by another address after
   * {@link MAX_PROBES} collisions), that address's state is replaced. Only small integers
   * cross this call (a double argument would be boxed when the call is not inlined).
   *
   * @returns the key's slot: the caller sets its TAT
   */
  insert (key: number, m0: number, m1: number, m2: number, m3: number): number {
    const keys = this.#keys ?? this.#allocate()
    const slot = this.#freeCount > 0 ? this.#freeSlots[--this.#freeCount] ?? 0 : this.#unusedSlot++
    // Stryker disable next-line ConditionalExpression: an IPv4 table's words array is empty, so the writes would be dropped
    if (this.#checked) {
      const base = slot * 4
      this.#words[base] = m0
      this.#words[base + 1] = m1
      this.#words[base + 2] = m2
      this.#words[base + 3] = m3
    }
    const previous = keys.setpop(key, slot)
    // An eviction, or a replaced key: either way another address's state is gone.
    this.evictedSlot = previous === null ? -1 : previous.value
    if (previous !== null) {
      this.#freeSlots[this.#freeCount++] = previous.value
    }
    return slot
  }

  /**
   * Drops `key`.
   *
   * @returns whether it was held
   */
  remove (key: number): boolean {
    const slot = this.#keys?.remove(key, -1) ?? -1
    if (slot < 0) {
      return false
    }
    this.#freeSlots[this.#freeCount++] = slot
    return true
  }

  /** Drops every key. */
  clear (): void {
    this.#keys?.clear()
    this.#freeCount = 0
    this.#unusedSlot = 0
  }

  #allocate (): LRUMapWithDelete<number, number> {
    const slots = this.capacity + 1
    this.#keys = new LRUMapWithDelete<number, number>(Array, Uint32Array, this.capacity)
    this.#tats = new Float64Array(slots)
    this.#freeSlots = new Uint32Array(slots)
    // Stryker disable next-line ConditionalExpression: memory only; IPv4 keys are never checked against words
    if (this.#checked) {
      this.#words = new Uint32Array(slots * 4)
    }
    return this.#keys
  }
}

/** The most keys an IPv6 prefix is looked up under before its state replaces another's. */
export const MAX_PROBES = 4

/** Hashes IPv6 words to an int32 (a murmur3-style mix, seeded per limiter). */
export type WordHash = (m0: number, m1: number, m2: number, m3: number) => number

/**
 * A seeded hash of four words: with a seed an outsider does not know, addresses cannot be
 * chosen to collide (collisions are harmless for correctness, since keys are checked, but
 * each costs a probe).
 *
 * @param seed - any int32
 */
export function seededWordHash (seed: number): WordHash {
  return (m0, m1, m2, m3) => {
    let hash = Math.imul(seed ^ m0, 0xcc9e2d51)
    hash = Math.imul((hash << 15) | (hash >>> 17), 0x1b873593) ^ m1
    // Stryker disable next-line ArithmeticOperator: another mix is as good a hash; keys are checked against the words
    hash = Math.imul((hash << 13) | (hash >>> 19), 5) + 0xe6546b64
    hash = Math.imul(hash ^ m2, 0xcc9e2d51)
    hash = Math.imul((hash << 15) | (hash >>> 17), 0x1b873593) ^ m3
    // Stryker disable next-line ArithmeticOperator: another mix is as good a hash; keys are checked against the words
    hash = Math.imul((hash << 13) | (hash >>> 19), 5) + 0xe6546b64
    hash ^= hash >>> 16
    hash = Math.imul(hash, 0x85ebca6b)
    hash ^= hash >>> 13
    hash = Math.imul(hash, 0xc2b2ae35)
    return (hash ^ (hash >>> 16)) | 0
  }
}
