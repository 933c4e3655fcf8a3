import {
  addressListRule,
  clockRule,
  CONFIG_RULES,
  DEFAULT_CONFIG,
  finiteNumberRule,
  oneOfRule,
  forEachAddressEntry,
  MAX_PEER_ID_LENGTH,
  parseAddressEntry,
  parseIpInto,
  parsePeerId,
  ProblemCollector,
  readMultiaddr,
  resolveOptions,
  systemClock
} from '@cm/config'
import { Heap } from 'mnemonist'
import { RuleList } from './rule-list.ts'
import { readSnapshot } from './snapshot.ts'
import { ALLOWED, ALLOWED_TRUSTED, INVALID_ADDRESS, NOT_ALLOW_LISTED } from './verdict.ts'
import type { Expiry, RuleRecord } from './rule-list.ts'
import type { GateSnapshot, GateSnapshotDenyEntry } from './snapshot.ts'
import type { GateVerdict } from './verdict.ts'
import type { AddressEntry, Clock, IpFamily, ListDirection, OptionRule, OptionsSchema } from '@cm/config'
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

/**
 * A gate: deny, allow and trusted lists, and the check the connection manager calls on
 * every inbound connection and outbound dial.
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
   * Decides whether a connection from or to `address` may proceed. Never throws.
   *
   * @param address - IP address text (`10.0.0.1`, `::ffff:10.0.0.1`, `fe80::1%eth0`) or a
   *   multiaddr, as an object or a string starting with `/`
   * @param options - the peer ID, if known, and the direction
   */
  check(address: string | Multiaddr, options?: GateCheckOptions): GateVerdict

  /**
   * Decides whether a connection with a peer may proceed, after the handshake has told who
   * it is, or before dialling a peer by its ID. Never throws.
   *
   * @param peer - the peer ID (see {@link GateCheckOptions.peer})
   * @param options - the remote address, if known, and the direction
   */
  checkPeer(peer: string, options?: GatePeerCheckOptions): GateVerdict

  /**
   * Adds a deny rule, or changes the expiry of the same rule: the latest call decides.
   *
   * @throws `InvalidAddressError` (from `@cm/config`) when the entry is malformed
   * @throws `InvalidConfigError` (from `@cm/config`) when the options are
   */
  deny(entry: string, options?: DenyOptions): GateRule

  /**
   * Adds an allow rule.
   *
   * @throws `InvalidAddressError` (from `@cm/config`) when the entry is malformed
   */
  allow(entry: string): GateRule

  /**
   * Adds a trusted rule.
   *
   * @throws `InvalidAddressError` (from `@cm/config`) when the entry is malformed
   */
  trust(entry: string): GateRule

  /**
   * Removes the rule an entry names from a list (any spelling of it); returns whether it
   * was there.
   *
   * @throws `InvalidAddressError` (from `@cm/config`) when the entry is malformed
   */
  remove(list: GateList, entry: string): boolean

  /**
   * Whether a list holds the rule an entry names (lapsed rules are gone).
   *
   * @throws `InvalidAddressError` (from `@cm/config`) when the entry is malformed
   */
  has(list: GateList, entry: string): boolean

  /** Lists the rules of one list, or of all three (deny, allow, trusted), sorted by text. */
  rules(list?: GateList): GateRule[]

  /** The number of rules on one list, or on all three. */
  size(list?: GateList): number

  /**
   * Replaces every rule of a list (for the deny list, timed rules too) with `entries`, all
   * at once: if any entry is malformed, nothing changes.
   *
   * @throws `InvalidConfigError` (from `@cm/config`) listing every malformed entry
   */
  replace(list: GateList, entries: readonly string[]): void

  /** Removes every rule of one list, or of all three. */
  clear(list?: GateList): void

  /**
   * Narrows the deny or the allow list to one direction, or widens it to both.
   *
   * @throws `InvalidConfigError` (from `@cm/config`) when `direction` is not one of
   *   `'both'`, `'inbound'`, `'outbound'`
   */
  setDirection(list: 'deny' | 'allow', direction: ListDirection): void

  /** The three lists as plain JSON (see {@link GateSnapshot}). */
  toJSON(): GateSnapshot

  /**
   * Adds the rules of a snapshot, as {@link Gate.deny}, {@link Gate.allow} and
   * {@link Gate.trust} would; timed rules keep the time they had left, less the wall
   * time since the snapshot. All or nothing.
   *
   * @throws {@link InvalidSnapshotError} listing every problem of a malformed snapshot
   */
  load(snapshot: unknown): void
}

