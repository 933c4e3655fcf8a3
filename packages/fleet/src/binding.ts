import type { EventHandler, TypedEventTarget } from '@cm/config/events'
import type { Gate, GateList } from '@cm/gate'

/**
 * The part of a connection tracker's `connection:pending` event the fleet reads: an
 * admitted connection's direction and remote IP. `@cm/manager`'s `manager.events` and
 * `@cm/state`'s `tracker.events` dispatch it.
 *
 * @example
 * ```ts
 * import type { FleetAttemptEvents } from '@cm/fleet'
 *
 * type Detail = FleetAttemptEvents['connection:pending']['detail']
 * const detail: Detail = { connection: { direction: 'inbound', remoteIp: '203.0.113.7' } }
 * ```
 */
export interface FleetAttemptEvents {
  /** A connection was admitted (tracked as pending). */
  'connection:pending': CustomEvent<FleetAttemptDetail>
}

/**
 * The detail of `connection:pending` the fleet reads.
 *
 * @example
 * ```ts
 * import type { FleetAttemptDetail } from '@cm/fleet'
 *
 * const detail: FleetAttemptDetail = { connection: { direction: 'inbound', remoteIp: '203.0.113.7' } }
 * ```
 */
export interface FleetAttemptDetail {
  /** The connection admitted. */
  readonly connection: FleetAttemptConnection
}

/**
 * The connection of a {@link FleetAttemptDetail}: a `@cm/state` record has these fields.
 *
 * @example
 * ```ts
 * import type { FleetAttemptConnection } from '@cm/fleet'
 *
 * const connection: FleetAttemptConnection = { direction: 'inbound', remoteIp: '203.0.113.7' }
 * ```
 */
export interface FleetAttemptConnection {
  /** `inbound` or `outbound`; only inbound attempts count. */
  readonly direction: string
  /** The remote IP address, when known. */
  readonly remoteIp?: string | undefined
}

/**
 * What {@link Fleet.attach} takes: a gate to apply the fleet's rules to, and optionally
 * where admitted inbound attempts are reported (for the budget) and a `deny` that also
 * closes the open connections a new rule matches. A `ConnectionManager` of `@cm/manager`
 * is one as it is (the budget counts through its `observeAdmissions`); for `@cm/libp2p`,
 * pass `{ gate: gater.gate, events: monitor.tracker.events }`.
 *
 * @example
 * ```ts
 * import { createGate } from '@cm/gate'
 * import { createConnectionTracker } from '@cm/state'
 * import type { FleetTarget } from '@cm/fleet'
 *
 * const tracker = createConnectionTracker()
 * const target: FleetTarget = { gate: createGate(), events: tracker.events }
 * ```
 */
export interface FleetTarget {
  /** The gate the rules are applied to. Its checks stay local and synchronous. */
  readonly gate: Gate
  /**
   * Dispatches `connection:pending` for every admitted connection, so that the budget
   * counts inbound attempts per host. Without it this target's attempts are not counted.
   */
  readonly events?: TypedEventTarget<FleetAttemptEvents> | undefined
  /**
   * Registers a function called with every admitted inbound connection's remote end and
   * whether it is trusted, and returns the function that removes it, as
   * `ConnectionManager.observeAdmissions` does. When present the budget counts through it
   * rather than through `events`: one function call per attempt instead of an event.
   */
  readonly observeAdmissions?: ((observer: (remote: { readonly ip?: string | undefined }, trusted: boolean) => void) => () => void) | undefined
  /**
   * Adds a deny rule and closes the open connections it matches, as
   * `ConnectionManager.deny` does. Called once after a batch of fleet deny rules (not for
   * budget blocks), so that a ban also ends the banned hosts' open connections.
   */
  readonly deny?: ((entry: string, options?: { ttl?: number }) => unknown) | undefined
}

/** A rule's expiry in Redis time, or `Infinity` for none. */
type Expiry = number

/** One entry of one list, as this binding applies it. */
interface Owned {
  readonly list: GateList
  readonly entry: string
  /** The fleet's rule (from the log or the snapshot). */
  fleet?: Expiry
  /** This node's own write, not yet back from the log. */
  local?: Expiry
  /** A budget hold (deny only). */
  hold?: Expiry
  /**
   * A rule that was on the gate before the fleet touched it: `true` for a rule that does
   * not lapse, or its expiry by the gate's clock (deny only).
   */
  before?: true | number
  /** The expiry last given to the gate. */
  applied?: Expiry
}

/** The sources of an entry on one list. */
export type Source = 'fleet' | 'local' | 'hold'

/**
 * Applies the fleet's rules to one gate, and counts the attempts it reports. It adds and
 * removes only what it owns: a rule the gate had before is kept as it was (a timed local
 * ban keeps at least its own expiry) and restored when the fleet's rule leaves.
 */
export class GateBinding {
  readonly target: FleetTarget
  readonly #now: () => number
  readonly #owned = new Map<string, Owned>()
  /** Stops the attempts being reported (removes the observer or the listener). */
  readonly #unobserve: () => void
  /** The last fleet deny rule applied since the last flush (for the close sweep). */
  #sweep: { entry: string, ttl: number | undefined } | undefined

