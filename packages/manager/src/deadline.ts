import { CmError } from '@cm/config'

/**
 * A time limit on one operation: after `ms` milliseconds it aborts its controller with a
 * `timed out` error. Internal to the manager.
 *
 * Each operation gets its own controller, which the manager aborts directly when the
 * connection closes or the manager stops. Nothing is combined with a long-lived signal: on
 * Node 20, `AbortSignal.any()` keeps a reference in every source signal for each call
 * (nodejs/node#55351), so a manager-wide signal in it grows by one per connection, forever.
 */
export class Deadline {
  /** The controller's signal: what the operation obeys. */
  readonly signal: AbortSignal
  readonly #timer: ReturnType<typeof setTimeout>
  #expired = false

  /**
   * @param ms - milliseconds until it aborts
   * @param controller - the operation's controller, if it has one already
   */
  constructor (ms: number, controller: AbortController = new AbortController()) {
    this.signal = controller.signal
    this.#timer = setTimeout(() => {
      if (!controller.signal.aborted) {
        this.#expired = true
        controller.abort(new CmError(`timed out after ${ms} ms`))
      }
    }, ms)
  }

  /** Whether the time ran out before the controller was aborted otherwise. */
  get expired (): boolean {
    return this.#expired
  }

  /** Stops the timer; call it on every path once the operation has ended. */
  clear (): void {
    clearTimeout(this.#timer)
  }
}
