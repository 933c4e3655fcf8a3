/** Int32s per group: six counters (one per state-and-direction slot), the total, the head. */
const STRIDE = 8
const TOTAL = 6
const HEAD = 7
/** Groups the records make room for at first. */
const INITIAL_GROUPS = 64

/**
 * @internal
 * The records of the groups of connections with more than one connection (a peer's, or a
 * host's): per group, its counters by state and direction, their total, the ID slot of the
 * head of its list (see SlotLists) and its key. A group is a small integer, its ID (never
 * 0), that the peer or host index holds as its value; the counters and the head of a group
 * are eight int32s side by side in one `Int32Array`.
 *
 * Why not an object per group: the index held the group object, so a connection joining a
 * group read the index's value array, then the object, one after the other, two scattered
 * reads that miss the CPU caches with 100,000 connections held. Here the index's probe reads
 * the group's ID in the same cache line as the hash, and the counters and head are one read
 * further. IDs of released groups are reused, most recently released first; the records
 * never shrink (like the tracker's ID slots, they stay at the most groups held at once).
 */
export class GroupRecords<Key> {
  #data = new Int32Array(INITIAL_GROUPS * STRIDE)
  readonly #keys: Array<Key | undefined> = [undefined]
  /** Released IDs, the most recently released last. */
  readonly #free: number[] = []

  /** A new, empty group of `key`: no connections, counters at 0. */
  create (key: Key): number {
    let group = this.#free.pop()
    if (group === undefined) {
      group = this.#keys.length
      this.#keys.push(key)
      if ((group + 1) * STRIDE > this.#data.length) {
        const data = new Int32Array(this.#data.length * 2)
        data.set(this.#data)
        this.#data = data
      }
    } else {
      this.#keys[group] = key
      this.#data.fill(0, group * STRIDE, (group + 1) * STRIDE)
    }
    return group
  }

  /** Releases an empty group's ID for reuse. */
  release (group: number): void {
    this.#keys[group] = undefined
    this.#free.push(group)
  }

  /** The key of a group. */
  key (group: number): Key {
    return this.#keys[group] as Key
  }

  /** Adds `delta` to the count of one state-and-direction slot of a group, and to its total. */
  add (group: number, slot: number, delta: number): void {
    const data = this.#data
    const base = group * STRIDE
    data[base + slot] = (data[base + slot] ?? 0) + delta
    data[base + TOTAL] = (data[base + TOTAL] ?? 0) + delta
  }

  /** Moves one connection of a group from one state-and-direction slot to another. */
  move (group: number, from: number, to: number): void {
    const data = this.#data
    const base = group * STRIDE
    data[base + from] = (data[base + from] ?? 0) - 1
    data[base + to] = (data[base + to] ?? 0) + 1
  }

  /**
   * How many of a group's connections are in `state` (-1: any active state) and `direction`
   * (-1: either).
   */
  count (group: number, state: number, direction: number): number {
    const data = this.#data
    const base = group * STRIDE
    if (state >= 0) {
      const slot = base + state * 2
      return direction >= 0 ? data[slot + direction] ?? 0 : (data[slot] ?? 0) + (data[slot + 1] ?? 0)
    }
    if (direction >= 0) {
      return (data[base + direction] ?? 0) + (data[base + 2 + direction] ?? 0) + (data[base + 4 + direction] ?? 0)
    }
    return data[base + TOTAL] ?? 0
  }

  /** How many of a group's connections have opened and not yet closed (open or closing). */
  connected (group: number): number {
    const data = this.#data
    const base = group * STRIDE
    return (data[base + 2] ?? 0) + (data[base + 3] ?? 0) + (data[base + 4] ?? 0) + (data[base + 5] ?? 0)
  }

  /** How many connections a group has. */
  total (group: number): number {
    return this.#data[group * STRIDE + TOTAL] ?? 0
  }

  /** The ID slot of the first connection of a group's list; 0 while it is empty. */
  head (group: number): number {
    return this.#data[group * STRIDE + HEAD] ?? 0
  }

  /** Sets the ID slot of the first connection of a group's list. */
  setHead (group: number, head: number): void {
    this.#data[group * STRIDE + HEAD] = head
  }
}
