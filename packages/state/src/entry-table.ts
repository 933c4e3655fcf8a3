import { TrackerFullError } from './errors.ts'
import type { Entry } from './connection-record.ts'

/**
 * @internal
 * IDs are `generation * SLOT_COUNT + slot`. The slot, an ID's ID slot, indexes the array of
 * entries (no hashing, no map to grow); the generation, raised each time an ID slot is
 * reused, keeps IDs unique. An ID slot whose generation reaches `MAX_GENERATION` is retired,
 * so IDs stay safe integers. ID slot 0 is never used, so 0 can mean "no connection".
 */
const SLOT_COUNT = 2 ** 23
// Stryker disable next-line ArithmeticOperator: reached only after a billion reuses of one ID slot (static: set at load)
const MAX_GENERATION = Math.floor(Number.MAX_SAFE_INTEGER / SLOT_COUNT) - 1

/**
 * @internal
 * The ID slot of a connection's ID. Once IDs pass 2^31 this `%` is a call to `fmod` (about
 * 10 ns) whose result is a double, so an entry computes it once and keeps it (`entry.slot`),
 * as a small integer (`| 0`, exact: a slot is below 2^23).
 */
export function slotOf (id: number): number {
  return (id % SLOT_COUNT) | 0
}

/**
 * @internal
 * The tracker's entries by ID: issues IDs, finds a held connection's entry in O(1), and tells
 * an ID that was issued and has closed from one that was never issued.
 */
export class EntryTable<Metadata> {
  /** Entries by ID slot. */
  readonly #entries: Array<Entry<Metadata> | undefined> = [undefined]
  /** The generation of the last ID issued in each ID slot. */
  readonly #generations: number[] = [0]
  /** ID slots free for reuse (the most recently freed last). */
  readonly #free: number[] = []

  /**
   * A new ID, in a free ID slot; {@link EntryTable.hold} its entry next.
   *
   * @throws {@link TrackerFullError} when every ID slot is held
   */
  issue (): number {
    const slot = this.#free.pop()
    if (slot === undefined) {
      const fresh = this.#entries.length
      // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: reached only with 2^23 connections held at once (gigabytes)
      if (fresh >= SLOT_COUNT) {
        // Stryker disable next-line ArithmeticOperator: as above
        throw new TrackerFullError(SLOT_COUNT - 1)
      }
      this.#entries.push(undefined)
      this.#generations.push(0)
      return fresh
    }
    const generation = (this.#generations[slot] ?? 0) + 1
    this.#generations[slot] = generation
    return generation * SLOT_COUNT + slot
  }

  /** Holds the entry of a newly issued ID. */
  hold (entry: Entry<Metadata>): void {
    this.#entries[entry.slot] = entry
  }

  /** Lets go of a closed connection's entry and frees its ID slot for reuse, unless worn out. */
  release (entry: Entry<Metadata>): void {
    const slot = entry.slot
    this.#entries[slot] = undefined
    // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator,BlockStatement: a slot wears out only after a billion reuses
    if ((this.#generations[slot] ?? MAX_GENERATION) < MAX_GENERATION) {
      this.#free.push(slot)
    }
  }

  /** The entry of a connection held, by ID. */
  get (id: number): Entry<Metadata> | undefined {
    if (typeof id !== 'number') {
      return undefined
    }
    const entry = this.#entries[slotOf(id)]
    return entry !== undefined && entry.id === id ? entry : undefined
  }

  /** The entry held in an ID slot (none in slot 0). */
  at (slot: number): Entry<Metadata> | undefined {
    return this.#entries[slot]
  }

  /** Whether `id` was issued (so its connection is held or has closed). */
  issued (id: number): boolean {
    if (!Number.isSafeInteger(id) || id < 1) {
      return false
    }
    const slot = slotOf(id)
    const generation = (id - slot) / SLOT_COUNT
    // Slot 0 has generation 0 and IDs in it (k * SLOT_COUNT, k >= 1) have higher ones; a slot
    // never used has none: neither needs a range check of its own.
    return generation <= (this.#generations[slot] ?? -1)
  }
}
