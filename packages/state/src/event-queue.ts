import { stateName } from './connection-record.ts'
import type { ConnectionState, Entry } from './connection-record.ts'
import type { ConnectionEventDetail, ConnectionTrackerEvents, PeerEventDetail } from './events.ts'
import type { ListenerErrorHandler, TypedEventTarget } from '@cm/config/events'

/**
 * @internal
 * The tracker's events on their way to its event target: queued as each change is made and
 * dispatched in order once the change is complete, so that a change made by a listener
 * queues its events behind the ones waiting.
 */
export class EventQueue<Metadata> {
  readonly #target: TypedEventTarget<ConnectionTrackerEvents<Metadata>>
  readonly #onListenerError: ListenerErrorHandler | undefined
  /** Whether the target can say how many listeners a type has. */
  readonly #countsListeners: boolean
  /** Events waiting to be dispatched, as pairs: type, detail. */
  readonly #queue: unknown[] = []
  #dispatching = false

  /**
   * @param target - the event target to dispatch on
   * @param onListenerError - receives an error thrown by the target's `dispatchEvent`
   *   (`console.error` when omitted)
   */
  constructor (target: TypedEventTarget<ConnectionTrackerEvents<Metadata>>, onListenerError: ListenerErrorHandler | undefined) {
    this.#target = target
    this.#onListenerError = onListenerError
    this.#countsListeners = typeof (target as { listenerCount?: unknown }).listenerCount === 'function'
  }

  /** Whether an event of this type would reach a listener (so that no detail is made for none). */
  wants (type: keyof ConnectionTrackerEvents): boolean {
    return !this.#countsListeners || this.#target.listenerCount(type) > 0
  }

  /** Queues an event. */
  push (type: keyof ConnectionTrackerEvents, detail: ConnectionEventDetail<Metadata> | PeerEventDetail<Metadata>): void {
    this.#queue.push(type, detail)
  }

  /** Dispatches the queued events in order, unless a dispatch is already running (it will). */
  flush (): void {
    // Small, so that it inlines into every tracker operation; the loop runs only for events.
    if (!this.#dispatching) {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: an empty queue dispatches nothing either way (a fast path)
      if (this.#queue.length > 0) this.#dispatchQueued()
    }
  }

  #dispatchQueued (): void {
    this.#dispatching = true
    const queue = this.#queue
    try {
      for (let index = 0; index < queue.length; index += 2) {
        const event = new CustomEvent(queue[index] as string, { detail: queue[index + 1] })
        try {
          this.#target.dispatchEvent(event)
        } catch (error) {
          this.#reportDispatchError(error, event)
        }
      }
    } finally {
      queue.length = 0
      this.#dispatching = false
    }
  }

  #reportDispatchError (error: unknown, event: Event): void {
    if (this.#onListenerError === undefined) {
      console.error(`@cm: dispatching "${event.type}" threw`, error)
      return
    }
    try {
      this.#onListenerError(error, event)
    } catch {
      // The handler of last resort failed: nothing is left to report to.
    }
  }
}

/** @internal The detail of a connection event: the connection entered its state from `previous`. */
export function connectionDetail<Metadata> (entry: Entry<Metadata>, previous: ConnectionState | undefined): ConnectionEventDetail<Metadata> {
  return { connection: entry.view, state: stateName(entry.state), previous }
}

/** @internal The detail of a peer event. */
export function peerDetail<Metadata> (entry: Entry<Metadata>): PeerEventDetail<Metadata> {
  // Stryker disable next-line StringLiteral: peer events are raised only for identified connections; the fallback narrows the type
  return { peer: entry.peer ?? '', connection: entry.view }
}
