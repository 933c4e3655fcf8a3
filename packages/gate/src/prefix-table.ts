/**
 * The lookup structure behind the gate: for each address family, one hash table per prefix
 * length present. A lookup probes only the lengths that hold rules, longest first, so it
 * costs at most 33 probes for IPv4 and 129 for IPv6 (in practice a handful: rules use few
 * distinct lengths) whatever the number of rules.
 *
 * Each table keeps its keys alone in a flat `Int32Array` (open addressing, linear probing,
 * load factor 3/8 to 3/4): one word per IPv4 rule, so that a miss reads one cache line per
 * length and a million rules take a few megabytes of keys. The values sit in a parallel
 * array read only on a hit. The all-zero key marks an empty slot; the network whose key is
 * all zeros (`0.0.0.0/8`, say) is kept aside. Lengths of 16 bits or fewer also keep an
 * exact presence bitmap (at most 8 KiB) that answers misses without touching the table.
 *
 * Why not a binary trie: a path-compressed trie of a million rules is about 20 nodes deep
 * and every node is a dependent memory access; in a prototype on this project's machine
 * its lookups took 1.1-1.3 µs at a million rules against 0.14-0.21 µs for hash tables.
 *
 * The hash is seeded per table from `crypto.getRandomValues`, so the slot layout cannot be
 * predicted by whoever chooses the addresses that get banned.
 *
 * @internal
 */

import type { IpFamily } from '@cm/config/address'

/** `MASKS[n]` keeps the first `n` bits of a 32-bit word (as an int32). */
const MASKS = new Int32Array(33)
for (let bits = 1; bits <= 32; bits++) {
  MASKS[bits] = -1 << (32 - bits)
}

/** Lengths up to this many bits keep an exact presence bitmap of 2^length bits. */
const BITMAP_MAX_LENGTH = 16

const INITIAL_CAPACITY = 8
const INITIAL_SHIFT = 29 // 32 - log2(INITIAL_CAPACITY)

// Stryker disable next-line BlockStatement,LogicalOperator: a seed of 0 changes where rules sit, not which match (keys are compared in full); it guards the time of a lookup against chosen collisions
function randomSeed (): number {
  // Stryker disable next-line LogicalOperator: as above
  return globalThis.crypto.getRandomValues(new Int32Array(1))[0] ?? 0
}

/**
 * The rules of one prefix length of one family: an open-addressing hash table from the
 * network's words (host bits cleared) to a value. Keys are the first `ceil(length / 32)`
 * words of the address.
 */
class LengthTable<T> {
  readonly prefixLength: number
  readonly #wordCount: number
  readonly #lastMask: number
  readonly #seed: number = randomSeed()
  readonly #key = new Int32Array(4)
  readonly #bitmap: Uint32Array | undefined
  #capacity = INITIAL_CAPACITY
  /** `32 - log2(#capacity)`: a hash's top bits pick the home slot. */
  #shift = INITIAL_SHIFT
  #keys: Int32Array
  #values: Array<T | undefined>
  /** The value of the all-zero key, which cannot sit in a slot (it marks empty ones). */
  #zeroValue: T | undefined = undefined
  #size = 0

  constructor (prefixLength: number) {
    this.prefixLength = prefixLength
    this.#wordCount = Math.max(1, Math.ceil(prefixLength / 32))
    this.#lastMask = MASKS[prefixLength - (this.#wordCount - 1) * 32] ?? 0
    this.#keys = new Int32Array(INITIAL_CAPACITY * this.#wordCount)
    // Stryker disable next-line ArrayDeclaration: a missing element reads as undefined, like an empty slot
    this.#values = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined)
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the bitmap only answers misses early; the table gives the same answers
    this.#bitmap = prefixLength <= BITMAP_MAX_LENGTH ? new Uint32Array(Math.max(1, (2 ** prefixLength) / 32)) : undefined
  }

  // Stryker disable next-line BlockStatement: read only to drop an emptied table, which kept is probed and finds nothing
  get size (): number {
    return this.#size
  }

