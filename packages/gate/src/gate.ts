import { checkAddress, checkPeer } from './decision.ts'
import { RuleBook } from './rule-book.ts'
import type { DenyOptions, GateCheckOptions, GateInit, GateList, GatePeerCheckOptions, GateRule } from './options.ts'
import type { GateSnapshot } from './snapshot.ts'
import type { GateVerdict } from './verdict.ts'
import type { ListDirection } from '@cm/config'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * A gate: deny, allow and trusted lists, and the check the connection manager calls on
 * every inbound connection and outbound dial.
 *
 * Decision rules, in order:
 * 1. A deny match refuses (`'deny-list'`), whatever else matches.
 * 2. A non-empty allow list is exclusive: no match refuses (`'not-allow-listed'`). An
 *    empty allow list admits everyone not denied.
 * 3. The trusted list refuses and admits no one; it sets `trusted` on admitting verdicts.
 * 4. Both lists apply to inbound connections and outbound dials alike, unless
 *    `denyListDirection` or `allowListDirection` narrow them, and the check says its
 *    direction.
 *
 * A rule that names an address and a peer (`/ip4/1.2.3.4/p2p/<id>`) matches a connection
 * when both match. A rule that names a peer cannot match before the peer is known: it
 * cannot refuse yet, and on the allow list it admits provisionally (the check with the
 * peer ID, after the handshake, decides). When several rules match, `rule` names the most
 * specific: the longest prefix, then a rule with a peer before one without, then a rule
 * that names only a peer.
 *
 * @example
 * ```ts
 * import { createGate } from '@cm/gate'
 * import type { Gate } from '@cm/gate'
 *
 * const gate: Gate = createGate({ allowList: ['10.0.0.0/8'] })
 * gate.check('10.1.2.3').allowed // true
 * gate.check('192.0.2.7').reason // 'not-allow-listed'
 * ```
 */
export interface Gate {
  /**
   * Decides whether a connection from or to `address` may proceed. Never throws: a
   * malformed address is refused with reason `'invalid-address'`.
   *
   * The address is IP address text (any textual form: IPv4-mapped IPv6 such as
   * `::ffff:10.0.0.1` or `::ffff:a00:1` is the IPv4 address and matches IPv4 rules; a
   * zone such as `%eth0` is ignored; ambiguous IPv4 text such as `010.0.0.1` or `1.2.3`
   * is refused), or a multiaddr, as an object or a string. A multiaddr's port is ignored
   * and a final `/p2p/<id>` gives the peer ID. A multiaddr without an IP of its own (a
   * relayed `/p2p-circuit` address, a DNS name, which the gate never resolves) is checked
   * by its peer ID only: address rules cannot match it, so a non-empty allow list refuses
   * it unless its peer is allowed.
   *
   * IP address text is the fast path: it is parsed in place, without allocating, and the
   * lookup probes one hash table per prefix length present. Multiaddrs cost a few
   * microseconds more to read.
   *
   * @param address - IP address text (`10.0.0.1`, `::ffff:10.0.0.1`, `fe80::1%eth0`) or a
   *   multiaddr, as an object or a string starting with `/`
   * @param options - the peer ID, if known, and the direction
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const gate = createGate({ denyList: ['10.0.0.0/8', '2001:db8::/32'] })
   * gate.check('10.1.2.3').reason // 'deny-list'
   * gate.check('::ffff:a01:203').rule // '10.0.0.0/8': the same address, in IPv6 hex form
   * gate.check('/ip6/2001:DB8::1/tcp/4001').allowed // false
   * gate.check('010.1.2.3').reason // 'invalid-address'
   * gate.check('192.0.2.7', { direction: 'outbound' }).allowed // true
   * ```
   */
  check(address: string | Multiaddr, options?: GateCheckOptions): GateVerdict

  /**
   * Decides whether a connection with a peer may proceed: after the handshake, when the
   * peer is known, or before dialling a peer by its ID. Never throws.
   *
   * `gate.checkPeer(peer, { address })` is `gate.check(address, { peer })`; without an
   * address, only rules that name the peer alone can match it. The manager calls this
   * after every handshake, since rules that name a peer could not decide before.
   *
   * @param peer - the peer ID, as libp2p prints it or in its CID form (see
   *   {@link GateCheckOptions.peer})
   * @param options - the remote address, if known, and the direction
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const peer = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
   * const gate = createGate({ denyList: [peer] })
   * gate.check('192.0.2.7').allowed // true: the peer is not known yet
   * gate.checkPeer(peer, { address: '192.0.2.7' }).reason // 'deny-list'
   * ```
   */
  checkPeer(peer: string, options?: GatePeerCheckOptions): GateVerdict

