import type { ConnectionDenyDetail, RefusalReason } from './events.ts'
import type { RemoteAddress } from './transport.ts'
import type { Clock, ConnectionConfig } from '@cm/config'
import type { Gate } from '@cm/gate'
import type { RateLimiter } from '@cm/rate-limit'
import type { ConnectionRecord } from '@cm/state'

/** A limited pending inbound connection, as the pending slots see it. */
export interface PendingSlot {
  /**
   * How much of its host's rate budget was used when it arrived, its own attempt included
   * (0 to 1, from `RateLimiter.usage`).
   */
  readonly pressure: number
  /** Its record: the timeline says since when it is pending (the manager's clock). */
  readonly record: Pick<ConnectionRecord, 'timeline'>
}

/**
 * The pending slots that `maxIncomingPendingConnections` bounds, and who gives way when they
 * are full. Internal to the manager.
 *
 * When a newcomer finds them full, the slot whose host had used the most of its rate budget
 * (the oldest among equals) gives way, if that is more than the newcomer's host has used.
 * At equal use, only a slot held for a tenth of `inboundUpgradeTimeout` or more gives way: a
 * good client's handshake takes far less, and a flood of hosts as fresh as the newcomer must
 * not evict handshakes under way. A slowloris host keeps opening connections, so its budget
 * stays used; a good client opens few.
 */
export class PendingSlots<Slot extends PendingSlot> {
  /** In arrival order: the first of equals is the oldest. */
  readonly #slots = new Set<Slot>()
  #evicted = 0

  /** Slots held now. */
  get size (): number {
    return this.#slots.size
  }

  /** Slots that gave way to a newcomer, since creation. */
  get evicted (): number {
    return this.#evicted
  }

  add (slot: Slot): void {
    this.#slots.add(slot)
  }

  /** Releases a slot (the connection opened or closed); false if it held none. */
  release (slot: Slot): boolean {
    return this.#slots.delete(slot)
  }

  /**
   * The slot that gives way to a newcomer of `pressure` at `now`, if one does.
   *
   * @param pressure - the newcomer's pressure
   * @param now - the time, in the clock of the records' timelines
   * @param staleAfterMs - how long a slot of equal pressure must have been held to give way
   */
  victim (pressure: number, now: number, staleAfterMs: number): Slot | undefined {
    let victim: Slot | undefined
    for (const slot of this.#slots) {
      if (victim === undefined || slot.pressure > victim.pressure) {
        victim = slot
      }
    }
    if (victim === undefined || victim.pressure < pressure) {
      return undefined
    }
    if (victim.pressure > pressure || now - victim.record.timeline.pending >= staleAfterMs) {
      return victim
    }
    return undefined
  }

  /** Counts an eviction (the caller closes the connection). */
  countEviction (): void {
    this.#evicted++
  }
}

/**
 * A clock that can be held at one instant, so that the rate limiter reads the same time for
 * a host's attempt and for its pressure: were a millisecond to pass between the two, the
 * newcomer's pressure would read lower than that of an equal slot, which would then give way.
 * Internal to the manager: the rate limiter it builds reads this clock.
 */
export class DecisionClock implements Clock {
  readonly #clock: Clock
  #held: number | undefined

  constructor (clock: Clock) {
    this.#clock = clock
  }

  now (): number {
    return this.#held ?? this.#clock.now()
  }

