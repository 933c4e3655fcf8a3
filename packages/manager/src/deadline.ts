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
  readonly #controller: AbortController
  readonly #timer: ReturnType<typeof setTimeout>
  #expired = false
  #unfollow: (() => void) | undefined

  /**
   * @param ms - milliseconds until it aborts
   * @param controller - the operation's controller, if it has one already
   */
  constructor (ms: number, controller: AbortController = new AbortController()) {
    this.signal = controller.signal
    this.#controller = controller
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

  /**
   * Aborts the operation too when `signal` aborts (with its reason). The listener is removed
   * by `clear()`, rather than joined by `AbortSignal.any` (see above). One signal at most.
   */
  follow (signal: AbortSignal): void {
    // The listener is made here, not per Deadline: the accept path's deadlines follow nothing.
    const onAbort = (): void => { this.#controller.abort(signal.reason) }
    if (signal.aborted) {
      onAbort()
      return
    }
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: a signal fires 'abort' at most once, and clear() removes the listener anyway
    signal.addEventListener('abort', onAbort, { once: true })
    this.#unfollow = () => { signal.removeEventListener('abort', onAbort) }
  }

  /** Stops the timer and the following; call it on every path once the operation has ended. */
  clear (): void {
    clearTimeout(this.#timer)
    this.#unfollow?.()
    this.#unfollow = undefined
  }
}
