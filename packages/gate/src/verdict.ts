/**
 * Why a check admitted or refused:
 * - `'allowed'`: admitted;
 * - `'deny-list'`: a deny rule matched (deny wins over everything else);
 * - `'not-allow-listed'`: the allow list is not empty and nothing on it matched;
 * - `'invalid-address'`: the address is neither IP address text nor a multiaddr (a
 *   string or object) that can be read.
 *
 * @example
 * ```ts
 * import type { GateReason } from '@cm/gate'
 *
 * const reason: GateReason = 'deny-list'
 * ```
 */
export type GateReason = 'allowed' | 'deny-list' | 'not-allow-listed' | 'invalid-address'

/**
 * The result of a check: a value, never a throw. Verdicts are frozen and shared between
 * calls (one per rule and outcome), so a check allocates nothing once warm; do not modify
 * them. A verdict's own properties are exactly those below; its prototype may be an
 * internal class, so compare fields, not prototypes.
 *
 * @example
 * ```ts
 * import { createGate } from '@cm/gate'
 * import type { GateVerdict } from '@cm/gate'
 *
 * const gate = createGate({ denyList: ['10.0.0.0/8'] })
 * const verdict: GateVerdict = gate.check('10.1.2.3')
 * if (!verdict.allowed) {
 *   console.log(verdict.reason, verdict.rule) // 'deny-list' '10.0.0.0/8'
 * }
 * ```
 */
export type GateVerdict = GateAllowed | GateRefused

/** An admitting verdict. */
export interface GateAllowed {
  /** Always `true`. */
  readonly allowed: true
  /** Always `'allowed'`. */
  readonly reason: 'allowed'
  /**
   * The canonical text of the allow rule that admitted the address, when the allow list is
   * not empty and a rule matched; absent when the allow list is empty, does not apply in
   * this direction, or admitted provisionally (no peer ID known yet, see the README).
   */
  readonly rule?: string
  /**
   * Whether a trusted rule matches: the manager exempts trusted connections from the rate
   * limit, the pending limit and pruning.
   */
  readonly trusted: boolean
}

/** A refusing verdict. */
export interface GateRefused {
  /** Always `false`. */
  readonly allowed: false
  /** Why the address was refused. */
  readonly reason: 'deny-list' | 'not-allow-listed' | 'invalid-address'
  /** The canonical text of the deny rule that matched (for `'deny-list'` only). */
  readonly rule?: string
  /** Always `false`: a refused connection is exempt from nothing. */
  readonly trusted: false
}

export const ALLOWED: GateAllowed = Object.freeze({ allowed: true, reason: 'allowed', trusted: false })
export const ALLOWED_TRUSTED: GateAllowed = Object.freeze({ allowed: true, reason: 'allowed', trusted: true })
export const NOT_ALLOW_LISTED: GateRefused = Object.freeze({ allowed: false, reason: 'not-allow-listed', trusted: false })
export const INVALID_ADDRESS: GateRefused = Object.freeze({ allowed: false, reason: 'invalid-address', trusted: false })

export function allowVerdict (rule: string, trusted: boolean): GateAllowed {
  return Object.freeze({ allowed: true, reason: 'allowed', rule, trusted })
}
