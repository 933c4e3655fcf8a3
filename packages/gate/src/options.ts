import type { Clock, ListDirection } from '@cm/config'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * The name of one of the gate's lists.
 *
 * @example
 * ```ts
 * import type { GateList } from '@cm/gate'
 *
 * const list: GateList = 'deny'
 * ```
 */
export type GateList = 'deny' | 'allow' | 'trusted'

/**
 * The direction of the connection being checked: an inbound connection or an outbound
 * dial.
 *
 * @example
 * ```ts
 * import type { GateDirection } from '@cm/gate'
 *
 * const direction: GateDirection = 'inbound'
 * ```
 */
export type GateDirection = 'inbound' | 'outbound'

/**
 * Options of a gate: the list options of `ConnectionConfig` (validated by the same rules,
 * with the same defaults and messages) and a clock.
 *
 * @example
 * ```ts
 * import { createGate } from '@cm/gate'
 * import type { GateInit } from '@cm/gate'
 *
 * const init: GateInit = {
 *   denyList: ['10.0.0.0/8', '/ip6/2001:db8::/ipcidr/32'],
 *   trustedList: ['192.0.2.1'],
 *   denyListDirection: 'inbound'
 * }
 * const gate = createGate(init)
 * ```
 */
export interface GateInit {
  /**
   * Entries (IP addresses, CIDR ranges, multiaddrs, peer IDs) refused in the directions of
   * `denyListDirection`, whatever else matches. Rules added here never expire.
   *
   * Each entry must be accepted by `parseAddressEntry` from `@cm/config`.
   *
   * @default []
   */
  denyList?: readonly string[] | undefined
  /**
   * Entries admitted exclusively: when not empty, everyone else is refused (in the
   * directions of `allowListDirection`). The deny list still wins.
   *
   * @default []
   */
  allowList?: readonly string[] | undefined
  /**
   * Entries marked trusted (exempt from the rate limit, the pending limit and pruning).
   * Trust admits no one and refuses no one. js-libp2p calls this its `allow` list.
   *
   * @default []
   */
  trustedList?: readonly string[] | undefined
  /**
   * The connections the deny list applies to: `'both'`, `'inbound'` or `'outbound'`.
   *
   * @default 'both'
   */
  denyListDirection?: ListDirection | undefined
  /**
   * The connections the allow list applies to: `'both'`, `'inbound'` or `'outbound'`.
   *
   * @default 'both'
   */
  allowListDirection?: ListDirection | undefined
  /**
   * The clock that timed deny rules are measured against (milliseconds).
   *
   * @default systemClock (`performance.now()`)
   */
  clock?: Clock | undefined
}

/**
 * Options of {@link Gate.check}.
 *
 * @example
 * ```ts
 * import { createGate } from '@cm/gate'
 * import type { GateCheckOptions } from '@cm/gate'
 *
 * const gate = createGate({ denyList: ['12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'] })
 * const options: GateCheckOptions = { peer: '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA', direction: 'inbound' }
 * gate.check('192.0.2.7', options).reason // 'deny-list'
 * ```
 */
export interface GateCheckOptions {
  /**
   * The remote peer ID, once known (after the handshake, or when dialling a known peer):
   * as libp2p prints it (`12D3KooW…`, `Qm…`, `16Uiu2…`) or in its CID form (`bafz…`).
   * It overrides a `/p2p/…` at the end of a multiaddr `address`. Without a peer ID, rules
   * that name a peer cannot refuse yet, and allow rules that name one admit provisionally
   * (see {@link Gate.check}). A string that is not a peer ID matches no rule.
   */
  peer?: string | undefined
  /**
   * The direction of the connection. Omitted: every list applies, whatever
   * `denyListDirection` and `allowListDirection` say.
   */
  direction?: GateDirection | undefined
}

/**
 * Options of {@link Gate.checkPeer}.
 *
 * @example
 * ```ts
 * import type { GatePeerCheckOptions } from '@cm/gate'
 *
 * const options: GatePeerCheckOptions = { address: '192.0.2.7', direction: 'inbound' }
 * ```
 */
export interface GatePeerCheckOptions {
  /**
   * The remote address, when known: IP address text or a multiaddr. Rules that name an
   * address and a peer match only when it is given.
   */
  address?: string | Multiaddr | undefined
  /** The direction of the connection; omitted, every list applies. */
  direction?: GateDirection | undefined
}

/**
 * Options of {@link Gate.deny}: when the rule lapses. Give at most one; with neither the
 * rule never lapses.
 *
 * @example
 * ```ts
 * import type { DenyOptions } from '@cm/gate'
 *
 * const tenMinutes: DenyOptions = { ttl: 10 * 60_000 }
 * ```
 */
export interface DenyOptions {
  /** Milliseconds from now until the rule lapses. A finite number > 0. */
  ttl?: number | undefined
  /**
   * The time at which the rule lapses, in the gate's clock (milliseconds, as `clock.now()`
   * reads). A finite number; one in the past makes the rule lapse at once.
   */
  expiresAt?: number | undefined
}

/**
 * One rule of one list, as {@link Gate.rules} lists it.
 *
 * @example
 * ```ts
 * import { createGate } from '@cm/gate'
 *
 * const gate = createGate()
 * const rule = gate.deny('192.0.2.7', { ttl: 60_000 })
 * rule.text // '192.0.2.7'
 * rule.expiresAt // clock time of the lapse, in milliseconds
 * ```
 */
export interface GateRule {
  /** The list the rule is on. */
  readonly list: GateList
  /** The canonical text of the entry (itself an entry that gives the same rule). */
  readonly text: string
  /** For a timed deny rule: the clock time, in milliseconds, at which it lapses. */
  readonly expiresAt?: number
}
