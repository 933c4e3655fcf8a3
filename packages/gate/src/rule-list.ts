import { PrefixTable } from './prefix-table.ts'
import { allowVerdict } from './verdict.ts'
import type { GateVerdict } from './verdict.ts'
import type { AddressEntry, IpFamily, IpNetwork } from '@cm/config/address'

/** The expiry of a timed rule, as kept in the gate's heap. */
export interface Expiry {
  /** The rule. A heap item is stale once `record.expiry` is no longer this item. */
  readonly record: RuleRecord
  /** Clock time, in milliseconds, from which the rule no longer matches. */
  readonly expiresAt: number
  /** The parsed entry, to remove the rule once it lapses. */
  readonly entry: AddressEntry
}

/**
 * A flat copy of a string. Canonical entry texts come out of string concatenation as trees
 * of V8 cons strings, which take about 60 bytes more per rule than the flat text; a million
 * rules keep a million of them. `encodeURI` builds a fresh flat string and, for these texts
 * (digits, hex, '.', ':', '/', base58 and base32 peer IDs), changes nothing.
 */
function compact (text: string): string {
  // V8 makes cons strings of 13 characters or more only: shorter ones are flat already.
  // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: memory only; the text is the same
  if (text.length < 13) {
    return text
  }
  const copy = encodeURI(text)
  // Stryker disable next-line ConditionalExpression,EqualityOperator: memory only; the text is the same
  return copy === text ? copy : text
}

/**
 * One rule of one list. The record is also the verdict its rule gives (a deny verdict for
 * a deny rule, an allow verdict without trust for an allow rule): its own properties are
 * exactly a verdict's, it is frozen, and its state lives in private fields. A check that
 * matches returns the record itself, so a hit touches one object, and the caller reading
 * the verdict finds it in cache.
 */
export class RuleRecord {
  /** As in a verdict: `false` for a deny rule. */
  readonly allowed: boolean
  /** As in a verdict: `'deny-list'` for a deny rule, `'allowed'` otherwise. */
  readonly reason: 'allowed' | 'deny-list'
  /** As in a verdict: the canonical text of the entry. */
  readonly rule: string
  /** As in a verdict: `false` (the trusted allow verdict is {@link RuleRecord.trustedVerdict}). */
  readonly trusted: false
  readonly #prefixLength: number
  #expiry: Expiry | undefined = undefined
  #trustedVerdict: GateVerdict | undefined = undefined

  constructor (list: 'deny' | 'allow' | 'trusted', text: string, prefixLength: number) {
    this.allowed = list !== 'deny'
    this.reason = list === 'deny' ? 'deny-list' : 'allowed'
    this.rule = compact(text)
    this.trusted = false
    this.#prefixLength = prefixLength
    Object.freeze(this)
  }

  /** The canonical text of the entry. */
  get text (): string {
    return this.rule
  }

  /** The network's prefix length; -1 for a rule that names only a peer. */
  get prefixLength (): number {
    return this.#prefixLength
  }

  /** Set while the rule is timed. */
  get expiry (): Expiry | undefined {
    return this.#expiry
  }

  set expiry (expiry: Expiry | undefined) {
    this.#expiry = expiry
  }

  /** This record as the verdict it gives. */
  get verdict (): GateVerdict {
    return this as unknown as GateVerdict
  }

  /** The allow verdict of this rule with `trusted: true`, made on first use. */
  get trustedVerdict (): GateVerdict {
    return this.#trustedVerdict ??= allowVerdict(this.rule, true)
  }
}

function hasPeer (peers: Map<string, RuleRecord>, peer: string): boolean {
  return peers.has(peer)
}

/**
 * One list (deny, allow or trusted): rules that name a network, rules that name a network
 * and a peer, and rules that name a peer, each in its own structure.
 */
export class RuleList {
  readonly #name: 'deny' | 'allow' | 'trusted'
  /** Rules naming only a network. */
  readonly #networks = new PrefixTable<RuleRecord>()
  /** Rules naming a network and a peer: per network, the peers. */
  readonly #bound = new PrefixTable<Map<string, RuleRecord>>()
  /** Rules naming only a peer. */
  readonly #peers = new Map<string, RuleRecord>()
  #boundCount = 0
  /** An entry's words, as the tables take them (typed, so that their loads stay monomorphic). */
  readonly #words = new Uint32Array(4)

  constructor (name: 'deny' | 'allow' | 'trusted') {
    this.#name = name
  }

  /** The number of rules (kept in a field: every check reads it). */
  #size = 0

  /** The number of rules. */
  get size (): number {
    return this.#size
  }

  /** The number of rules that name a peer (alone or with a network). */
  get peerRuleCount (): number {
    return this.#boundCount + this.#peers.size
  }