  /**
   * @param target - the gate and where its attempts are reported
   * @param now - Redis time as this node estimates it (ms)
   * @param onAttempt - called with the remote IP of each admitted inbound attempt of an
   *   untrusted host; `undefined` when nothing counts them (no budget)
   */
  constructor (target: FleetTarget, now: () => number, onAttempt: ((ip: string) => void) | undefined) {
    this.target = target
    this.#now = now
    this.#unobserve = onAttempt === undefined ? () => {} : observeAttempts(target, onAttempt)
  }

  /**
   * Sets (or, with `undefined`, clears) one source of an entry, and updates the gate.
   * `sweep`: a new deny rule that should also close the open connections it matches.
   */
  set (list: GateList, entry: string, source: Source, expiresAt: Expiry | undefined, sweep = false): void {
    const key = `${list} ${entry}`
    let owned = this.#owned.get(key)
    if (owned === undefined) {
      if (expiresAt === undefined) return
      owned = { list, entry }
      this.#captureBefore(owned)
      this.#owned.set(key, owned)
    }
    if (expiresAt === undefined) {
      delete owned[source]
    } else {
      owned[source] = expiresAt
    }
    this.#apply(key, owned, sweep && expiresAt !== undefined)
  }

  /**
   * Ends the batch: if fleet deny rules were added, asks the target to close the open
   * connections they match (one `deny` call re-checks them all).
   */
  flush (): void {
    const sweep = this.#sweep
    this.#sweep = undefined
    if (sweep !== undefined && this.target.deny !== undefined) {
      const key = `deny ${sweep.entry}`
      const owned = this.#owned.get(key)
      if (owned?.applied === undefined) return
      this.target.deny(sweep.entry, sweep.ttl === undefined ? {} : { ttl: sweep.ttl })
    }
  }

  /** Stops counting attempts and takes every rule it added off the gate. */
  detach (): void {
    this.#unobserve()
    for (const [key, owned] of this.#owned) {
      delete owned.fleet
      delete owned.local
      delete owned.hold
      this.#apply(key, owned, false)
    }
    this.#owned.clear()
  }

  /** Records the rule the gate has for this entry before the fleet touches it. */
  #captureBefore (owned: Owned): void {
    const gate = this.target.gate
    if (!gate.has(owned.list, owned.entry)) return
    if (owned.list !== 'deny') {
      owned.before = true
      return
    }
    // Rare (a local rule on the same entry): find its expiry.
    const rule = gate.rules('deny').find(each => each.text === owned.entry)
    owned.before = rule?.expiresAt ?? true
  }

  /** Gives the gate the strongest of the entry's sources, or restores what it had. */
  #apply (key: string, owned: Owned, sweep: boolean): void {
    const gate = this.target.gate
    const effective = Math.max(owned.fleet ?? -Infinity, owned.local ?? -Infinity, owned.hold ?? -Infinity)
    const now = this.#now()
    if (effective <= now) {
      // Nothing of ours is left: restore the gate's own rule, or remove ours.
      if (owned.applied !== undefined) {
        if (owned.before === true) {
          // The gate's own rule never lapses and was never touched: nothing to do.
        } else if (owned.before !== undefined) {
          gate.deny(owned.entry, { expiresAt: owned.before })
        } else {
          gate.remove(owned.list, owned.entry)
        }
      }
      this.#owned.delete(key)
      return
    }
    if (owned.before === true) {
      // A rule that never lapses is there already: nothing the fleet adds changes it.
      owned.applied = effective
      return
    }
    if (owned.applied === effective) return
    owned.applied = effective
    const ttl = effective === Infinity ? undefined : Math.max(1, Math.ceil(effective - now))
    if (owned.list === 'deny') {
      const rule = ttl === undefined ? gate.deny(owned.entry) : gate.deny(owned.entry, { ttl })
      if (typeof owned.before === 'number' && rule.expiresAt !== undefined && rule.expiresAt < owned.before) {
        gate.deny(owned.entry, { expiresAt: owned.before })
      }
      // The sweep re-denies the entry with a TTL: never for an entry the gate had its own rule on.
      if (sweep && owned.before === undefined) this.#sweep = { entry: owned.entry, ttl }
    } else if (owned.list === 'allow') {
      gate.allow(owned.entry)
    } else {
      gate.trust(owned.entry)
    }
  }
}

/**
 * Reports a target's admitted inbound attempts of untrusted hosts: through its admission
 * observer when it has one (a function call per attempt, the trusted flag given), else
 * through `connection:pending` on its events (an event per attempt, and a gate check to
 * tell trusted hosts apart). Returns the function that stops it.
 */
function observeAttempts (target: FleetTarget, onAttempt: (ip: string) => void): () => void {
  if (target.observeAdmissions !== undefined) {
    return target.observeAdmissions((remote, trusted) => {
      if (!trusted && remote.ip !== undefined) onAttempt(remote.ip)
    })
  }
  const events = target.events
  if (events === undefined) return () => {}
  const listener: EventHandler<FleetAttemptEvents['connection:pending']> = event => {
    const connection = event.detail.connection
    const ip = connection.remoteIp
    if (connection.direction !== 'inbound' || ip === undefined) return
    if (!target.gate.check(ip, { direction: 'inbound' }).trusted) onAttempt(ip)
  }
  events.addEventListener('connection:pending', listener)
  return () => { events.removeEventListener('connection:pending', listener) }
}
