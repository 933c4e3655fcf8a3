/** ID slots the lists make room for at first. */
const INITIAL_SLOTS = 1_024

/**
 * @internal
 * The lists of the connections of each group (a peer's, or a host's), part of a
 * {@link GroupIndex}: links between the ID slots of the connections, in two typed arrays
 * indexed by ID slot, rather than references between the entries.
 *
 * Why not references: putting a connection at the head of its group's list must link the
 * old head back to it. With a reference, that is a property store on the old head, and the
 * store first loads the old head (to check its shape), a connection made long ago whose
 * memory is seldom in the caches. Here it is a store of one integer into an array at hand.
 *
 * ID slot 0 is never a connection's, so 0 ends a list and marks an empty one.
 */
export class SlotLists {
  /** The ID slot before each ID slot in its list; 0 for the head. */
  #previous = new Int32Array(INITIAL_SLOTS)
  /** The ID slot after each ID slot in its list; 0 for the tail. */
  #next = new Int32Array(INITIAL_SLOTS)

  /**
   * Puts `slot` at the head of the list that starts at `head` (0: an empty list).
   *
   * @returns the new head: `slot`
   */
  push (head: number, slot: number): number {
    if (slot >= this.#next.length) {
      this.#grow(slot)
    }
    this.#previous[slot] = 0
    this.#next[slot] = head
    // Slot 0 is 'none': its links may be written, and are never read.
    this.#previous[head] = slot
    return slot
  }

  /**
   * Takes `slot` out of the list that starts at `head`.
   *
   * @returns the list's head afterwards (0: the list is now empty)
   */
  remove (head: number, slot: number): number {
    const previous = this.#previous[slot] ?? 0
    const next = this.#next[slot] ?? 0
    this.#previous[next] = previous
    this.#previous[slot] = 0
    this.#next[slot] = 0
    if (previous === 0) {
      return next
    }
    this.#next[previous] = next
    return head
  }

  /** The ID slot after `slot` in its list; 0 at the tail, and for a slot never pushed. */
  next (slot: number): number {
    // Past the end, an Int32Array reads undefined.
    return this.#next[slot] ?? 0
  }

  /** Makes room for `slot` and those before it, by doubling at least. */
  #grow (slot: number): void {
    const size = Math.max(this.#next.length * 2, slot + 1)
    const previous = new Int32Array(size)
    previous.set(this.#previous)
    this.#previous = previous
    const next = new Int32Array(size)
    next.set(this.#next)
    this.#next = next
  }
}