  /**
   * Adds a deny rule. With `ttl` or `expiresAt` the rule lapses on its own: from that time
   * it no longer matches, and it is removed at the next change or check that meets it (no
   * timer per rule). Denying an entry that is already denied changes its expiry: the
   * latest call decides (a call without options makes it permanent).
   *
   * @param entry - an IP address, CIDR range, multiaddr or peer ID
   * @param options - when the rule lapses
   * @returns the rule, with its canonical text
   * @throws `InvalidAddressError` (from `@cm/config`) quoting the entry and saying why it
   *   is malformed
   * @throws `InvalidConfigError` (from `@cm/config`) when the options are invalid
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const gate = createGate()
   * gate.deny('198.51.100.7', { ttl: 10 * 60_000 }) // a ten-minute ban
   * gate.deny('/ip6/2001:db8::/ipcidr/48').text // '2001:db8::/48'
   * ```
   */
  deny(entry: string, options?: DenyOptions): GateRule

  /**
   * Adds an allow rule. Once the allow list holds a rule, it is exclusive.
   *
   * @param entry - an IP address, CIDR range, multiaddr or peer ID
   * @returns the rule, with its canonical text
   * @throws `InvalidAddressError` (from `@cm/config`) quoting the entry and saying why it
   *   is malformed
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const gate = createGate()
   * gate.allow('192.168.1.5/24').text // '192.168.1.0/24'
   * gate.check('192.168.2.1').reason // 'not-allow-listed'
   * ```
   */
  allow(entry: string): GateRule

  /**
   * Adds a trusted rule: matching connections get `trusted: true` and the manager exempts
   * them from the rate limit, the pending limit and pruning. Trust admits no one the deny
   * list or a non-empty allow list refuses.
   *
   * @param entry - an IP address, CIDR range, multiaddr or peer ID
   * @returns the rule, with its canonical text
   * @throws `InvalidAddressError` (from `@cm/config`) quoting the entry and saying why it
   *   is malformed
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const gate = createGate()
   * gate.trust('/ip4/192.0.2.0/ipcidr/24')
   * gate.check('192.0.2.9').trusted // true
   * ```
   */
  trust(entry: string): GateRule

  /**
   * Removes the rule an entry names from a list, written in any spelling of it
   * (`10.1.2.3/8` removes `10.0.0.0/8`). Effective from the next check.
   *
   * @param list - `'deny'`, `'allow'` or `'trusted'`
   * @param entry - an IP address, CIDR range, multiaddr or peer ID
   * @returns whether the rule was there (a lapsed rule is not)
   * @throws `InvalidAddressError` (from `@cm/config`) when the entry is malformed
   * @throws `InvalidConfigError` (from `@cm/config`) when `list` is not a list name
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const gate = createGate({ denyList: ['10.0.0.0/8'] })
   * gate.remove('deny', '/ip4/10.0.0.0/ipcidr/8') // true
   * gate.check('10.1.2.3').allowed // true
   * ```
   */
  remove(list: GateList, entry: string): boolean

  /**
   * Whether a list holds the rule an entry names, in any spelling. Lapsed rules are gone.
   *
   * @param list - `'deny'`, `'allow'` or `'trusted'`
   * @param entry - an IP address, CIDR range, multiaddr or peer ID
   * @throws `InvalidAddressError` (from `@cm/config`) when the entry is malformed
   * @throws `InvalidConfigError` (from `@cm/config`) when `list` is not a list name
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const gate = createGate({ trustedList: ['::ffff:192.0.2.1'] })
   * gate.has('trusted', '192.0.2.1') // true
   * ```
   */
  has(list: GateList, entry: string): boolean

  /**
   * Lists the rules of one list, or of all three (deny, then allow, then trusted), each
   * list sorted by text. Lapsed rules are gone.
   *
   * @param list - `'deny'`, `'allow'` or `'trusted'`; all three when omitted
   * @throws `InvalidConfigError` (from `@cm/config`) when `list` is not a list name
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const gate = createGate({ denyList: ['10.0.0.0/8'], trustedList: ['192.0.2.1'] })
   * gate.rules() // [{ list: 'deny', text: '10.0.0.0/8' }, { list: 'trusted', text: '192.0.2.1' }]
   * ```
   */
  rules(list?: GateList): GateRule[]

