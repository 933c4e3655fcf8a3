/**
 * One budget tier's keys of one family below half their budget ("cold"), counted in one
 * typed array rather than one object each: a flood from many hosts fills this table, and a
 * lookup then reads one slot, where a `Map` of objects follows pointers out of the CPU's
 * caches, and the garbage collector walks no object per host. Internal to the fleet.
 *
 * Open addressing with linear probing, keyed by the address masked to the tier's prefix:
 * one 32-bit word for IPv4, four for IPv6. A slot holds the window its count belongs to,
 * the count, a mark (empty, cold, or hot: the key's count moved to an object of its own,
 * held elsewhere, once it was worth reporting), then the key's words. Nothing is deleted
 * in place: {@link KeyCounts.sweep} copies the slots kept into a fresh array, once a window.
 */
export class KeyCounts {
  /** `capacity` slots of {@link KeyCounts.stride} doubles: window, count, mark, then the key's words. */
  slots: Float64Array
  /** Doubles per slot: 4 for a one-word key, 7 for a four-word key. */
  readonly stride: number
  /** Slots in use (cold or hot). */
  size = 0
  readonly #words: 1 | 4
  #mask: number
  readonly #seed: number

  /**
   * @param words - the key's length in 32-bit words: 1 (IPv4) or 4 (IPv6)
   * @param capacity - the first number of slots (a power of two)
   * @param seed - mixed into the hash, so that which hosts collide cannot be foreseen
   */
  constructor (words: 1 | 4, capacity = 1_024, seed = (Math.random() * 0x1_0000_0000) | 0) {
    this.#words = words
    this.stride = KEY + words
    this.slots = new Float64Array(capacity * this.stride)
    this.#mask = capacity - 1
    this.#seed = seed
  }

  /** The slots there is room for. */
  get capacity (): number {
    return this.#mask + 1
  }

  /** The offset in {@link KeyCounts.slots} of a one-word key's slot, or -1 if it has none. */
  find (key: number): number {
    const slots = this.slots
    const mask = this.#mask
    for (let index = this.#hash(key); ; index = (index + 1) & mask) {
      const at = index * STRIDE_1
      if (slots[at + MARK] === EMPTY) return -1
      if (slots[at + KEY] === key) return at
    }
  }

  /** The offset in {@link KeyCounts.slots} of a four-word key's slot, or -1 if it has none. */
  findWords (words: Uint32Array): number {
    const slots = this.slots
    const mask = this.#mask
    const w0 = words[0] as number
    const w1 = words[1] as number
    const w2 = words[2] as number
    const w3 = words[3] as number
    for (let index = this.#hashWords(w0, w1, w2, w3); ; index = (index + 1) & mask) {
      const at = index * STRIDE_4
      if (slots[at + MARK] === EMPTY) return -1
      if (slots[at + KEY] === w0 && slots[at + KEY + 1] === w1 && slots[at + KEY + 2] === w2 && slots[at + KEY + 3] === w3) return at
    }
  }

  /**
   * Gives a one-word key that has no slot a cold one, counting nothing yet in `window`;
   * returns its offset. Grows the table first when it would be over half full.
   */
  insert (key: number, window: number): number {
    this.#makeRoom()
    const at = this.#place(this.#hash(key))
    this.slots[at + KEY] = key
    return this.#fill(at, window)
  }

  /** {@link KeyCounts.insert} for a four-word key. */
  insertWords (words: Uint32Array, window: number): number {
    this.#makeRoom()
    const at = this.#place(this.#hashWords(words[0] as number, words[1] as number, words[2] as number, words[3] as number))
    for (let word = 0; word < 4; word++) this.slots[at + KEY + word] = words[word] as number
    return this.#fill(at, window)
  }

  /**
   * Forgets the cold keys last counted before window `current - 1`, and drops the counts
   * of past windows (the key stays for one window, so that a host seen again reuses its
   * slot). Hot slots are kept as they are. Returns how many keys were forgotten.
   */
  sweep (current: number): number {
    const slots = this.slots
    let kept = 0
    for (let at = 0; at < slots.length; at += this.stride) {
      const mark = slots[at + MARK]
      if (mark === HOT) {
        kept++
      } else if (mark === COLD) {
        const window = slots[at + WINDOW] as number
        if (window !== current) slots[at + COUNT] = 0
        if (window >= current - 1) kept++
      }
    }
    const forgotten = this.size - kept
    // A table left under an eighth full shrinks by halves, never under 1,024 slots.
    let capacity = this.capacity
    while (capacity > 1_024 && 8 * kept < capacity) capacity >>= 1
    if (forgotten > 0 || capacity !== this.capacity) this.#rebuild(capacity, current - 1)
    return forgotten
  }

  /** Empties the table. */
  clear (): void {
    this.slots.fill(0)
    this.size = 0
  }

  #makeRoom (): void {
    if (2 * (this.size + 1) > this.capacity) this.#rebuild(2 * this.capacity, Number.NEGATIVE_INFINITY)
  }

  /** Marks the slot at `at` cold, counting nothing in `window`; returns `at`. */
  #fill (at: number, window: number): number {
    const slots = this.slots
    slots[at + WINDOW] = window
    slots[at + COUNT] = 0
    slots[at + MARK] = COLD
    this.size++
    return at
  }

  /** The first free slot on the probe path that starts at slot `index`. */
  #place (index: number): number {
    const slots = this.slots
    const mask = this.#mask
    const stride = this.stride
    for (; ; index = (index + 1) & mask) {
      const at = index * stride
      if (slots[at + MARK] === EMPTY) return at
    }
  }

  /** Copies the slots kept (hot ones, and cold ones counted in window `oldest` or later) into `capacity` fresh slots. */
  #rebuild (capacity: number, oldest: number): void {
    const old = this.slots
    const stride = this.stride
    this.slots = new Float64Array(capacity * stride)
    this.#mask = capacity - 1
    this.size = 0
    for (let from = 0; from < old.length; from += stride) {
      const mark = old[from + MARK] as number
      if (mark === EMPTY || (mark === COLD && (old[from + WINDOW] as number) < oldest)) continue
      const start = this.#words === 1
        ? this.#hash(old[from + KEY] as number)
        : this.#hashWords(old[from + KEY] as number, old[from + KEY + 1] as number, old[from + KEY + 2] as number, old[from + KEY + 3] as number)
      this.slots.set(old.subarray(from, from + stride), this.#place(start))
      this.size++
    }
  }

  /** The slot index a one-word key's probe path starts at (lowbias32, seeded). */
  #hash (key: number): number {
    return mix(key ^ this.#seed) & this.#mask
  }

  /** The slot index a four-word key's probe path starts at. */
  #hashWords (w0: number, w1: number, w2: number, w3: number): number {
    return mix(mix(mix(mix(w0 ^ this.#seed) ^ w1) ^ w2) ^ w3) & this.#mask
  }
}

/** lowbias32: a 32-bit integer mixer with good avalanche. */
function mix (value: number): number {
  value = Math.imul(value ^ (value >>> 16), 0x7feb352d)
  value = Math.imul(value ^ (value >>> 15), 0x846ca68b)
  return value ^ (value >>> 16)
}

/** Offsets within a slot: the window, the count, the mark, then the key's words. */
export const WINDOW = 0
export const COUNT = 1
export const MARK = 2
export const KEY = 3
/** Doubles per slot of a one-word and of a four-word table. */
const STRIDE_1 = KEY + 1
const STRIDE_4 = KEY + 4
/** Marks. */
const EMPTY = 0
export const COLD = 1
export const HOT = 2
