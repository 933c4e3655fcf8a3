import { MAX_PEER_ID_LENGTH, parseIpInto, parsePeerId, readMultiaddr } from '@cm/config/address'
import { ALLOWED, ALLOWED_TRUSTED, INVALID_ADDRESS, NOT_ALLOW_LISTED } from './verdict.ts'
import type { GateCheckOptions, GatePeerCheckOptions } from './options.ts'
import type { RuleBook } from './rule-book.ts'
import type { RuleList, RuleRecord } from './rule-list.ts'
import type { GateVerdict } from './verdict.ts'
import type { ListDirection } from '@cm/config'
import type { IpFamily } from '@cm/config/address'
import type { Multiaddr } from '@multiformats/multiaddr'

const SLASH = 47
const DIGIT_ONE = 49
const LETTER_Q = 81

/**
 * @internal
 * The verdict for a connection from or to `address` (see {@link Gate.check}): the address is
 * parsed into `words` (scratch space of four words, so that IP text allocates nothing), then
 * looked up in the lists of `rules`.
 */
export function checkAddress (rules: RuleBook, words: Uint32Array, address: string | Multiaddr, options: GateCheckOptions | undefined): GateVerdict {
  let family: 0 | IpFamily = 0
  let peer: unknown = options?.peer
  if (typeof address === 'string' && address.charCodeAt(0) !== SLASH) {
    family = parseIpInto(address, words)
    if (family === 0) {
      return INVALID_ADDRESS
    }
    return decide(rules, words, family, canonicalPeer(peer), options?.direction)
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
  return decide(rules, words, family, canonicalPeer(peer), options?.direction)
}

/** @internal The verdict for a connection with `peer` (see {@link Gate.checkPeer}). */
export function checkPeer (rules: RuleBook, words: Uint32Array, peer: string, options: GatePeerCheckOptions | undefined): GateVerdict {
  const address = options?.address
  if (address === undefined) {
    // Stryker disable next-line StringLiteral: a string that is not a peer ID matches no rule, as '' does
    return decide(rules, words, 0, canonicalPeer(typeof peer === 'string' ? peer : ''), options?.direction)
  }
  // Stryker disable next-line StringLiteral,OptionalChaining: as above; with an address, options is set
  return checkAddress(rules, words, address, { peer: typeof peer === 'string' ? peer : '', direction: options?.direction })
}

/**
 * The verdict for a parsed address (`family` 0: none, else in `words`) and peer. Loops only
 * when the deny rule that matched had lapsed: it is then gone, and the check runs again.
 */
function decide (rules: RuleBook, words: Uint32Array, family: 0 | IpFamily, peer: string | undefined, direction: unknown): GateVerdict {
  for (;;) {
    const verdict = evaluate(rules, words, family, peer, direction)
    if (verdict !== undefined) {
      return verdict
    }
  }
}

/** The verdict, or `undefined` when the deny rule that matched had lapsed. */
function evaluate (rules: RuleBook, words: Uint32Array, family: 0 | IpFamily, peer: string | undefined, direction: unknown): GateVerdict | undefined {
  const deny = rules.deny
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a fast path: with no deny rules the lookup finds nothing (`true`, `>=`); the `false` variant is killed by the tests, and hidden by this comment
  if (deny.size > 0 && applies(rules.denyDirection, direction)) {
    const match = mostSpecific(deny, words, family, peer)
    if (match !== undefined) {
      return rules.lapsed(match) ? undefined : match.verdict
    }
  }
  const allow = rules.allow
  let admittedBy: RuleRecord | undefined
  if (allow.size > 0 && applies(rules.allowDirection, direction)) {
    admittedBy = mostSpecific(allow, words, family, peer)
    if (admittedBy === undefined && !mayBeAllowed(allow, words, family, peer)) {
      return NOT_ALLOW_LISTED
    }
  }
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a fast path: with no trusted rules the lookup finds nothing (`true`, `>=`); the `false` variant is killed by the tests, and hidden by this comment
  const trusted = rules.trusted.size > 0 && mostSpecific(rules.trusted, words, family, peer) !== undefined
  if (admittedBy === undefined) {
    return trusted ? ALLOWED_TRUSTED : ALLOWED
  }
  return trusted ? admittedBy.trustedVerdict : admittedBy.verdict
}

/**
 * The most specific rule of a list that matches the address and the peer: the longest
 * prefix, then a rule with a peer before one without, then a rule that names only a peer.
 */
function mostSpecific (list: RuleList, words: Uint32Array, family: 0 | IpFamily, peer: string | undefined): RuleRecord | undefined {
  let match = family === 0 ? undefined : list.matchAddress(family, words)
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: without a peer, or without peer rules, the lookups below find nothing
  if (peer !== undefined && list.peerRuleCount > 0) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a fast path: with no address-and-peer rules the lookup finds nothing (`true`, `>=`); the `false` variant is killed by the tests, and hidden by this comments
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
function mayBeAllowed (allow: RuleList, words: Uint32Array, family: 0 | IpFamily, peer: string | undefined): boolean {
  if (peer !== undefined) {
    return false
  }
  return allow.peerRuleCount > allow.boundCount || (family !== 0 && allow.mayMatchBound(family, words))
}

/** Whether a list narrowed to `listDirection` applies to a check in `direction`. */
function applies (listDirection: ListDirection, direction: unknown): boolean {
  return listDirection === 'both' || direction === listDirection || (direction !== 'inbound' && direction !== 'outbound')
}

function isMultiaddr (value: unknown): value is Multiaddr {
  if (typeof value !== 'object' || value === null) {
    return false
  }
  // Stryker disable next-line ConditionalExpression: readMultiaddr() refuses any other object, so `true` gives the same verdict; the `false` variant is killed by the tests, and hidden by this comment
  return typeof (value as { getComponents?: unknown }).getComponents === 'function'
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
  // Stryker disable next-line ConditionalExpression,EqualityOperator: parsePeerId refuses these too, and a peer it refuses matches no rule
  if (typeof peer !== 'string' || peer.length > MAX_PEER_ID_LENGTH) {
    // Stryker disable next-line StringLiteral: any string that is not a peer ID matches no rule
    return ''
  }
  const first = peer.charCodeAt(0)
  // Stryker disable next-line ConditionalExpression,LogicalOperator,BlockStatement: parsePeerId gives these forms back unchanged
  if (first === DIGIT_ONE || first === LETTER_Q) {
    return peer
  }
  return parsePeerId(peer) ?? peer
}