  /** Runs `decide` with the time held at the instant it starts. */
  hold<T> (decide: (now: number) => T): T {
    if (this.#held !== undefined) {
      // A decision made inside another (from an event listener) keeps the outer instant.
      return decide(this.#held)
    }
    const now = this.#clock.now()
    this.#held = now
    try {
      return decide(now)
    } finally {
      this.#held = undefined
    }
  }
}

/** What {@link InboundAdmission.decide} returns for a trusted host: exempt from the limits, never evicted. */
export const TRUSTED = -1

/** What inbound admission reads and acts through. Internal to the manager. */
export interface AdmissionContext<Slot extends PendingSlot> {
  readonly gate: Gate
  /** The clock the rate limiter reads, held for each decision. */
  readonly clock: DecisionClock
  /** The config in force (it may change at run time). */
  config(): ConnectionConfig
  /** The rate limiter in force (rebuilt when its options change). */
  limiter(): RateLimiter
  /** Connections held now, in any state and direction. */
  held(): number
  /** Counts and reports a refusal; returns its detail. */
  deny(remote: RemoteAddress, reason: RefusalReason, rule?: string, retryAfterMs?: number): ConnectionDenyDetail
  /** Closes a pending connection that gave way (reason `limit`). */
  evict(slot: Slot): void
}

/**
 * The inbound admission decision, made at once and synchronously for each connection, and
 * the pending slots it gives out. Internal to the manager.
 */
export class InboundAdmission<Slot extends PendingSlot> {
  /** The pending connections that count against `maxIncomingPendingConnections`. */
  readonly slots = new PendingSlots<Slot>()
  readonly #context: AdmissionContext<Slot>

  constructor (context: AdmissionContext<Slot>) {
    this.#context = context
  }

  /**
   * Runs the checks in order: the gate (deny list, exclusive allow list; trusted hosts are
   * admitted here), the rate limit (so that every later refusal is charged to the host's
   * budget), then the pending slots and `maxConnections`. When either is full, a pending
   * connection may give way ({@link PendingSlots.victim}); a refusal then costs the host a
   * second attempt, so that a host that keeps knocking builds up pressure and gives way
   * first once it does get a slot.
   *
   * @returns the admitted connection's pressure (see {@link InboundAdmission.pressure}),
   *   {@link TRUSTED}, or the refusal
   */
  decide (remote: RemoteAddress): number | ConnectionDenyDetail {
    return this.#context.clock.hold(now => this.#decide(remote, now))
  }

  #decide (remote: RemoteAddress, now: number): number | ConnectionDenyDetail {
    const context = this.#context
    const verdict = context.gate.check(remote.ip ?? remote.multiaddr, { direction: 'inbound' })
    if (!verdict.allowed) {
      return context.deny(remote, verdict.reason, verdict.rule)
    }
    if (verdict.trusted) {
      return TRUSTED
    }
    const config = context.config()
    const limiter = context.limiter()
    if (remote.ip !== undefined) {
      const result = limiter.tryAcquire(remote.ip)
      // The gate has refused every address the limiter finds invalid: a refusal here is 'rate-limit'.
      if (!result.allowed) {
        return context.deny(remote, 'rate-limit', undefined, result.retryAfterMs)
      }
    }
    const held = context.held()
    const slots = this.slots
    const pendingFull = slots.size >= config.maxIncomingPendingConnections
    if (!pendingFull && held < config.maxConnections) {
      return this.pressure(remote)
    }
    const pressure = this.pressure(remote)
    const victim = slots.victim(pressure, now, config.inboundUpgradeTimeout / 10)
    if (victim === undefined || held - 1 >= config.maxConnections) {
      // Stryker disable next-line ConditionalExpression: the limiter charges nothing for a missing address (`false` is killed by the tests, hidden by this comment)
      if (remote.ip !== undefined) {
        limiter.charge(remote.ip)
      }
      return context.deny(remote, victim === undefined && pendingFull ? 'pending-limit' : 'max-connections')
    }
    slots.countEviction()
    context.evict(victim)
    return pressure
  }

  /**
   * A connection's pressure: how much of its host's rate budget is used, this attempt
   * included (`RateLimiter.usage`); 1 for a remote end with no IP address, which cannot be
   * keyed.
   */
  pressure (remote: RemoteAddress): number {
    return remote.ip === undefined ? 1 : this.#context.limiter().usage(remote.ip)
  }
}