  /**
   * The number of rules on one list, or on all three. Lapsed rules are not counted.
   *
   * @param list - `'deny'`, `'allow'` or `'trusted'`; all three when omitted
   * @throws `InvalidConfigError` (from `@cm/config`) when `list` is not a list name
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * createGate({ denyList: ['10.0.0.0/8', '10.1.2.3/8'] }).size('deny') // 1: the same rule
   * ```
   */
  size(list?: GateList): number

  /**
   * Replaces every rule of a list with `entries`, as one change: every entry is checked
   * first, and if any is malformed nothing changes. Replacing the deny list drops its
   * timed rules too.
   *
   * @param list - `'deny'`, `'allow'` or `'trusted'`
   * @param entries - the new rules
   * @throws `InvalidConfigError` (from `@cm/config`) listing every malformed entry (path
   *   `denyList[3]` and so on), or a bad list name
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const gate = createGate({ allowList: ['10.0.0.0/8'] })
   * gate.replace('allow', ['192.168.0.0/16'])
   * gate.check('10.1.2.3').reason // 'not-allow-listed'
   * ```
   */
  replace(list: GateList, entries: readonly string[]): void

  /**
   * Removes every rule of one list, or of all three.
   *
   * @param list - `'deny'`, `'allow'` or `'trusted'`; all three when omitted
   * @throws `InvalidConfigError` (from `@cm/config`) when `list` is not a list name
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const gate = createGate({ denyList: ['10.0.0.0/8'] })
   * gate.clear('deny')
   * gate.size() // 0
   * ```
   */
  clear(list?: GateList): void

  /**
   * Narrows the deny or the allow list to one direction (`'inbound'` or `'outbound'`), or
   * widens it to `'both'`. Checks that do not say their direction still meet every list.
   *
   * @param list - `'deny'` or `'allow'`
   * @param direction - `'both'`, `'inbound'` or `'outbound'`
   * @throws `InvalidConfigError` (from `@cm/config`) when either argument is not one of
   *   its values
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const gate = createGate({ denyList: ['10.0.0.0/8'] })
   * gate.setDirection('deny', 'inbound') // as js-libp2p: outbound dials are not refused
   * gate.check('10.1.2.3', { direction: 'outbound' }).allowed // true
   * ```
   */
  setDirection(list: 'deny' | 'allow', direction: ListDirection): void

  /**
   * The three lists as plain JSON (see {@link GateSnapshot}), so that they can be
   * persisted and reloaded with {@link Gate.load} or {@link DefaultGate.fromJSON}.
   * `JSON.stringify(gate)` calls it. Timed deny rules carry the time they have left.
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const gate = createGate({ denyList: ['10.0.0.0/8'] })
   * gate.deny('192.0.2.7', { ttl: 60_000 })
   * gate.toJSON().deny // [{ entry: '10.0.0.0/8' }, { entry: '192.0.2.7', expiresInMs: 60000 }]
   * ```
   */
  toJSON(): GateSnapshot

  /**
   * Adds the rules of a snapshot, as {@link Gate.deny}, {@link Gate.allow} and
   * {@link Gate.trust} would (rules already on the lists stay). A timed deny rule gets the
   * time it had left less the wall time (`Date.now()`) passed since the snapshot was taken;
   * one whose time ran out is skipped. The snapshot is checked whole first: if anything is
   * malformed, nothing is added.
   *
   * @param snapshot - a snapshot, for example `JSON.parse` of a saved one
   * @throws {@link InvalidSnapshotError} listing every problem of a malformed snapshot
   *
   * @example
   * ```ts
   * import { createGate } from '@cm/gate'
   *
   * const gate = createGate()
   * gate.load({ version: 1, savedAt: Date.now(), deny: [{ entry: '10.0.0.0/8' }], allow: [], trusted: [] })
   * gate.check('10.1.2.3').reason // 'deny-list'
   * ```
   */
  load(snapshot: unknown): void
}

