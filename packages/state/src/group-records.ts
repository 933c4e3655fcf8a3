import { CLOSING, OPEN } from './connection-record.ts'
import { addToLane, countLanes, LANE_COUNTERS, moveLane } from './lanes.ts'

/** Int32s per group: its lane counters (six lanes and their total), then the head of its list. */
const STRIDE = LANE_COUNTERS + 1
const HEAD = LANE_COUNTERS
/** Groups the records make room for at first. */
const INITIAL_GROUPS = 64

/**
 * @internal
 * The records of the groups of two or more connections (a peer's, or a host's), part of a
 * {@link GroupIndex}: per group, its key, its lane counters and the ID slot of the head of
 * its list (see SlotLists). A group is a small positive integer, its record ID; the counters
 * and the head of a group are eight int32s side by side in one `Int32Array`.
 *
 * Why not an object per group: the index would hold the object, so a connection joining a
 * group would read the index's value, then the object, two scattered reads that miss the CPU
 * caches with 100,000 connections held. Here the index's probe reads the record ID in the
 * same cache line as the hash, and the counters and head are one read further. Released
 * record IDs are reused, most recently released first; the records never shrink (like the
 * tracker's ID slots, they stay at the most groups held at once).
 */
export class GroupRecords<Key> {
  // Stryker disable next-line ArithmeticOperator: the first size only; create() grows it as needed
  #data = new Int32Array(INITIAL_GROUPS * STRIDE)
  readonly #keys: Array<Key | undefined> = [undefined]
  /** Released record IDs, the most recently released last. */
  readonly #free: number[] = []

  /** A new, empty group of `key`: no connections, counters at 0. */
  create (key: Key): number {
    let group = this.#free.pop()
    if (group === undefined) {
      group = this.#keys.length
      this.#keys.push(key)
      // Stryker disable next-line EqualityOperator: growing one group early changes only the memory held
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

  /** Releases an empty group's record ID for reuse. */
  release (group: number): void {
    this.#keys[group] = undefined
    this.#free.push(group)
  }

  /** The key of a group. */
  key (group: number): Key {
    return this.#keys[group] as Key
  }

  /** Adds `delta` to the counter of one lane of a group, and to its total. */
  add (group: number, lane: number, delta: number): void {
    addToLane(this.#data, group * STRIDE, lane, delta)
  }

  /** Moves one connection of a group from one lane to another. */
  move (group: number, from: number, to: number): void {
    moveLane(this.#data, group * STRIDE, from, to)
  }

  /**
   * How many of a group's connections are in `state` (-1: any active state) and `direction`
   * (-1: either).
   */
  count (group: number, state: number, direction: number): number {
    return countLanes(this.#data, group * STRIDE, state, direction)
  }

  /** How many of a group's connections have opened and not yet closed (open or closing). */
  connected (group: number): number {
    const base = group * STRIDE
    return countLanes(this.#data, base, OPEN, -1) + countLanes(this.#data, base, CLOSING, -1)
  }

  /** How many connections a group has. */
  total (group: number): number {
    return this.count(group, -1, -1)
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
