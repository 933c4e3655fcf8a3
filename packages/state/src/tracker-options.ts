import { CONFIG_RULES, DEFAULT_CONFIG, systemClock } from '@cm/config'
import { clockRule, functionRule, objectRule, ProblemCollector, resolveOptions } from '@cm/config/validation'
import type { ConnectionTrackerEvents } from './events.ts'
import type { Clock } from '@cm/config'
import type { ListenerErrorHandler, TypedEventTarget } from '@cm/config/events'
import type { OptionsSchema } from '@cm/config/validation'

/** Options of a {@link ConnectionTracker}. */
export interface ConnectionTrackerInit<Metadata = unknown> {
  /**
   * The source of time for the timelines, in milliseconds.
   *
   * @default systemClock (`performance.now()`)
   */
  readonly clock?: Clock | undefined

  /**
   * How many recently closed connections to keep in the history. 0 keeps none. The same
   * option, with the same rule, as `ConnectionConfig.connectionHistorySize`.
   *
   * An integer >= 0 and <= 1000000.
   *
   * @default 100
   */
  readonly connectionHistorySize?: number | undefined

  /**
   * The event target to dispatch on, such as the manager's event bus. When it is a
   * `SafeEventEmitter` (from `@cm/config`) a listener that throws cannot crash the process;
   * with another target, a listener error follows that target's rules (Node's
   * `EventTarget` reports it as an uncaught exception), and an error thrown by its
   * `dispatchEvent` itself goes to `onListenerError`.
   *
   * @default a new `SafeEventEmitter` owned by the tracker
   */
  readonly events?: TypedEventTarget<ConnectionTrackerEvents<Metadata>> | undefined

  /**
   * Receives every error thrown by a listener of the tracker's own event target, and any
   * error thrown by the `dispatchEvent` of a target given in `events`.
   *
   * @default a handler that prints the error with `console.error`
   */
  readonly onListenerError?: ListenerErrorHandler | undefined
}

/** @internal The tracker's options, checked, with their defaults. */
export interface ResolvedTrackerOptions<Metadata> {
  readonly clock: Clock
  readonly connectionHistorySize: number
  readonly events: TypedEventTarget<ConnectionTrackerEvents<Metadata>> | undefined
  readonly onListenerError: ListenerErrorHandler | undefined
}

// Stryker disable next-line ArrayDeclaration: a module-level initializer runs once, at load, before a mutant is switched on; a test checks it
const eventsRule = objectRule<TypedEventTarget<never> | undefined>('an EventTarget', ['dispatchEvent'])
const handlerRule = functionRule<ListenerErrorHandler | undefined>()

const SCHEMA: OptionsSchema<ConnectionTrackerInit> = {
  clock: { default: systemClock, rule: clockRule },
  connectionHistorySize: { default: DEFAULT_CONFIG.connectionHistorySize, rule: CONFIG_RULES.connectionHistorySize },
  events: { default: undefined, rule: eventsRule },
  onListenerError: { default: undefined, rule: handlerRule }
}

/**
 * @internal
 * Checks a tracker's options and fills in the defaults.
 *
 * @throws `InvalidConfigError` (from `@cm/config`) listing every malformed option
 */
export function resolveTrackerOptions<Metadata> (init: ConnectionTrackerInit<Metadata>): ResolvedTrackerOptions<Metadata> {
  const problems = new ProblemCollector()
  const options = resolveOptions(SCHEMA, init, problems)
  problems.throwIfAny()
  return {
    clock: options.clock ?? systemClock,
    connectionHistorySize: options.connectionHistorySize ?? DEFAULT_CONFIG.connectionHistorySize,
    events: options.events,
    onListenerError: options.onListenerError
  }
}
