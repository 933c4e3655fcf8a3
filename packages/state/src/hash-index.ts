/**
 * @internal
 * The map behind the tracker's peer and host indexes: open addressing with linear probing
 * over a flat `Int32Array` of hashes, the values in a parallel array. Each value carries its
 * own key (a group knows its peer or host), so no keys are stored.
 *
 * Why not a V8 `Map`: a `Map` finds a key through a bucket, then a chain of entries, and for a
 * string key it also reads each candidate key's characters. With 100,000 connections held
 * those are scattered reads that each miss the CPU caches, several per lookup, and a `Map`
 * that sees deletes rebuilds its whole table from time to time. Here a lookup reads the
 * hashes array (one cache line, usually) and compares keys only when the full 32-bit hash
 * matches, which is almost only for the key sought, through the value it returns anyway.
 * Measured on the project's machine with 100,000 connections held, side by side in one
 * process: `add()` with a new peer about twice as fast as with two `Map`s (see the package
 * README).
 *
 * The hash is seeded per index from `crypto.getRandomValues`, so whoever chooses the keys
 * (peer IDs, source addresses) cannot predict where they land. It is a fast hash, not a
 * keyed cryptographic one (nor is V8's own); what it guards is probe length, and the keys a
 * remote party can place are bounded by the connections it is allowed to hold. Deletes
 * shift later entries back (no tombstones), and the table shrinks as it empties.
 */

const INITIAL_CAPACITY = 16
const INITIAL_SHIFT = 28 // 32 - log2(INITIAL_CAPACITY)

function randomSeed (): number {
  return globalThis.crypto.getRandomValues(new Int32Array(1))[0] ?? 0
}

/** Murmur3's finaliser: every input bit affects every output bit. A bijection on int32. */
function mix (hash: number): number {
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b)
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35)
  return hash ^ (hash >>> 16)
}

/** A seeded hash of a key, never 0. */
export type KeyHash = (key: number | string, seed: number) => number

/**
 * The seeded hash of a key, never 0 (0 marks an empty slot): an int32 key is mixed, a string
 * key is hashed over its UTF-16 code units, two at a time (FNV-1a from the seed and the
 * length, then mixed).
 */
export function hashKey (key: number | string, seed: number): number {
  let hash: number
  if (typeof key === 'number') {
    hash = mix(key ^ seed)
  } else {
    // FNV-1a over pairs of code units (half the multiplications), then mixed.
    const length = key.length
    hash = seed ^ length
    let index = 1
    for (; index < length; index += 2) {
      hash = Math.imul(hash ^ (key.charCodeAt(index - 1) | (key.charCodeAt(index) << 16)), 0x01000193)
    }
    if (index === length) {
      hash = Math.imul(hash ^ key.charCodeAt(index - 1), 0x01000193)
    }
    hash = mix(hash)
  }
  return hash === 0 ? 1 : hash
}

/**
 * @internal
 * A map from int32 or string keys to values (never `undefined`) that carry their keys,
 * iterated in no particular order.
 */
export class HashIndex<Key extends number | string, Value> {
  readonly #seed = randomSeed()
  readonly #keyOf: (value: Value) => Key
  readonly #hash: KeyHash
  #capacity = INITIAL_CAPACITY
  /** `32 - log2(#capacity)`: a hash's top bits pick the home slot. */
  #shift = INITIAL_SHIFT
  /** The hash of the key in each slot; 0 for an empty slot. */
  #hashes = new Int32Array(INITIAL_CAPACITY)
  #values: Array<Value | undefined> = new Array<Value | undefined>(INITIAL_CAPACITY).fill(undefined)
  #size = 0

  /**
   * @param keyOf - the key of a value: values carry their keys, so that a lookup confirms a
   *   match on the value it reads anyway instead of on a key stored beside it
   * @param hash - the hash function: {@link hashKey} but in tests, which pass a poor one to
   *   force collisions
   */
  constructor (keyOf: (value: Value) => Key, hash: KeyHash = hashKey) {
    this.#keyOf = keyOf
    this.#hash = hash
  }

  /** The number of keys held. */
  get size (): number {
    return this.#size
  }

  /**
   * The hash this index gives `key`. The methods that take a `hash` take this one, so that a
   * caller that keeps it (the tracker keeps it in the entry) hashes a key once.
   */
  hashOf (key: Key): number {
    return this.#hash(key, this.#seed)
  }

