import { functionRule, ProblemCollector } from '@cm/config/validation'
import type { RemoteAddress } from './transport.ts'

/**
 * Told, synchronously and at once, of every inbound connection that passes admission
 * (before its upgrade): the cheap way to count admitted attempts per host, as `@cm/fleet`
 * does for its fleet-wide budget. It costs the accept path one function call, and nothing
 * while no observer is registered; `connection:pending` on `manager.events` reports the
 * same connections with their records, at the price of an event per connection.
 *
 * It must be quick and must not throw: an error it throws is reported to
 * `onListenerError` and the connection goes on. Register it with
 * {@link ConnectionManager.observeAdmissions}.
 *
 * @example
 * ```ts
 * import { createConnectionManager } from '@cm/manager'
 * import { tcp } from '@cm/manager/tcp'
 * import type { AdmissionObserver } from '@cm/manager'
 *
 * const attempts = new Map<string, number>()
 * const count: AdmissionObserver = (remote, trusted) => {
 *   if (trusted || remote.ip === undefined) return
 *   attempts.set(remote.ip, (attempts.get(remote.ip) ?? 0) + 1)
 * }
 * const manager = createConnectionManager({ transport: tcp() })
 * const stop = manager.observeAdmissions(count)
 * stop() // no longer told
 * ```
 */
export interface AdmissionObserver {
  /**
   * @param remote - the remote end (`remote.ip` is the host, when it has an IP address)
   * @param trusted - whether the gate's trusted list exempted it from the limits
   */
  (remote: RemoteAddress, trusted: boolean): void
}

// Stryker disable next-line StringLiteral: a module-level initializer runs once, at load, before any mutant is active; test/admission-edges.test.ts checks it
const OBSERVER_RULE = functionRule<AdmissionObserver>('a function (remote, trusted) => void')

/**
 * The admission observers of one manager, called through one function. Internal to the
 * manager.
 */
export class AdmissionObservers {
  #observers: readonly AdmissionObserver[] = []
  readonly #report: (error: unknown) => void

  /**
   * Calls every observer, or `undefined` while there is none, so that the accept path
   * pays one comparison then.
   */
  notify: AdmissionObserver | undefined

  /** @param report - where an error an observer throws goes */
  constructor (report: (error: unknown) => void) {
    this.#report = report
  }

  /**
   * Registers an observer; returns the function that removes it (idempotent).
   *
   * @throws `InvalidConfigError` (from `@cm/config`) when `observer` is not a function
   */
  add (observer: AdmissionObserver): () => void {
    const problems = new ProblemCollector()
    OBSERVER_RULE.check(observer, 'observer', problems)
    problems.throwIfAny()
    this.#observers = [...this.#observers, observer]
    this.#compose()
    let registered = true
    return () => {
      if (!registered) return
      registered = false
      // One registration removed, even if the same function was added twice.
      const index = this.#observers.indexOf(observer)
      this.#observers = this.#observers.filter((_each, at) => at !== index)
      this.#compose()
    }
  }

  #compose (): void {
    const observers = this.#observers
    const report = this.#report
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: fast path; the accept path catches and reports an observer's error as the wrapper does (`true` is killed by the tests, hidden by this comment)
    if (observers.length <= 1) {
      // The common case: the observer itself, no wrapper (the caller catches).
      this.notify = observers[0]
      return
    }
    this.notify = (remote, trusted) => {
      // One observer that throws must not keep the others from being told.
      for (const observer of observers) {
        try {
          observer(remote, trusted)
        } catch (error) {
          report(error)
        }
      }
    }
  }
}