  /** The number of rules that name a network and a peer. */
  get boundCount (): number {
    return this.#boundCount
  }

  /** The rule for exactly this entry. */
  get (entry: AddressEntry): RuleRecord | undefined {
    const network = entry.network
    if (network === undefined) {
      // Stryker disable next-line ConditionalExpression: an entry without a network always names a peer; the test narrows the type
      return entry.peerId === undefined ? undefined : this.#peers.get(entry.peerId)
    }
    if (entry.peerId === undefined) {
      return this.#networks.get(network.family, this.#wordsOf(network), network.prefixLength)
    }
    return this.#bound.get(network.family, this.#wordsOf(network), network.prefixLength)?.get(entry.peerId)
  }

  /** Adds the rule for an entry, or returns the rule already there. */
  add (entry: AddressEntry): RuleRecord {
    const existing = this.get(entry)
    if (existing !== undefined) {
      return existing
    }
    const network = entry.network
    // Stryker disable next-line UnaryOperator: a peer-only rule's length is never compared (only network rules meet bound ones)
    const record = new RuleRecord(this.#name, entry.text, network?.prefixLength ?? -1)
    this.#size++
    if (network === undefined) {
      // Stryker disable next-line StringLiteral: an entry without a network always names a peer
      this.#peers.set(entry.peerId ?? '', record)
    } else if (entry.peerId === undefined) {
      this.#networks.set(network.family, this.#wordsOf(network), network.prefixLength, record)
    } else {
      let peers = this.#bound.get(network.family, this.#wordsOf(network), network.prefixLength)
      if (peers === undefined) {
        peers = new Map()
        this.#bound.set(network.family, this.#wordsOf(network), network.prefixLength, peers)
      }
      peers.set(entry.peerId, record)
      this.#boundCount++
    }
    return record
  }

  /** Removes the rule for an entry; returns it. */
  delete (entry: AddressEntry): RuleRecord | undefined {
    const record = this.#remove(entry)
    if (record !== undefined) {
      this.#size--
    }
    return record
  }

  #remove (entry: AddressEntry): RuleRecord | undefined {
    const network = entry.network
    if (network === undefined) {
      // Stryker disable next-line ConditionalExpression: an entry without a network always names a peer; the test narrows the type
      const record = entry.peerId === undefined ? undefined : this.#peers.get(entry.peerId)
      // Stryker disable next-line ConditionalExpression: deleting a peer that has no rule deletes nothing (`false`, which never deletes, is killed by the tests and hidden by this comment)
      if (record !== undefined) {
        // Stryker disable next-line StringLiteral: an entry without a network always names a peer
        this.#peers.delete(entry.peerId ?? '')
      }
      return record
    }
    if (entry.peerId === undefined) {
      return this.#networks.delete(network.family, this.#wordsOf(network), network.prefixLength)
    }
    const peers = this.#bound.get(network.family, this.#wordsOf(network), network.prefixLength)
    const record = peers?.get(entry.peerId)
    // Stryker disable next-line ConditionalExpression: with no peers, record is undefined too: the first test narrows the type (`true` is killed by the tests and hidden by this comment)
    if (peers === undefined || record === undefined) {
      return undefined
    }
    peers.delete(entry.peerId)
    // Stryker disable next-line UpdateOperator: the count only lets lookups be skipped at 0; too high, they run and find nothing
    this.#boundCount--
    if (peers.size === 0) {
      this.#bound.delete(network.family, this.#wordsOf(network), network.prefixLength)
    }
    return record
  }

  #wordsOf (network: IpNetwork): Uint32Array {
    this.#words.set(network.words)
    return this.#words
  }

  /** The most specific rule naming only a network that contains the address. */
  matchAddress (family: IpFamily, words: Uint32Array): RuleRecord | undefined {
    return this.#networks.longest(family, words)
  }

  /** The most specific rule naming a network that contains the address and this peer. */
  matchBound (family: IpFamily, words: Uint32Array, peer: string): RuleRecord | undefined {
    return this.#bound.longestWhere(family, words, hasPeer, peer)?.get(peer)
  }

  /** Whether some rule naming a network and a peer has a network that contains the address. */
  mayMatchBound (family: IpFamily, words: Uint32Array): boolean {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a fast path: with no address-and-peer rules the lookup finds nothing (`true`, `>=`); the `false` variant is killed by the tests, and hidden by this comments
    return this.#boundCount > 0 && this.#bound.longest(family, words) !== undefined
  }

  /** The rule naming only this peer. */
  matchPeer (peer: string): RuleRecord | undefined {
    return this.#peers.get(peer)
  }

  /** Every rule. */
  * records (): Generator<RuleRecord> {
    yield * this.#networks.values()
    for (const peers of this.#bound.values()) {
      yield * peers.values()
    }
    yield * this.#peers.values()
  }
}