interface ResolvedGateOptions {
  readonly denyList: readonly string[]
  readonly allowList: readonly string[]
  readonly trustedList: readonly string[]
  readonly denyListDirection: ListDirection
  readonly allowListDirection: ListDirection
  readonly clock: Clock
}

type ListOption = 'denyList' | 'allowList' | 'trustedList'

/**
 * The gate's options: `ConnectionConfig`'s list options, with its defaults and rules, and
 * a clock. The list rules check exactly as `addressListRule` does, and add each entry to
 * its list as soon as it is parsed, so that a long list is parsed once and no array of
 * parsed entries is kept (a gate whose options are invalid is thrown away anyway).
 */
function gateSchema (lists: Readonly<Record<ListOption, RuleList>>): OptionsSchema<ResolvedGateOptions> {
  const listOption = (name: ListOption): { default: readonly string[], rule: OptionRule<readonly string[]> } => ({
    default: DEFAULT_CONFIG[name],
    rule: {
      expected: addressListRule.expected,
      check: (value, path, problems): value is readonly string[] => forEachAddressEntry(value, path, problems, entry => { lists[name].add(entry) })
    }
  })
  return {
    denyList: listOption('denyList'),
    allowList: listOption('allowList'),
    trustedList: listOption('trustedList'),
    denyListDirection: { default: DEFAULT_CONFIG.denyListDirection, rule: CONFIG_RULES.denyListDirection },
    allowListDirection: { default: DEFAULT_CONFIG.allowListDirection, rule: CONFIG_RULES.allowListDirection },
    clock: { default: systemClock, rule: clockRule }
  }
}

const DENY_OPTIONS_SCHEMA: OptionsSchema<{ ttl: number | undefined, expiresAt: number | undefined }> = {
  ttl: { default: undefined, rule: finiteNumberRule({ min: 0, exclusiveMin: true }) },
  expiresAt: { default: undefined, rule: finiteNumberRule() }
}

const DIRECTION_RULE = oneOfRule<ListDirection>(['both', 'inbound', 'outbound'])
const LIST_RULE = oneOfRule<GateList>(['deny', 'allow', 'trusted'])

const LISTS: readonly GateList[] = ['deny', 'allow', 'trusted']
const SLASH = 47
const DIGIT_ONE = 49
const LETTER_Q = 81

/** Rebuild the expiry heap once it holds this many stale items beyond twice the live ones. */
const HEAP_SLACK = 64

function compareExpiry (a: Expiry, b: Expiry): number {
  return a.expiresAt - b.expiresAt
}

/** Whether a list narrowed to `listDirection` applies to a check in `direction`. */
function applies (listDirection: ListDirection, direction: unknown): boolean {
  return listDirection === 'both' || direction === listDirection || (direction !== 'inbound' && direction !== 'outbound')
}

function isMultiaddr (value: unknown): value is Multiaddr {
  return typeof value === 'object' && value !== null && typeof (value as { getComponents?: unknown }).getComponents === 'function'
}

/**
 * A peer ID in the canonical form of list entries. The base58btc forms libp2p prints are
 * taken as they are (they are canonical, and anything else matches no rule); CID forms are
 * converted. Anything that is not a string, or is longer than any peer ID, becomes '', which
 * matches no rule.
 */
function canonicalPeer (peer: unknown): string | undefined {
  if (peer === undefined) {
    return undefined
  }
  // Too long to be a peer ID: not hashed, not decoded.
  if (typeof peer !== 'string' || peer.length > MAX_PEER_ID_LENGTH) {
    return ''
  }
  const first = peer.charCodeAt(0)
  if (first === DIGIT_ONE || first === LETTER_Q) {
    return peer
  }
  return parsePeerId(peer) ?? peer
}