  /** The value of `key`, if held. */
  get (key: Key): Value | undefined {
    const slot = this.#find(key, this.#hash(key, this.#seed))
    return slot >= 0 ? this.#values[slot] : undefined
  }

  /** Sets the value of `key` (whose key, by `keyOf`, must be `key`). */
  set (key: Key, value: Value, hash: number = this.hashOf(key)): void {
    const slot = this.#find(key, hash)
    if (slot >= 0) {
      this.#values[slot] = value
    } else {
      this.#insert(hash, value, slot)
    }
  }

  /**
   * The value of `key` if held; otherwise sets it to `value` (whose key must be `key`) and
   * returns `undefined`. One hash and one probe where `get` then `set` would take two.
   */
  getOrSet (key: Key, value: Value, hash: number = this.hashOf(key)): Value | undefined {
    const slot = this.#find(key, hash)
    if (slot >= 0) {
      return this.#values[slot]
    }
    this.#insert(hash, value, slot)
    return undefined
  }

  /** Inserts the value of an absent key; `missing` is what #find returned for it. */
  #insert (hash: number, value: Value, missing: number): void {
    if ((this.#size + 1) * 4 > this.#capacity * 3) {
      this.#resize(this.#capacity * 2)
      this.#place(hash, value)
    } else {
      // #find returned the empty slot that ended the probe, as -1 - slot.
      const empty = -1 - missing
      this.#hashes[empty] = hash
      this.#values[empty] = value
    }
    this.#size++
  }

  /**
   * Removes `key`.
   *
   * @returns whether it was held
   */
  delete (key: Key, hash: number = this.hashOf(key)): boolean {
    const slot = this.#find(key, hash)
    if (slot < 0) {
      return false
    }
    this.#removeSlot(slot)
    this.#size--
    if (this.#capacity > INITIAL_CAPACITY && this.#size * 8 < this.#capacity) {
      this.#resize(this.#capacity / 2)
    }
    return true
  }

  /** Every key and its value. */
  * [Symbol.iterator] (): IterableIterator<[Key, Value]> {
    const hashes = this.#hashes
    const values = this.#values
    for (let slot = 0; slot < hashes.length; slot++) {
      if (hashes[slot] !== 0) {
        const value = values[slot] as Value
        yield [this.#keyOf(value), value]
      }
    }
  }

  /** The slot holding `key`, or `-1 - slot` for the empty slot where its probe ended. */
  #find (key: Key, hash: number): number {
    const hashes = this.#hashes
    const mask = this.#capacity - 1
    let slot = hash >>> this.#shift
    for (;;) {
      const found = hashes[slot] ?? 0
      if (found === 0) {
        return -1 - slot
      }
      if (found === hash && this.#keyOf(this.#values[slot] as Value) === key) {
        return slot
      }
      slot = (slot + 1) & mask
    }
  }

  /** Puts a key known to be absent in the first empty slot of its run. */
  #place (hash: number, value: Value | undefined): void {
    const hashes = this.#hashes
    const mask = this.#capacity - 1
    let slot = hash >>> this.#shift
    while (hashes[slot] !== 0) {
      slot = (slot + 1) & mask
    }
    hashes[slot] = hash
    this.#values[slot] = value
  }

  /** Empties a slot, shifting later entries of its run back so that no probe stops early. */
  #removeSlot (slot: number): void {
    const hashes = this.#hashes
    const values = this.#values
    const mask = this.#capacity - 1
    const shift = this.#shift
    let hole = slot
    let next = (hole + 1) & mask
    for (let hash = hashes[next] ?? 0; hash !== 0; hash = hashes[next] ?? 0) {
      const home = hash >>> shift
      // The entry at `next` may fill the hole if the hole lies between its home and `next`.
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        hashes[hole] = hash
        values[hole] = values[next]
        hole = next
      }
      next = (next + 1) & mask
    }
    hashes[hole] = 0
    values[hole] = undefined
  }

  #resize (capacity: number): void {
    const oldHashes = this.#hashes
    const oldValues = this.#values
    this.#capacity = capacity
    this.#shift = 32 - Math.log2(capacity)
    this.#hashes = new Int32Array(capacity)
    this.#values = new Array<Value | undefined>(capacity).fill(undefined)
    for (let slot = 0; slot < oldHashes.length; slot++) {
      const hash = oldHashes[slot] ?? 0
      if (hash !== 0) {
        this.#place(hash, oldValues[slot])
      }
    }
  }
}