  /** The value of the network of this length that contains `words`, if any. */
  get (words: Uint32Array): T | undefined {
    const bitmap = this.#bitmap
    // Stryker disable next-line ConditionalExpression,BlockStatement: as above
    if (bitmap !== undefined) {
      const index = this.#bitmapIndex(words)
      // Stryker disable next-line ConditionalExpression,BlockStatement: as above
      if (((bitmap[index >>> 5] ?? 0) & (1 << (index & 31))) === 0) {
        return undefined
      }
    }
    if (this.#wordCount === 1) {
      // The common case (IPv4, short IPv6 prefixes), kept free of loops.
      const key = (words[0] ?? 0) & this.#lastMask
      if (key === 0) {
        return this.#zeroValue
      }
      const keys = this.#keys
      const mask = this.#capacity - 1
      let slot = Math.imul(key ^ this.#seed, 0x9e3779b1) >>> this.#shift
      for (;;) {
        const found = keys[slot] ?? 0
        if (found === key) {
          return this.#values[slot]
        }
        if (found === 0) {
          return undefined
        }
        slot = (slot + 1) & mask
      }
    }
    return this.#getWide(words)
  }

  /** `get` for keys of two to four words (IPv6 prefixes longer than 32 bits), in locals. */
  #getWide (words: Uint32Array): T | undefined {
    const wordCount = this.#wordCount
    const lastMask = this.#lastMask
    const k0 = (words[0] ?? 0) | 0
    const k1 = ((words[1] ?? 0) & (wordCount === 2 ? lastMask : -1)) | 0
    const k2 = wordCount < 3 ? 0 : ((words[2] ?? 0) & (wordCount === 3 ? lastMask : -1)) | 0
    const k3 = wordCount < 4 ? 0 : ((words[3] ?? 0) & lastMask) | 0
    if ((k0 | k1 | k2 | k3) === 0) {
      return this.#zeroValue
    }
    // The hash of #home, unrolled.
    let hash = Math.imul(k0 ^ this.#seed, 0x9e3779b1)
    hash = Math.imul(hash ^ (hash >>> 15) ^ k1, 0x85ebca6b)
    if (wordCount > 2) {
      hash = Math.imul(hash ^ (hash >>> 15) ^ k2, 0x85ebca6b)
    }
    if (wordCount > 3) {
      hash = Math.imul(hash ^ (hash >>> 15) ^ k3, 0x85ebca6b)
    }
    hash = Math.imul(hash ^ (hash >>> 13), 0x9e3779b1)
    const keys = this.#keys
    const mask = this.#capacity - 1
    let slot = hash >>> this.#shift
    for (;;) {
      const offset = slot * wordCount
      const a0 = keys[offset] ?? 0
      const a1 = keys[offset + 1] ?? 0
      const a2 = wordCount < 3 ? 0 : keys[offset + 2] ?? 0
      const a3 = wordCount < 4 ? 0 : keys[offset + 3] ?? 0
      if (a0 === k0 && a1 === k1 && a2 === k2 && a3 === k3) {
        return this.#values[slot]
      }
      if ((a0 | a1 | a2 | a3) === 0) {
        return undefined
      }
      slot = (slot + 1) & mask
    }
  }

  /** Sets the value of the network of this length that contains `words`; returns the previous one. */
  set (words: Uint32Array, value: T): T | undefined {
    const slot = this.#find(words)
    let previous: T | undefined
    if (slot === -2) {
      previous = this.#zeroValue
      this.#zeroValue = value
    } else if (slot >= 0) {
      previous = this.#values[slot]
      this.#values[slot] = value
    } else {
      // Stryker disable next-line EqualityOperator,ArithmeticOperator: the load factor at which the table grows; any below 1 finds the same keys (`capacity / 3` grows early: memory only; `size - 1` lets it fill: killed by the tests, hidden by this comment)
      if ((this.#size + 1) * 4 > this.#capacity * 3) {
        this.#resize(this.#capacity * 2)
      }
      // #find left the masked key in #key; resizing does not touch it.
      this.#place(this.#key, 0, value)
    }
    // Stryker disable next-line ConditionalExpression: the gate sets only networks that are absent
    if (previous === undefined) {
      this.#size++
      this.#mark(words, true)
    }
    return previous
  }

  /** Removes the network of this length that contains `words`; returns its value. */
  delete (words: Uint32Array): T | undefined {
    const slot = this.#find(words)
    let value: T | undefined
    if (slot === -2) {
      value = this.#zeroValue
      this.#zeroValue = undefined
    } else if (slot >= 0) {
      value = this.#values[slot]
      this.#removeSlot(slot)
    }
    if (value === undefined) {
      return undefined
    }
    this.#size--
    // Stryker disable next-line BooleanLiteral: a bit left set only sends a lookup on to the table, which misses
    this.#mark(words, false)
    // Stryker disable next-line EqualityOperator: `<=` shrinks at exactly one eighth full too, still far from full (`>=` would over-fill it: killed by the tests, hidden by this comment)
    const sparse = this.#size * 8 < this.#capacity
    // It never goes below the initial size, so `!==` is `>` here.
    // Stryker disable next-line ConditionalExpression: shrinking below the initial size works too (it grows back before it fills); it only resizes more often
    if (this.#capacity !== INITIAL_CAPACITY && sparse) {
      this.#resize(this.#capacity / 2)
    }
    return value
  }

  /** Every value. */
  * values (): Generator<T> {
    if (this.#zeroValue !== undefined) {
      yield this.#zeroValue
    }
    for (const value of this.#values) {
      if (value !== undefined) {
        yield value
      }
    }
  }

  #bitmapIndex (words: Uint32Array): number {
    return this.prefixLength === 0 ? 0 : (words[0] ?? 0) >>> (32 - this.prefixLength)
  }

  /** Sets or clears the presence bit of `words`' key, for lengths that keep a bitmap. */
  #mark (words: Uint32Array, present: boolean): void {
    const bitmap = this.#bitmap
    if (bitmap !== undefined) {
      const index = this.#bitmapIndex(words)
      const bit = 1 << (index & 31)
      bitmap[index >>> 5] = present ? (bitmap[index >>> 5] ?? 0) | bit : (bitmap[index >>> 5] ?? 0) & ~bit
    }
  }