/**
 * The default {@link Gate}: deny, allow and trusted lists whose check does the same work
 * with ten rules or a million (one hash-table probe per prefix length present).
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

  readonly #clock: Clock
  readonly #words = new Uint32Array(4)
  #deny = new RuleList('deny')
  #allow = new RuleList('allow')
  #trusted = new RuleList('trusted')
  #denyDirection: ListDirection
  #allowDirection: ListDirection
  #expiries = new Heap<Expiry>(compareExpiry)
  /** The number of deny rules that are timed (each has one live item in #expiries). */
  #timedCount = 0

  /**
   * @param init - the lists, their directions and the clock
   * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options,
   *   each malformed entry with its index and the reason
   */
  constructor (init: GateInit = {}) {
    const problems = new ProblemCollector()
    const lists = { denyList: this.#deny, allowList: this.#allow, trustedList: this.#trusted }
    const options = resolveOptions(gateSchema(lists), init, problems)
    problems.throwIfAny()
    this.#clock = options.clock
    this.#denyDirection = options.denyListDirection
    this.#allowDirection = options.allowListDirection
  }

  /**
   * Creates a gate from a snapshot (see {@link DefaultGate.toJSON}), on top of the lists
   * of `init`.
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
   * @param address - IP address text, or a multiaddr (object, or string starting with `/`)
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
  check (address: string | Multiaddr, options?: GateCheckOptions): GateVerdict {
    const words = this.#words
    let family: 0 | IpFamily = 0
    let peer: unknown = options?.peer
    if (typeof address === 'string' && address.charCodeAt(0) !== SLASH) {
      family = parseIpInto(address, words)
      if (family === 0) {
        return INVALID_ADDRESS
      }
      return this.#decide(family, canonicalPeer(peer), options?.direction)
    }
    if (typeof address !== 'string' && !isMultiaddr(address)) {
      return INVALID_ADDRESS
    }
    const target = readMultiaddr(address)
    if (target === undefined) {
      return INVALID_ADDRESS
    }
    if (target.ip !== undefined) {
      family = parseIpInto(target.ip, words)
      if (family === 0) {
        return INVALID_ADDRESS
      }
    }
    if (peer === undefined) {
      peer = target.peerId
    }
    return this.#decide(family, canonicalPeer(peer), options?.direction)
  }

  /**
   * Decides whether a connection with a peer may proceed: after the handshake, when the
   * peer is known, or before dialling a peer by its ID. Never throws.
   *
   * `gate.checkPeer(peer, { address })` is `gate.check(address, { peer })`; without an
   * address, only rules that name the peer alone can match it. The manager calls this
   * after every handshake, since rules that name a peer could not decide before.
   *
   * @param peer - the peer ID, as libp2p prints it or in its CID form
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
  checkPeer (peer: string, options?: GatePeerCheckOptions): GateVerdict {
    const address = options?.address
    if (address === undefined) {
      return this.#decide(0, canonicalPeer(typeof peer === 'string' ? peer : ''), options?.direction)
    }
    return this.check(address, { peer: typeof peer === 'string' ? peer : '', direction: options?.direction })
  }

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
  deny (entry: string, options?: DenyOptions): GateRule {
    const parsed = parseAddressEntry(entry)
    const problems = new ProblemCollector()
    const timing = resolveOptions(DENY_OPTIONS_SCHEMA, options, problems)
    if (timing.ttl !== undefined && timing.expiresAt !== undefined) {
      problems.addProblem({
        path: 'expiresAt',
        expected: 'no `expiresAt` when `ttl` is given',
        received: `${timing.expiresAt} (number)`,
        message: 'Expected `ttl` or `expiresAt`, not both'
      })
    }
    problems.throwIfAny()
    return this.#addDeny(parsed, timing.ttl, timing.expiresAt)
  }

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
  allow (entry: string): GateRule {
    const record = this.#allow.add(parseAddressEntry(entry))
    this.#purge()
    return this.#describe('allow', record)
  }

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
  trust (entry: string): GateRule {
    const record = this.#trusted.add(parseAddressEntry(entry))
    this.#purge()
    return this.#describe('trusted', record)
  }

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
  remove (list: GateList, entry: string): boolean {
    const rules = this.#list(list)
    const parsed = parseAddressEntry(entry)
    this.#purge()
    const record = rules.delete(parsed)
    if (record?.expiry !== undefined) {
      record.expiry = undefined
      this.#timedCount--
    }
    return record !== undefined
  }

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
  has (list: GateList, entry: string): boolean {
    const rules = this.#list(list)
    const parsed = parseAddressEntry(entry)
    this.#purge()
    return rules.get(parsed) !== undefined
  }

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
  rules (list?: GateList): GateRule[] {
    const names = list === undefined ? LISTS : [this.#checkListName(list)]
    this.#purge()
    return names.flatMap(name => this.#sorted(this.#list(name)).map(record => this.#describe(name, record)))
  }

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
  size (list?: GateList): number {
    const names = list === undefined ? LISTS : [this.#checkListName(list)]
    this.#purge()
    return names.reduce((total, name) => total + this.#list(name).size, 0)
  }

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
  replace (list: GateList, entries: readonly string[]): void {
    this.#checkListName(list)
    const problems = new ProblemCollector()
    const rules = new RuleList(list)
    forEachAddressEntry(entries, `${list}List`, problems, entry => { rules.add(entry) })
    problems.throwIfAny()
    this.#setList(list, rules)
  }

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
  clear (list?: GateList): void {
    const names = list === undefined ? LISTS : [this.#checkListName(list)]
    for (const name of names) {
      this.#setList(name, new RuleList(name))
    }
  }

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
  setDirection (list: 'deny' | 'allow', direction: ListDirection): void {
    const problems = new ProblemCollector()
    if (list !== 'deny' && list !== 'allow') {
      problems.add('list', 'one of "deny", "allow"', list)
    }
    DIRECTION_RULE.check(direction, `${String(list)}ListDirection`, problems)
    problems.throwIfAny()
    if (list === 'deny') {
      this.#denyDirection = direction
    } else {
      this.#allowDirection = direction
    }
  }

  /**
   * The three lists as plain JSON, so that they can be persisted and reloaded with
   * {@link DefaultGate.load} or {@link DefaultGate.fromJSON}. `JSON.stringify(gate)`
   * calls it. Timed deny rules carry the time they have left.
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
  toJSON (): GateSnapshot {
    this.#purge()
    const now = this.#clock.now()
    const deny = this.#sorted(this.#deny).map((record): GateSnapshotDenyEntry => record.expiry === undefined
      ? { entry: record.text }
      : { entry: record.text, expiresInMs: record.expiry.expiresAt - now })
    return {
      version: 1,
      savedAt: Date.now(),
      deny,
      allow: this.#sorted(this.#allow).map(record => record.text),
      trusted: this.#sorted(this.#trusted).map(record => record.text)
    }
  }

  /**
   * Adds the rules of a snapshot, as {@link DefaultGate.deny}, {@link DefaultGate.allow}
   * and {@link DefaultGate.trust} would (rules already on the lists stay). A timed deny
   * rule gets the time it had left less the wall time (`Date.now()`) passed since the
   * snapshot was taken; one whose time ran out is skipped. The snapshot is checked whole
   * first: if anything is malformed, nothing is added.
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
  load (snapshot: unknown): void {
    const parsed = readSnapshot(snapshot)
    const elapsed = Math.max(0, Date.now() - parsed.savedAt)
    for (const item of parsed.deny) {
      if (item.expiresInMs === undefined) {
        this.#addDeny(item.entry, undefined, undefined)
      } else if (item.expiresInMs > elapsed) {
        this.#addDeny(item.entry, item.expiresInMs - elapsed, undefined)
      }
    }
    for (const entry of parsed.allow) {
      this.#allow.add(entry)
    }
    for (const entry of parsed.trusted) {
      this.#trusted.add(entry)
    }
  }

  #addDeny (entry: AddressEntry, ttl: number | undefined, expiresAt: number | undefined): GateRule {
    this.#purge()
    const record = this.#deny.add(entry)
    this.#setExpiry(record, entry, ttl !== undefined ? this.#clock.now() + ttl : expiresAt)
    return this.#describe('deny', record)
  }

  /**
   * The verdict for a parsed address (`family` 0: none) and peer. Loops only when the
   * deny rule that matched had lapsed: lapsed rules, that one included, are then purged
   * and the check runs again.
   */
  #decide (family: 0 | IpFamily, peer: string | undefined, direction: unknown): GateVerdict {
    for (;;) {
      const verdict = this.#evaluate(family, peer, direction)
      if (verdict !== undefined) {
        return verdict
      }
    }
  }

  /** The verdict, or `undefined` after purging a lapsed deny rule that matched. */
  #evaluate (family: 0 | IpFamily, peer: string | undefined, direction: unknown): GateVerdict | undefined {
    const deny = this.#deny
    if (deny.size > 0 && applies(this.#denyDirection, direction)) {
      const match = this.#match(deny, family, peer)
      if (match !== undefined) {
        if (match.expiry !== undefined) {
          const now = this.#clock.now()
          if (match.expiry.expiresAt <= now) {
            this.#purge(now)
            return undefined
          }
        }
        return match.verdict
      }
    }
    const allow = this.#allow
    let admittedBy: RuleRecord | undefined
    if (allow.size > 0 && applies(this.#allowDirection, direction)) {
      admittedBy = this.#match(allow, family, peer)
      if (admittedBy === undefined && !this.#mayBeAllowed(family, peer)) {
        return NOT_ALLOW_LISTED
      }
    }
    const trusted = this.#trusted.size > 0 && this.#match(this.#trusted, family, peer) !== undefined
    if (admittedBy === undefined) {
      return trusted ? ALLOWED_TRUSTED : ALLOWED
    }
    return trusted ? admittedBy.trustedVerdict : admittedBy.verdict
  }

  /** The most specific rule of a list that matches the address in #words and the peer. */
  #match (list: RuleList, family: 0 | IpFamily, peer: string | undefined): RuleRecord | undefined {
    const words = this.#words
    let match = family === 0 ? undefined : list.matchAddress(family, words)
    if (peer !== undefined && list.peerRuleCount > 0) {
      if (family !== 0 && list.boundCount > 0) {
        const bound = list.matchBound(family, words, peer)
        if (bound !== undefined && (match === undefined || bound.prefixLength >= match.prefixLength)) {
          match = bound
        }
      }
      match ??= list.matchPeer(peer)
    }
    return match
  }

  /** Whether an allow rule that names a peer may match once the (unknown) peer is known. */
  #mayBeAllowed (family: 0 | IpFamily, peer: string | undefined): boolean {
    if (peer !== undefined) {
      return false
    }
    const allow = this.#allow
    return allow.peerRuleCount > allow.boundCount || (family !== 0 && allow.mayMatchBound(family, this.#words))
  }

  /** Removes every timed deny rule whose time has come (by `now`, or the clock). */
  #purge (now?: number): void {
    const heap = this.#expiries
    if (heap.size === 0) {
      return
    }
    now ??= this.#clock.now()
    for (let top = heap.peek(); top !== undefined && top.expiresAt <= now; top = heap.peek()) {
      heap.pop()
      if (top.record.expiry === top) {
        top.record.expiry = undefined
        this.#timedCount--
        this.#deny.delete(top.entry)
      }
    }
  }

  #setExpiry (record: RuleRecord, entry: AddressEntry, expiresAt: number | undefined): void {
    if (record.expiry !== undefined) {
      this.#timedCount--
    }
    if (expiresAt === undefined) {
      record.expiry = undefined
      return
    }
    const expiry: Expiry = { record, expiresAt, entry }
    record.expiry = expiry
    this.#timedCount++
    this.#expiries.push(expiry)
    if (this.#expiries.size > 2 * this.#timedCount + HEAP_SLACK) {
      // Items of rules removed or re-timed are stale: rebuild from the live ones.
      const live = this.#expiries.consume().filter(item => item.record.expiry === item)
      this.#expiries = Heap.from(live, compareExpiry)
    }
  }

  #setList (list: GateList, rules: RuleList): void {
    if (list === 'deny') {
      this.#deny = rules
      this.#expiries = new Heap<Expiry>(compareExpiry)
      this.#timedCount = 0
    } else if (list === 'allow') {
      this.#allow = rules
    } else {
      this.#trusted = rules
    }
  }

  #checkListName (list: unknown): GateList {
    const problems = new ProblemCollector()
    LIST_RULE.check(list, 'list', problems)
    problems.throwIfAny()
    return list as GateList
  }

  #list (list: GateList): RuleList {
    switch (this.#checkListName(list)) {
      case 'deny': return this.#deny
      case 'allow': return this.#allow
      case 'trusted': return this.#trusted
    }
  }

  #sorted (list: RuleList): RuleRecord[] {
    return [...list.records()].sort((a, b) => a.text < b.text ? -1 : a.text > b.text ? 1 : 0)
  }

  #describe (list: GateList, record: RuleRecord): GateRule {
    return record.expiry === undefined
      ? { list, text: record.text }
      : { list, text: record.text, expiresAt: record.expiry.expiresAt }
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