/**
 * The default {@link Gate}: deny, allow and trusted lists whose check does the same work
 * with ten rules or a million (one hash-table probe per prefix length present).
 *
 * @example
 * ```ts
 * import { DefaultGate } from '@cm/gate'
 *
 * const gate = new DefaultGate({ denyList: ['10.0.0.0/8'], trustedList: ['192.0.2.1'] })
 * gate.check('::ffff:10.1.2.3') // { allowed: false, reason: 'deny-list', rule: '10.0.0.0/8', trusted: false }
 * gate.check('192.0.2.1') // { allowed: true, reason: 'allowed', trusted: true }
 * gate.deny('198.51.100.0/24', { ttl: 10 * 60_000 }) // lapses by itself in ten minutes
 * ```
 */
export class DefaultGate implements Gate {
  /** Tells the gate apart in logs and inspection: `'@cm/gate'`. */
  readonly [Symbol.toStringTag] = '@cm/gate'

  // The check path is decision.ts; the rules, their directions and expiry are rule-book.ts.
  readonly #rules: RuleBook
  /** Scratch space for the address being checked. */
  readonly #words = new Uint32Array(4)

  /**
   * @param init - the lists, their directions and the clock
   * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options,
   *   each malformed entry with its index and the reason
   */
  constructor (init: GateInit = {}) {
    this.#rules = new RuleBook(init)
  }

  /**
   * Creates a gate from a snapshot (see {@link Gate.toJSON}), on top of the lists of
   * `init`.
   *
   * @param snapshot - a snapshot, for example `JSON.parse` of a saved one
   * @param init - options, as for the constructor
   * @throws {@link InvalidSnapshotError} listing every problem of a malformed snapshot
   * @throws `InvalidConfigError` (from `@cm/config`) when `init` is invalid
   *
   * @example
   * ```ts
   * import { createGate, DefaultGate } from '@cm/gate'
   *
   * const gate = createGate()
   * gate.deny('192.0.2.7', { ttl: 60_000 })
   * const saved = JSON.stringify(gate)
   *
   * const restored = DefaultGate.fromJSON(JSON.parse(saved))
   * restored.check('192.0.2.7').reason // 'deny-list', for the minute that remains
   * ```
   */
  static fromJSON (snapshot: unknown, init?: GateInit): DefaultGate {
    const gate = new DefaultGate(init)
    gate.load(snapshot)
    return gate
  }

  check (address: string | Multiaddr, options?: GateCheckOptions): GateVerdict {
    return checkAddress(this.#rules, this.#words, address, options)
  }

  checkPeer (peer: string, options?: GatePeerCheckOptions): GateVerdict {
    return checkPeer(this.#rules, this.#words, peer, options)
  }

  deny (entry: string, options?: DenyOptions): GateRule {
    return this.#rules.addDeny(entry, options)
  }

  allow (entry: string): GateRule {
    return this.#rules.add('allow', entry)
  }

  trust (entry: string): GateRule {
    return this.#rules.add('trusted', entry)
  }

  remove (list: GateList, entry: string): boolean {
    return this.#rules.remove(list, entry)
  }

  has (list: GateList, entry: string): boolean {
    return this.#rules.has(list, entry)
  }

  rules (list?: GateList): GateRule[] {
    return this.#rules.rules(list)
  }

  size (list?: GateList): number {
    return this.#rules.size(list)
  }

  replace (list: GateList, entries: readonly string[]): void {
    this.#rules.replace(list, entries)
  }

  clear (list?: GateList): void {
    this.#rules.clear(list)
  }

  setDirection (list: 'deny' | 'allow', direction: ListDirection): void {
    this.#rules.setDirection(list, direction)
  }

  toJSON (): GateSnapshot {
    return this.#rules.toJSON()
  }

  load (snapshot: unknown): void {
    this.#rules.load(snapshot)
  }
}

/**
 * Creates a {@link DefaultGate}.
 *
 * @param init - the lists, their directions and the clock
 * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
 *
 * @example
 * ```ts
 * import { createGate } from '@cm/gate'
 *
 * const gate = createGate({
 *   denyList: ['10.0.0.0/8', '/ip6/2001:db8::/ipcidr/32'],
 *   trustedList: ['192.0.2.1']
 * })
 * gate.check('10.1.2.3') // { allowed: false, reason: 'deny-list', rule: '10.0.0.0/8', trusted: false }
 * ```
 */
export function createGate (init?: GateInit): DefaultGate {
  return new DefaultGate(init)
}
