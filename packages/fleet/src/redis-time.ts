import { integerReply } from './redis.ts'
import type { Clock } from '@cm/config'

/**
 * Redis's clock as this node estimates it: the node's clock plus an offset measured from
 * the time in script replies. Rule expiries and budget windows are in this time, so that
 * they fall at the same moment on every node.
 */
export class RedisTime {
  readonly #clock: Clock
  #offset: number
  #bestRoundTrip = Infinity
  #learnedAt = -Infinity

  /** @param clock - the node's clock; until a reply is measured, the offset makes it wall time */
  constructor (clock: Clock) {
    this.#clock = clock
    this.#offset = Date.now() - clock.now()
  }

  /** Redis's time now, as this node estimates it (ms since the epoch). */
  now (): number {
    return this.#clock.now() + this.#offset
  }

  /** This node's clock now: what {@link RedisTime.learn} takes as `sentAt`. */
  nodeNow (): number {
    return this.#clock.now()
  }

  /** Redis's clock minus the wall clock of this node, in ms, as last measured. */
  offsetMs (): number {
    return Math.round(this.#offset + this.#clock.now() - Date.now())
  }

  /**
   * Measures Redis's clock against ours from a reply's time and the round trip. A sample is
   * off by up to half its round trip, so one is taken only if its round trip is within 1 ms
   * of the best recent one (or the last was taken more than 10 s ago): a slow reply on a
   * busy machine does not move every window and TTL by tens of milliseconds.
   *
   * @param redisNow - the time in the reply (ms), as Redis sent it
   * @param sentAt - when the command was sent, by the node's clock
   */
  learn (redisNow: unknown, sentAt: number): void {
    const now = integerReply(redisNow)
    const receivedAt = this.#clock.now()
    const roundTrip = receivedAt - sentAt
    if (now === undefined || roundTrip > 1_000) return
    if (roundTrip <= this.#bestRoundTrip + 1 || receivedAt - this.#learnedAt > 10_000) {
      this.#offset = now - (sentAt + receivedAt) / 2
      this.#bestRoundTrip = roundTrip
      this.#learnedAt = receivedAt
    }
  }
}
