import { setMaxListeners } from 'main-event'

/**
 * An event listener: a function, or an object with a `handleEvent` method.
 *
 * @example
 * ```ts
 * import type { EventHandler } from '@cm/config/events'
 *
 * const handler: EventHandler<CustomEvent<number>> = event => { console.log(event.detail) }
 * ```
 */
export type EventHandler<E> = ((event: E) => void) | {
  /** Called with each event. */
  handleEvent(event: E): void
}

/**
 * A typed `EventTarget`: the same contract as main-event's `TypedEventTarget` (which
 * js-libp2p's event buses implement, and which {@link SafeEventEmitter} implements),
 * declared here so that the `@cm` type declarations compile without the DOM library
 * (main-event's own declarations name DOM types that Node's lack).
 *
 * @example
 * ```ts
 * import { SafeEventEmitter } from '@cm/config/events'
 * import type { TypedEventTarget } from '@cm/config/events'
 *
 * interface Events {
 *   'job:done': CustomEvent<number>
 * }
 *
 * const target: TypedEventTarget<Events> = new SafeEventEmitter<Events>()
 * target.addEventListener('job:done', event => { console.log(event.detail) })
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- main-event's constraint, which interfaces satisfy
export interface TypedEventTarget<EventMap extends Record<string, any>> extends EventTarget {
  /** Registers a listener for an event type of the map. */
  addEventListener<K extends keyof EventMap>(type: K, listener: EventHandler<EventMap[K]> | null, options?: boolean | ListenerOptions): void
  /** Removes a listener registered with the same type and capture. */
  removeEventListener<K extends keyof EventMap>(type: K, listener?: EventHandler<EventMap[K]> | null, options?: boolean | { capture?: boolean }): void
  /** The number of listeners registered for an event type. */
  listenerCount(type: string): number
  /** Dispatches a `CustomEvent` of a type of the map with the given detail. */
  safeDispatchEvent<Detail>(type: keyof EventMap, detail?: { detail?: Detail, cancelable?: boolean }): boolean
}

/**
 * Receives an error thrown (or a promise rejected) by an event listener of a
 * {@link SafeEventEmitter}, with the event being dispatched.
 *
 * @example
 * ```ts
 * import type { ListenerErrorHandler } from '@cm/config/events'
 *
 * const onListenerError: ListenerErrorHandler = (error, event) => {
 *   console.error(`a listener of ${event.type} failed`, error)
 * }
 * ```
 */
export type ListenerErrorHandler = (error: unknown, event: Event) => void

/** Options of a {@link SafeEventEmitter}. */
export interface SafeEventEmitterInit {
  /**
   * Called with every error a listener throws (or rejects with, for a listener that returns
   * a promise). An error thrown by this handler itself is ignored.
   *
   * @default a handler that prints the error with `console.error`
   */
  readonly onListenerError?: ListenerErrorHandler | undefined
}

/**
 * The options {@link SafeEventEmitter.addEventListener} takes, as for any `EventTarget`.
 *
 * @example
 * ```ts
 * import type { ListenerOptions } from '@cm/config/events'
 *
 * const options: ListenerOptions = { once: true, signal: AbortSignal.timeout(1_000) }
 * ```
 */
export interface ListenerOptions {
  /** Registers a separate capture-phase listener (no other effect on a plain target). */
  capture?: boolean
  /** Removes the listener after its first call. */
  once?: boolean
  /** Has no effect outside a browser. */
  passive?: boolean
  /** Removes the listener when the signal aborts; an aborted signal adds nothing. */
  signal?: AbortSignal
}

interface Registration {
  readonly listener: EventHandler<Event>
  readonly capture: boolean
  readonly guarded: (event: Event) => void
  readonly signal: AbortSignal | undefined
  readonly onAbort: () => void
}

const reportToConsole: ListenerErrorHandler = (error, event) => {
  console.error(`@cm: a listener of "${event.type}" threw`, error)
}