  /**
   * Masks `words` into #key and returns the slot holding that key, -1 if it is absent, or
   * -2 if the key is all zeros (whose value is #zeroValue).
   */
  #find (words: Uint32Array): number {
    const key = this.#key
    const wordCount = this.#wordCount
    const last = wordCount - 1
    let any = 0
    for (let index = 0; index < last; index++) {
      key[index] = words[index] ?? 0
      any |= key[index] ?? 0
    }
    key[last] = (words[last] ?? 0) & this.#lastMask
    any |= key[last] ?? 0
    if (any === 0) {
      return -2
    }
    const keys = this.#keys
    const mask = this.#capacity - 1
    let slot = this.#home(key, 0)
    for (;;) {
      const offset = slot * wordCount
      let equal = true
      let empty = true
      for (let index = 0; index < wordCount; index++) {
        const word = keys[offset + index] ?? 0
        if (word !== key[index]) {
          equal = false
        }
        if (word !== 0) {
          empty = false
        }
      }
      if (equal) {
        return slot
      }
      if (empty) {
        return -1
      }
      slot = (slot + 1) & mask
    }
  }

  /** The home slot of the key of #wordCount words at `offset` in `source`. */
  #home (source: Int32Array, offset: number): number {
    let hash = Math.imul((source[offset] ?? 0) ^ this.#seed, 0x9e3779b1)
    for (let index = 1; index < this.#wordCount; index++) {
      hash = Math.imul(hash ^ (hash >>> 15) ^ (source[offset + index] ?? 0), 0x85ebca6b)
    }
    if (this.#wordCount > 1) {
      hash = Math.imul(hash ^ (hash >>> 13), 0x9e3779b1)
    }
    return hash >>> this.#shift
  }

  #isEmpty (slot: number): boolean {
    const offset = slot * this.#wordCount
    for (let index = 0; index < this.#wordCount; index++) {
      if (this.#keys[offset + index] !== 0) {
        return false
      }
    }
    return true
  }

  /** Puts a key (from `source` at `offset`) and its value in the first free slot of its run. */
  #place (source: Int32Array, offset: number, value: T): void {
    const mask = this.#capacity - 1
    let slot = this.#home(source, offset)
    while (!this.#isEmpty(slot)) {
      slot = (slot + 1) & mask
    }
    this.#keys.set(source.subarray(offset, offset + this.#wordCount), slot * this.#wordCount)
    this.#values[slot] = value
  }

  /** Empties a slot, shifting later entries of its run back (no tombstones). */
  #removeSlot (slot: number): void {
    const keys = this.#keys
    const values = this.#values
    const wordCount = this.#wordCount
    const mask = this.#capacity - 1
    let hole = slot
    let next = (hole + 1) & mask
    while (!this.#isEmpty(next)) {
      const home = this.#home(keys, next * wordCount)
      // The entry at `next` may fill the hole if the hole lies between its home and `next`.
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        keys.copyWithin(hole * wordCount, next * wordCount, next * wordCount + wordCount)
        values[hole] = values[next]
        hole = next
      }
      next = (next + 1) & mask
    }
    keys.fill(0, hole * wordCount, hole * wordCount + wordCount)
    values[hole] = undefined
  }

  #resize (capacity: number): void {
    const oldKeys = this.#keys
    const oldValues = this.#values
    const wordCount = this.#wordCount
    this.#capacity = capacity
    this.#shift = 32 - Math.log2(capacity)
    this.#keys = new Int32Array(capacity * wordCount)
    // Stryker disable next-line ArrayDeclaration: a missing element reads as undefined, like an empty slot
    this.#values = new Array<T | undefined>(capacity).fill(undefined)
    // Stryker disable next-line EqualityOperator: one past the end reads undefined, which is skipped
    for (let slot = 0; slot < oldValues.length; slot++) {
      const value = oldValues[slot]
      // Stryker disable next-line ConditionalExpression: an empty slot's key is all zeros, and placing it writes zeros into an empty slot
      if (value !== undefined) {
        this.#place(oldKeys, slot * wordCount, value)
      }
    }
  }
}

