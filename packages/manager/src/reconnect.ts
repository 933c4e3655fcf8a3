import { backoffDelay } from './backoff.ts'
import { DialDeniedError, ManagerStoppedError } from './errors.ts'
import type { ConnectionManagerEvents } from './events.ts'
import type { ReconnectFigures } from './metrics.ts'
import type { ManagedConnection } from './types.ts'
import type { ConnectionConfig } from '@cm/config'
import type { SafeEventEmitter } from '@cm/config/events'

/** What the reconnector needs from the manager. */
export interface ReconnectorInit {
  /** The config in force (read at each scheduling: it may change). */
  readonly config: () => ConnectionConfig
  /** Random numbers in [0, 1), for jitter. */
  readonly random: () => number
  /** Dials again, as a keep-alive dial. */
  readonly dial: (address: string, peer: string | undefined, signal: AbortSignal) => Promise<ManagedConnection<unknown>>
  /** Whether the manager still runs (a redial that fails while stopping is not retried). */
  readonly running: () => boolean
  /** Where `reconnect:*` events go. */
  readonly events: SafeEventEmitter<ConnectionManagerEvents>
}

interface PendingRedial {
  readonly address: string
  readonly peer: string | undefined
  timer: ReturnType<typeof setTimeout> | undefined
  readonly controller: AbortController
}

/**
 * Redials keep-alive connections that closed unexpectedly: up to `reconnectRetries` times,
 * the n-th after the backoff delay, reporting `reconnect:attempt`, `reconnect:success` and
 * `reconnect:failure`. Internal to the manager.
 */
export class Reconnector {
  readonly #init: ReconnectorInit
  readonly #pending = new Set<PendingRedial>()
  readonly #counts = { attempts: 0, successes: 0, failures: 0 }

  constructor (init: ReconnectorInit) {
    this.#init = init
  }

  /** Schedules redial number `attempt` of `address` (or reports the failure past the last). */
  schedule (address: string, peer: string | undefined, attempt: number, lastError: unknown): void {
    const { config: currentConfig, events, random } = this.#init
    const config = currentConfig()
    if (attempt > config.reconnectRetries) {
      if (config.reconnectRetries > 0) {
        this.#fail(address, peer, attempt - 1, lastError)
      }
      return
    }
    const delayMs = backoffDelay(attempt, {
      interval: config.reconnectRetryInterval,
      factor: config.reconnectBackoffFactor,
      maxDelay: config.reconnectMaxDelay,
      jitter: config.reconnectJitter
    }, random)
    const pending: PendingRedial = { address, peer, timer: undefined, controller: new AbortController() }
    this.#pending.add(pending)
    this.#counts.attempts++
    events.safeDispatchEvent('reconnect:attempt', { detail: { address, peer, attempt, delayMs } })
    pending.timer = setTimeout(() => {
      pending.timer = undefined
      void this.#redial(pending, attempt)
    }, delayMs)
  }

  /** Cancels the redials of an address, or of a peer. */
  cancelFor (address: string, peer: string | undefined): void {
    for (const pending of this.#pending) {
      if (pending.address === address || (pending.peer !== undefined && pending.peer === peer)) {
        this.#cancel(pending)
      }
    }
  }

  /** Cancels every redial (the manager stops). */
  cancelAll (): void {
    for (const pending of this.#pending) {
      this.#cancel(pending)
    }
  }

  /** Redials since creation, and those waiting now. */
  figures (): ReconnectFigures {
    return { ...this.#counts, scheduled: this.#pending.size }
  }

  async #redial (pending: PendingRedial, attempt: number): Promise<void> {
    const { address, peer } = pending
    try {
      const connection = await this.#init.dial(address, peer, pending.controller.signal)
      this.#pending.delete(pending)
      this.#counts.successes++
      this.#init.events.safeDispatchEvent('reconnect:success', { detail: { connection: connection.record, attempt } })
    } catch (error) {
      this.#pending.delete(pending)
      if (pending.controller.signal.aborted || !this.#init.running()) {
        return
      }
      if (DialDeniedError.isInstance(error)) {
        this.#fail(address, peer, attempt, error)
        return
      }
      this.schedule(address, peer, attempt + 1, error)
    }
  }

  #fail (address: string, peer: string | undefined, attempts: number, error: unknown): void {
    this.#counts.failures++
    this.#init.events.safeDispatchEvent('reconnect:failure', { detail: { address, peer, attempts, error } })
  }

  #cancel (pending: PendingRedial): void {
    clearTimeout(pending.timer) // a no-op when the redial is already in flight
    pending.timer = undefined
    pending.controller.abort(new ManagerStoppedError())
    this.#pending.delete(pending)
  }
}
