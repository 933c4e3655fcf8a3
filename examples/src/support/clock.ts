import type { Clock } from '@cm/config'

/**
 * A clock the example moves by hand, given to the manager as its `clock` option. The
 * manager reads time from it for the rate limiter, timed bans and timelines (its timeouts
 * still run on real timers), so a burst of attempts happens at one instant whatever the
 * machine's load, and "ten minutes later" takes no time at all. Starts at 0 ms.
 */
export class ManualClock implements Clock {
  #now = 0

  now (): number {
    return this.#now
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance (ms: number): void {
    this.#now += ms
  }
}
