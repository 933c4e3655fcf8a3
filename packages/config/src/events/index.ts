/**
 * The typed event target every `@cm` package dispatches on: main-event's
 * `TypedEventTarget` contract (as in js-libp2p), where a listener that throws, or returns a
 * promise that rejects, neither stops the other listeners nor the dispatcher, nor crashes
 * the process; its error goes to `onListenerError`.
 *
 * @example
 * ```ts
 * import { SafeEventEmitter } from '@cm/config/events'
 *
 * const events = new SafeEventEmitter<{ 'peer:ban': CustomEvent<string> }>({ onListenerError: error => { console.error(error) } })
 * events.addEventListener('peer:ban', event => { console.log(event.detail) })
 * events.safeDispatchEvent('peer:ban', { detail: '203.0.113.7' })
 * ```
 *
 * @packageDocumentation
 */

export { SafeEventEmitter } from './safe-event-emitter.ts'
export type { EventHandler, ListenerErrorHandler, ListenerOptions, SafeEventEmitterInit, TypedEventTarget } from './safe-event-emitter.ts'