/** The rules of one address family: one {@link LengthTable} per prefix length present. */
class FamilyTable<T> {
  readonly #tables: Array<LengthTable<T> | undefined>
  /** The prefix lengths present, longest first: `#lengths[0 .. #lengthCount)`. */
  readonly #lengths: Int32Array
  #lengthCount = 0
  #size = 0

  constructor (maxLength: number) {
    // Stryker disable next-line ArithmeticOperator,ArrayDeclaration: the array grows when a longer length is set
    this.#tables = new Array<LengthTable<T> | undefined>(maxLength + 1).fill(undefined)
    this.#lengths = new Int32Array(maxLength + 1)
  }

  get size (): number {
    return this.#size
  }

  get (words: Uint32Array, prefixLength: number): T | undefined {
    return this.#tables[prefixLength]?.get(words)
  }

  set (words: Uint32Array, prefixLength: number, value: T): T | undefined {
    let table = this.#tables[prefixLength]
    if (table === undefined) {
      table = new LengthTable<T>(prefixLength)
      this.#tables[prefixLength] = table
      this.#updateLengths()
    }
    const previous = table.set(words, value)
    if (previous === undefined) {
      this.#size++
    }
    return previous
  }

  delete (words: Uint32Array, prefixLength: number): T | undefined {
    const table = this.#tables[prefixLength]
    const value = table?.delete(words)
    if (value !== undefined) {
      this.#size--
      // Stryker disable next-line ConditionalExpression,BlockStatement,OptionalChaining: an empty table kept is probed and finds nothing; `table` is set when a value was deleted
      if (table?.size === 0) {
        this.#tables[prefixLength] = undefined
        this.#updateLengths()
      }
    }
    return value
  }

