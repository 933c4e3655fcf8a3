/**
 * @internal
 * The map behind a {@link GroupIndex}: open addressing with linear probing over one flat
 * `Int32Array` of seeded hashes interleaved with int32 values (for a group index, a group's
 * reference). No keys are stored: a value leads to its key (a group record, or the
 * connection, knows its peer or host).
 *
 * Why not a V8 `Map`: a `Map` finds a key through a bucket, then a chain of entries, and for a
 * string key it also reads each candidate key's characters. With 100,000 connections held
 * those are scattered reads that each miss the CPU caches, several per lookup, and a `Map`
 * that sees deletes rebuilds its whole table from time to time. Here a lookup reads one
 * cache line of the table (usually), which holds the value beside the hash, and reads a key
 * only when the full 32-bit hash matches, which is almost only for the key sought.
 * Replacing and removing find the bucket by its value, reading no key at all.
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
 * The seeded hash of a key, never 0 (0 marks an empty bucket): an int32 key is mixed, a string
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
    // Stryker disable next-line EqualityOperator: at index === length, the pair's second unit is NaN (0 after <<), and the tail below is skipped: the same hash
    for (; index < length; index += 2) {
      // Stryker disable next-line ArithmeticOperator: a hash of other code units is still a hash; lookups compare keys, not hashes
      hash = Math.imul(hash ^ (key.charCodeAt(index - 1) | (key.charCodeAt(index) << 16)), 0x01000193)
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: the odd tail's share of the hash: its quality only, as above
    if (index === length) {
      // Stryker disable next-line ArithmeticOperator: as above
      hash = Math.imul(hash ^ key.charCodeAt(index - 1), 0x01000193)
    }
    hash = mix(hash)
  }
  return hash === 0 ? 1 : hash
}

/**
 * @internal
 * A map from int32 or string keys to int32 values, each value non-zero and held by one key
 * only, iterated in no particular order. Hashes and values are interleaved in one
 * `Int32Array`, so that the probe that finds a key reads its value in the same cache line.
 */
export class HashIndex<Key extends number | string> {
  readonly #seed = randomSeed()
  readonly #keyOf: (value: number) => Key
  readonly #hash: KeyHash
  #capacity = INITIAL_CAPACITY
  /** `32 - log2(#capacity)`: a hash's top bits pick the home bucket. */
  #shift = INITIAL_SHIFT
  /** Per bucket, the hash of its key (0: an empty bucket), then its value. */
  #table = new Int32Array(INITIAL_CAPACITY * 2)
  #size = 0

  /**
   * @param keyOf - the key a value is held under: no keys are stored, so a lookup confirms
   *   a match (a full 32-bit hash match, almost always the key sought) through this
   * @param hash - the hash function: {@link hashKey} but in tests, which pass a poor one to
   *   force collisions
   */
  constructor (keyOf: (value: number) => Key, hash: KeyHash = hashKey) {
    this.#keyOf = keyOf
    this.#hash = hash
  }

  /** The number of keys held. */
  get size (): number {
    return this.#size
  }

  /**
   * The hash this index gives `key`. The methods that take a `hash` take this one, so that a
   * caller that keeps it (a group index keeps it in the entry) hashes a key once.
   */
  hashOf (key: Key): number {
    return this.#hash(key, this.#seed)
  }

  /** The value of `key`, or 0 if it is not held. */
  get (key: Key, hash: number = this.hashOf(key)): number {
    const bucket = this.#find(key, hash)
    // Stryker disable next-line ConditionalExpression: past the start, an Int32Array reads undefined, so 0 either way
    return bucket >= 0 ? this.#table[bucket * 2 + 1] ?? 0 : 0
  }

