import type { Entry } from './connection-record.ts'

/**
 * @internal
 * A connection held is counted and listed by its lane: its state and its direction together,
 * `state * 2 + direction` (0 pending inbound, 1 pending outbound, 2 open inbound, ... 5
 * closing outbound). Closed connections have no lane: they leave the tracker.
 */
export const LANE_COUNT = 6

/**
 * @internal
 * Int32s of one set of lane counters: one per lane, then their total (`LANE_COUNT`).
 * A group record and the tracker's totals share this layout.
 */
export const LANE_COUNTERS = LANE_COUNT + 1

/** @internal Adds `delta` to one lane's counter of the counters at `base`, and to their total. */
export function addToLane (counters: Int32Array, base: number, lane: number, delta: number): void {
  counters[base + lane] = (counters[base + lane] ?? 0) + delta
  counters[base + LANE_COUNT] = (counters[base + LANE_COUNT] ?? 0) + delta
}

/** @internal Moves one connection from one lane's counter to another's. */
export function moveLane (counters: Int32Array, base: number, from: number, to: number): void {
  counters[base + from] = (counters[base + from] ?? 0) - 1
  counters[base + to] = (counters[base + to] ?? 0) + 1
}

/**
 * @internal
 * How many connections of the counters at `base` are in `state` (-1: any active state) and
 * `direction` (-1: either).
 */
export function countLanes (counters: Int32Array, base: number, state: number, direction: number): number {
  if (state >= 0) {
    const lane = base + state * 2
    return direction >= 0 ? counters[lane + direction] ?? 0 : (counters[lane] ?? 0) + (counters[lane + 1] ?? 0)
  }
  if (direction >= 0) {
    return (counters[base + direction] ?? 0) + (counters[base + 2 + direction] ?? 0) + (counters[base + 4 + direction] ?? 0)
  }
  return counters[base + LANE_COUNT] ?? 0
}

/**
 * @internal
 * Every connection the tracker holds, by lane: a counter per lane and a list per lane, oldest
 * first (the links are in the entries), so that counting by state and direction is O(1) and
 * listing is O(result).
 */
export class Lanes<Metadata> {
  readonly #counters = new Int32Array(LANE_COUNTERS)
  // Stryker disable next-line ObjectLiteral: an empty array reads undefined at every lane too
  readonly #heads: Array<Entry<Metadata> | undefined> = Array.from({ length: LANE_COUNT }, () => undefined)
  // Stryker disable next-line ObjectLiteral: as above
  readonly #tails: Array<Entry<Metadata> | undefined> = Array.from({ length: LANE_COUNT }, () => undefined)

  /** How many connections are held. */
  get total (): number {
    return this.#counters[LANE_COUNT] ?? 0
  }

  /** Counts a new connection and appends it to its lane's list. */
  add (entry: Entry<Metadata>): void {
    const lane = entry.lane
    this.#append(entry, lane)
    addToLane(this.#counters, 0, lane, 1)
  }

  /** Takes a connection out of its lane (before it leaves the tracker). */
  remove (entry: Entry<Metadata>): void {
    const lane = entry.lane
    this.#unlink(entry, lane)
    addToLane(this.#counters, 0, lane, -1)
  }

  /** Moves a connection whose state has just changed from lane `from` to its own lane. */
  moved (entry: Entry<Metadata>, from: number): void {
    const to = entry.lane
    this.#unlink(entry, from)
    this.#append(entry, to)
    moveLane(this.#counters, 0, from, to)
  }

  /** How many connections are in `state` and `direction` (-1: any). */
  count (state: number, direction: number): number {
    return countLanes(this.#counters, 0, state, direction)
  }

  /** The oldest connection of a lane (follow `laneNext` for the others). */
  oldest (lane: number): Entry<Metadata> | undefined {
    return this.#heads[lane]
  }

  #append (entry: Entry<Metadata>, lane: number): void {
    const tail = this.#tails[lane]
    entry.lanePrevious = tail
    entry.laneNext = undefined
    if (tail === undefined) this.#heads[lane] = entry
    else tail.laneNext = entry
    this.#tails[lane] = entry
  }

  #unlink (entry: Entry<Metadata>, lane: number): void {
    const { lanePrevious: previous, laneNext: next } = entry
    if (previous === undefined) this.#heads[lane] = next
    else previous.laneNext = next
    if (next === undefined) this.#tails[lane] = previous
    else next.lanePrevious = previous
    entry.lanePrevious = undefined
    entry.laneNext = undefined
  }
}