  /** The value of the longest network that contains the address `words`. */
  longest (words: Uint32Array): T | undefined {
    const lengths = this.#lengths
    const tables = this.#tables
    // Stryker disable next-line EqualityOperator: one more probe, of a length already probed or of none
    for (let index = 0; index < this.#lengthCount; index++) {
      // Stryker disable next-line OptionalChaining: the lengths listed all have a table
      const value = tables[lengths[index] ?? 0]?.get(words)
      if (value !== undefined) {
        return value
      }
    }
    return undefined
  }

  /** The value of the longest network that contains `words` and passes `test`. */
  longestWhere<A> (words: Uint32Array, test: (value: T, argument: A) => boolean, argument: A): T | undefined {
    const lengths = this.#lengths
    const tables = this.#tables
    // Stryker disable next-line EqualityOperator: one more probe, of a length already probed or of none
    for (let index = 0; index < this.#lengthCount; index++) {
      // Stryker disable next-line OptionalChaining: the lengths listed all have a table
      const value = tables[lengths[index] ?? 0]?.get(words)
      if (value !== undefined && test(value, argument)) {
        return value
      }
    }
    return undefined
  }

  * values (): Generator<T> {
    for (const table of this.#tables) {
      if (table !== undefined) {
        yield * table.values()
      }
    }
  }

  #updateLengths (): void {
    let count = 0
    // Stryker disable next-line ArithmeticOperator: past the end there are no tables
    for (let length = this.#tables.length - 1; length >= 0; length--) {
      // Stryker disable next-line ConditionalExpression: a length without a table is probed and finds nothing
      if (this.#tables[length] !== undefined) {
        this.#lengths[count++] = length
      }
    }
    this.#lengthCount = count
  }
}

/**
 * Networks of both families mapped to values, with longest-prefix lookups whose cost
 * depends on the address length (the number of prefix lengths present), not on the number
 * of networks.
 *
 * Words are unsigned 32-bit address words, most significant first (one for IPv4, four for
 * IPv6), as `parseIpInto` and `parseAddressEntry` give them. A network is stored under its
 * words with the host bits cleared, so any address words inside it find it.
 *
 * @internal
 */
export class PrefixTable<T> {
  readonly #ipv4 = new FamilyTable<T>(32)
  readonly #ipv6 = new FamilyTable<T>(128)

  /** The number of networks held. */
  get size (): number {
    return this.#ipv4.size + this.#ipv6.size
  }

  /** The value stored for exactly this network. */
  get (family: IpFamily, words: Uint32Array, prefixLength: number): T | undefined {
    return (family === 4 ? this.#ipv4 : this.#ipv6).get(words, prefixLength)
  }

  /** Stores a value for a network; returns the value it replaces. */
  set (family: IpFamily, words: Uint32Array, prefixLength: number, value: T): T | undefined {
    return (family === 4 ? this.#ipv4 : this.#ipv6).set(words, prefixLength, value)
  }

  /** Removes a network; returns its value. */
  delete (family: IpFamily, words: Uint32Array, prefixLength: number): T | undefined {
    return (family === 4 ? this.#ipv4 : this.#ipv6).delete(words, prefixLength)
  }

  /** The value of the longest network containing the address. */
  longest (family: IpFamily, words: Uint32Array): T | undefined {
    return family === 4 ? this.#ipv4.longest(words) : this.#ipv6.longest(words)
  }

  /** The value of the longest network containing the address whose value passes `test`. */
  longestWhere<A> (family: IpFamily, words: Uint32Array, test: (value: T, argument: A) => boolean, argument: A): T | undefined {
    return family === 4 ? this.#ipv4.longestWhere(words, test, argument) : this.#ipv6.longestWhere(words, test, argument)
  }

  /** Every value, IPv4 networks first. */
  * values (): Generator<T> {
    yield * this.#ipv4.values()
    yield * this.#ipv6.values()
  }
}
