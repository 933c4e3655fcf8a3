import type { FleetRule } from './records.ts'

/**
 * The state of a node's link to the fleet:
 * - `stopped`: not started, or stopped;
 * - `connecting`: started, not yet synchronised once;
 * - `synced`: the snapshot is loaded and the node follows the rule log;
 * - `disconnected`: Redis is away; the node enforces what it knows and tries again.
 */
export type FleetState = 'stopped' | 'connecting' | 'synced' | 'disconnected'

/** The detail of `fleet:state`. */
export interface FleetStateDetail {
  /** The new state. */
  readonly state: FleetState
  /** The state it left. */
  readonly previous: FleetState
  /** For `disconnected`: what went wrong. */
  readonly error?: unknown
}

/**
 * Why a node loaded the snapshot: `start` (its first sync), `gap` (the log was trimmed past
 * what it had read, after an outage or a burst), `epoch` (Redis lost its data: the node
 * keeps its rules and writes them back). A node back after an outage reads the log on from
 * where it stopped, with no reload, when the log still has it.
 */
export type FleetResyncReason = 'start' | 'gap' | 'epoch'

/** The detail of `fleet:resync`. */
export interface FleetResyncDetail {
  /** Why. */
  readonly reason: FleetResyncReason
  /** The rules the node holds from the fleet afterwards. */
  readonly rules: number
  /** The log position (sequence number) the node follows from. */
  readonly seq: number
}

/** Where a rule change came from: the snapshot, the log, or this node's own write. */
export type FleetRuleSource = 'snapshot' | 'log' | 'local'

/** The detail of `rule:apply`. */
export interface FleetRuleApplyDetail {
  /** The rule now applied to the attached gates. */
  readonly rule: FleetRule
  /** Where it came from. */
  readonly source: FleetRuleSource
}

/** Why a fleet rule left the gates: removed through the fleet, lapsed, or gone from the snapshot. */
export type FleetRemoveReason = 'removed' | 'lapsed' | 'snapshot'

/** The detail of `rule:remove`. */
export interface FleetRuleRemoveDetail {
  /** The rule that left. */
  readonly rule: FleetRule
  /** Why. */
  readonly reason: FleetRemoveReason
}

/** The detail of `rule:reject`: a record read from Redis that the node refused. */
export interface FleetRuleRejectDetail {
  /** Where it was read: the snapshot hash or the log. */
  readonly source: 'snapshot' | 'log'
  /** The log entry's ID, or the hash field (shortened, printable). */
  readonly at: string
  /** Why it was refused. */
  readonly reason: string
}

/** The detail of `budget:hold` and `budget:release`. */
export interface FleetBudgetHoldDetail {
  /** The host or prefix (canonical text, as a deny entry). */
  readonly key: string
  /** The budget tier: `host` or a tier's name (empty for a release). */
  readonly tier: string
  /** For a hold: until when, by Redis's clock (ms since the epoch). */
  readonly until?: number
}

/**
 * The events of a {@link Fleet}, on `fleet.events` (a typed `EventTarget`; a listener
 * that throws never breaks the fleet).
 *
 * @example
 * ```ts
 * import { createFleet } from '@cm/fleet'
 *
 * const fleet = createFleet()
 * fleet.events.addEventListener('fleet:state', event => {
 *   console.log(`fleet ${event.detail.previous} → ${event.detail.state}`)
 * })
 * fleet.events.addEventListener('rule:reject', event => {
 *   console.warn(`refused a record from Redis (${event.detail.at}): ${event.detail.reason}`)
 * })
 * ```
 */
export interface FleetEvents {
  /** The link to the fleet changed state (connected, lost, back). */
  'fleet:state': CustomEvent<FleetStateDetail>
  /** The node loaded the snapshot. */
  'fleet:resync': CustomEvent<FleetResyncDetail>
  /** A rule was applied to the attached gates (new, or changed). */
  'rule:apply': CustomEvent<FleetRuleApplyDetail>
  /** A rule left the attached gates. */
  'rule:remove': CustomEvent<FleetRuleRemoveDetail>
  /** A record read from Redis was malformed or hostile, and refused. */
  'rule:reject': CustomEvent<FleetRuleRejectDetail>
  /** This node holds a host over the fleet budget (refuses it locally). */
  'budget:hold': CustomEvent<FleetBudgetHoldDetail>
  /** This node no longer holds a host. */
  'budget:release': CustomEvent<FleetBudgetHoldDetail>
}