/**
 * A typed `EventTarget` (main-event's `TypedEventTarget`, as in js-libp2p) on which a
 * listener that throws cannot break anything: the other listeners still run, the code that
 * dispatched the event carries on, and the process does not crash.
 *
 * With Node's own `EventTarget`, a listener that throws does not stop the others, but its
 * error is rethrown on the next tick as an uncaught exception, which ends the process unless
 * something handles `process.on('uncaughtException')`. Here every listener is called inside
 * a `try`/`catch` (and a listener's rejected promise is caught too); the error goes to
 * `onListenerError` instead.
 *
 * `once`, `signal` and `capture` behave as for any `EventTarget`; adding the same listener
 * twice is a no-op.
 *
 * @example
 * ```ts
 * import { SafeEventEmitter } from '@cm/config/events'
 *
 * interface Events {
 *   'job:done': CustomEvent<{ id: number }>
 * }
 *
 * const events = new SafeEventEmitter<Events>({
 *   onListenerError: (error, event) => { console.error(`listener of ${event.type} failed`, error) }
 * })
 * events.addEventListener('job:done', () => { throw new Error('bug in a listener') })
 * events.addEventListener('job:done', event => { console.log('done', event.detail.id) })
 * events.safeDispatchEvent('job:done', { detail: { id: 1 } }) // both listeners run; no crash
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the constraint of main-event's TypedEventTarget, which interfaces satisfy
export class SafeEventEmitter<EventMap extends Record<string, any>> extends EventTarget implements TypedEventTarget<EventMap> {
  readonly #registrations = new Map<string, Registration[]>()
  readonly #onListenerError: ListenerErrorHandler

  /**
   * @param init - `onListenerError`, where listener errors go
   */
  constructor (init: SafeEventEmitterInit = {}) {
    super()
    this.#onListenerError = init.onListenerError ?? reportToConsole
    // Node warns past 10 listeners per event type; an event bus has many, by design.
    setMaxListeners(Infinity, this)
  }

  /**
   * The number of listeners registered for `type`.
   *
   * @param type - the event type
   */
  listenerCount (type: string): number {
    return this.#registrations.get(type)?.length ?? 0
  }

  /**
   * Registers a listener. Errors it throws go to `onListenerError`.
   *
   * @param type - the event type
   * @param listener - a function or an object with `handleEvent`; `null` is ignored
   * @param options - `capture`, `once`, `signal` (`passive` has no effect)
   */
  override addEventListener<K extends keyof EventMap> (type: K, listener: EventHandler<EventMap[K]> | null, options?: boolean | ListenerOptions): void {
    if (listener == null) {
      return
    }
    const capture = typeof options === 'boolean' ? options : options?.capture === true
    const once = typeof options === 'object' && options.once === true
    const signal = typeof options === 'object' ? options.signal : undefined
    if (signal?.aborted === true) {
      return
    }
    const name = String(type)
    const handler = listener as EventHandler<Event>
    let list = this.#registrations.get(name)
    if (list?.some(entry => entry.listener === handler && entry.capture === capture) === true) {
      return
    }
    const guarded = (event: Event): void => {
      if (once) {
        this.removeEventListener(type, listener, { capture })
      }
      try {
        const result: unknown = typeof handler === 'function' ? handler(event) : handler.handleEvent(event)
        if (isPromiseLike(result)) {
          result.then(undefined, (error: unknown) => { this.#report(error, event) })
        }
      } catch (error) {
        this.#report(error, event)
      }
    }
    const onAbort = (): void => { this.removeEventListener(type, listener, { capture }) }
    if (list === undefined) {
      list = []
      this.#registrations.set(name, list)
    }
    list.push({ listener: handler, capture, guarded, signal, onAbort })
    super.addEventListener(name, guarded, { capture })
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: onAbort's removeEventListener() takes it off the signal anyway
    signal?.addEventListener('abort', onAbort, { once: true })
  }

  /**
   * Removes a listener registered with {@link SafeEventEmitter.addEventListener}.
   *
   * @param type - the event type
   * @param listener - the listener given when registering
   * @param options - `capture`, which must match the registration's
   */
  override removeEventListener<K extends keyof EventMap> (type: K, listener?: EventHandler<EventMap[K]> | null, options?: boolean | { capture?: boolean }): void {
    const name = String(type)
    const list = this.#registrations.get(name)
    if (list === undefined) {
      return
    }
    const capture = typeof options === 'boolean' ? options : options?.capture === true
    const index = list.findIndex(entry => entry.listener === listener && entry.capture === capture)
    if (index === -1) {
      return
    }
    const [entry] = list.splice(index, 1)
    // Stryker disable next-line ConditionalExpression,BlockStatement: memory only; listenerCount() reads an empty list as 0, and the types are the event map's
    if (list.length === 0) {
      this.#registrations.delete(name)
    }
    // Stryker disable next-line ConditionalExpression: the splice at a found index always returns an entry
    if (entry !== undefined) {
      super.removeEventListener(name, entry.guarded, { capture })
      entry.signal?.removeEventListener('abort', entry.onAbort)
    }
  }

  /**
   * Dispatches a `CustomEvent` of a type in the event map. Never throws because of a
   * listener.
   *
   * @param type - the event type
   * @param detail - the event's init, with its `detail`
   * @returns `false` if a listener called `preventDefault()` on a cancelable event
   */
  safeDispatchEvent<Detail> (type: keyof EventMap, detail: { detail?: Detail, cancelable?: boolean } = {}): boolean {
    return this.dispatchEvent(new CustomEvent(String(type), detail))
  }

  #report (error: unknown, event: Event): void {
    try {
      this.#onListenerError(error, event)
    } catch {
      // The handler of last resort failed: nothing is left to report to.
    }
  }
}

function isPromiseLike (value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