  /**
   * The value of `key` if held; otherwise sets it to `value` (non-zero, held by no other
   * key) and returns 0. One probe where `get` then a set would take two.
   */
  getOrSet (key: Key, value: number, hash: number = this.hashOf(key)): number {
    const bucket = this.#find(key, hash)
    if (bucket >= 0) {
      return this.#table[bucket * 2 + 1] ?? 0
    }
    // Stryker disable next-line EqualityOperator,ArithmeticOperator: the load at which it grows: `>=`, `size - 1` and `capacity / 3` keep it below full, so only memory differs (`<` and `<=` fill it: killed by the tests, hidden by this comment)
    if ((this.#size + 1) * 4 > this.#capacity * 3) {
      this.#resize(this.#capacity * 2)
      this.#place(hash, value)
    } else {
      // #find returned the empty bucket that ended the probe, as -1 - bucket.
      const empty = (-1 - bucket) * 2
      this.#table[empty] = hash
      this.#table[empty + 1] = value
    }
    this.#size++
    return 0
  }

  /**
   * Gives the key held with `value` (and `hash`) the value `replacement` instead (non-zero,
   * held by no other key). Found by value: no key is compared.
   *
   * @returns whether `value` was held
   */
  replace (hash: number, value: number, replacement: number): boolean {
    const bucket = this.#find(undefined, hash, value)
    if (bucket < 0) {
      return false
    }
    this.#table[bucket * 2 + 1] = replacement
    return true
  }

  /**
   * Removes the key held with `value` (and `hash`). Found by value: no key is compared.
   *
   * @returns whether `value` was held
   */
  remove (hash: number, value: number): boolean {
    const bucket = this.#find(undefined, hash, value)
    if (bucket < 0) {
      return false
    }
    this.#removeBucket(bucket)
    this.#size--
    // Stryker disable next-line EqualityOperator: `<=` shrinks at exactly one eighth full too, still far from full (`>=` would over-fill it: killed by the tests, hidden by this comment)
    const sparse = this.#size * 8 < this.#capacity
    // It never goes below the initial size, so `!==` is `>` here.
    // Stryker disable next-line ConditionalExpression: shrinking below the initial size works too (it grows back before it fills); it only resizes more often
    if (this.#capacity !== INITIAL_CAPACITY && sparse) {
      this.#resize(this.#capacity / 2)
    }
    return true
  }

  /** Every key and its value. */
  * [Symbol.iterator] (): IterableIterator<[Key, number]> {
    const table = this.#table
    for (let index = 0; index < table.length; index += 2) {
      if (table[index] !== 0) {
        const value = table[index + 1] ?? 0
        yield [this.#keyOf(value), value]
      }
    }
  }

  /**
   * The bucket holding `key` (when `value` is 0), or the bucket holding `value` (otherwise, with
   * no key read); `-1 - bucket` for the empty bucket where the probe ended.
   */
  #find (key: Key | undefined, hash: number, value = 0): number {
    const table = this.#table
    const mask = this.#capacity - 1
    let bucket = hash >>> this.#shift
    for (;;) {
      const found = table[bucket * 2] ?? 0
      if (found === 0) {
        return -1 - bucket
      }
      // Stryker disable next-line ConditionalExpression: a fast path: the key (or value) comparison below decides either way; comparing hashes first only saves reading keys (`false` is killed by the tests, hidden by this comment)
      if (found === hash) {
        const held = table[bucket * 2 + 1] ?? 0
        if (value === 0 ? this.#keyOf(held) === key : held === value) {
          return bucket
        }
      }
      bucket = (bucket + 1) & mask
    }
  }

  /** Puts a key known to be absent in the first empty bucket of its run. */
  #place (hash: number, value: number): void {
    const table = this.#table
    const mask = this.#capacity - 1
    let bucket = hash >>> this.#shift
    while (table[bucket * 2] !== 0) {
      bucket = (bucket + 1) & mask
    }
    table[bucket * 2] = hash
    table[bucket * 2 + 1] = value
  }

  /** Empties a bucket, shifting later entries of its run back so that no probe stops early. */
  #removeBucket (bucket: number): void {
    const table = this.#table
    const mask = this.#capacity - 1
    const shift = this.#shift
    let hole = bucket
    let next = (hole + 1) & mask
    for (let hash = table[next * 2] ?? 0; hash !== 0; hash = table[next * 2] ?? 0) {
      const home = hash >>> shift
      // The entry at `next` may fill the hole if the hole lies between its home and `next`.
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        table[hole * 2] = hash
        table[hole * 2 + 1] = table[next * 2 + 1] ?? 0
        hole = next
      }
      next = (next + 1) & mask
    }
    table[hole * 2] = 0
    table[hole * 2 + 1] = 0
  }

  #resize (capacity: number): void {
    const old = this.#table
    this.#capacity = capacity
    this.#shift = 32 - Math.log2(capacity)
    this.#table = new Int32Array(capacity * 2)
    // Stryker disable next-line EqualityOperator: `<=` reads one step past the end, undefined, which `?? 0` takes as an empty bucket (`>=` is killed, hidden by this comment)
    for (let index = 0; index < old.length; index += 2) {
      const hash = old[index] ?? 0
      // Stryker disable next-line ConditionalExpression: a fast path; placing an empty bucket writes hash 0 and value 0 over the first empty bucket, which changes nothing (`false` is killed, hidden by this comment)
      if (hash !== 0) {
        this.#place(hash, old[index + 1] ?? 0)
      }
    }
  }
}
