/**
 * One budget tier's IPv4 keys below half their budget ("cold"), counted in one typed array
 * rather than one object each: a flood from many hosts fills this table, and a lookup then
 * reads one slot of 32 bytes, where a `Map` of objects follows pointers out of the CPU's
 * caches, and the garbage collector walks no object per host. Internal to the fleet.
 *
 * Open addressing with linear probing, keyed by the masked address as an int32. A slot
 * holds the key, the window its count belongs to, the count, and a mark: empty, cold, or
 * hot (the key's count moved to an object of its own, held elsewhere, once it was worth
 * reporting). Nothing is deleted in place: {@link V4Counts.sweep} copies the slots kept
 * into a fresh array, once a window.
 */
export class V4Counts {
  /** `capacity` slots of {@link STRIDE} doubles: key, window, count, mark. */
  slots: Float64Array
  /** Slots in use (cold or hot). */
  size = 0
  #mask: number
  readonly #seed: number

  /**
   * @param capacity - the first number of slots (a power of two)
   * @param seed - mixed into the hash, so that which hosts collide cannot be foreseen
   */
  constructor (capacity = 1_024, seed = (Math.random() * 0x1_0000_0000) | 0) {
    this.slots = new Float64Array(capacity * STRIDE)
    this.#mask = capacity - 1
    this.#seed = seed
  }

  /** The slots there is room for. */
  get capacity (): number {
    return this.#mask + 1
  }

  /** The offset in {@link V4Counts.slots} of the key's slot, or -1 if it has none. */
  find (key: number): number {
    const slots = this.slots
    const mask = this.#mask
    for (let index = this.#hash(key); ; index = (index + 1) & mask) {
      const at = index * STRIDE
      if (slots[at + MARK] === EMPTY) return -1
      if (slots[at + KEY] === key) return at
    }
  }

  /**
   * Gives a key that has no slot a cold one, counting nothing yet in `window`; returns its
   * offset. Grows the table first when it would be over half full.
   */
  insert (key: number, window: number): number {
    if (2 * (this.size + 1) > this.capacity) this.#rebuild(2 * this.capacity, Number.NEGATIVE_INFINITY)
    const at = this.#place(key)
    const slots = this.slots
    slots[at + KEY] = key
    slots[at + WINDOW] = window
    slots[at + COUNT] = 0
    slots[at + MARK] = COLD
    this.size++
    return at
  }

  /**
   * Forgets the cold keys last counted before window `current - 1`, and drops the counts
   * of past windows (the key stays for one window, so that a host seen again reuses its
   * slot). Hot slots are kept as they are. Returns how many keys were forgotten.
   */
  sweep (current: number): number {
    const slots = this.slots
    let kept = 0
    for (let at = 0; at < slots.length; at += STRIDE) {
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

  /** The first free slot on the key's probe path. */
  #place (key: number): number {
    const slots = this.slots
    const mask = this.#mask
    for (let index = this.#hash(key); ; index = (index + 1) & mask) {
      const at = index * STRIDE
      if (slots[at + MARK] === EMPTY) return at
    }
  }

  /** Copies the slots kept (hot ones, and cold ones counted in window `oldest` or later) into `capacity` fresh slots. */
  #rebuild (capacity: number, oldest: number): void {
    const old = this.slots
    this.slots = new Float64Array(capacity * STRIDE)
    this.#mask = capacity - 1
    this.size = 0
    for (let from = 0; from < old.length; from += STRIDE) {
      const mark = old[from + MARK] as number
      if (mark === EMPTY || (mark === COLD && (old[from + WINDOW] as number) < oldest)) continue
      const to = this.#place(old[from + KEY] as number)
      this.slots.set(old.subarray(from, from + STRIDE), to)
      this.size++
    }
  }

  /** The slot index a key's probe path starts at (lowbias32, seeded). */
  #hash (key: number): number {
    let mixed = key ^ this.#seed
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x7feb352d)
    mixed = Math.imul(mixed ^ (mixed >>> 15), 0x846ca68b)
    return (mixed ^ (mixed >>> 16)) & this.#mask
  }
}

/** Doubles per slot. */
export const STRIDE = 4
/** Offsets within a slot. */
export const KEY = 0
export const WINDOW = 1
export const COUNT = 2
export const MARK = 3
/** Marks. */
const EMPTY = 0
export const COLD = 1
export const HOT = 2
