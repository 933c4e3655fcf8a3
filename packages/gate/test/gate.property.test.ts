/**
 * The gate against a brute-force model: every rule kept in a plain array, every check a
 * linear scan, address containment decided by ipaddr.js (independent of @cm/config's
 * parser). Random rule sets mix IPv4, IPv6 and IPv4-mapped spellings, prefix lengths from
 * 0 to the maximum, overlapping networks, peer rules, timed bans, removals and directions.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import fc from 'fast-check'
import ipaddr from 'ipaddr.js'
import { describe, expect, it } from 'vitest'
import { createGate } from '../src/gate.ts'
import type { GateDirection, GateList } from '../src/options.ts'
import type { GateVerdict } from '../src/verdict.ts'
import type { ListDirection } from '@cm/config'

const NUM_RUNS = 3_000
/** Generous: the machines that run CI are shared. */
const TIMEOUT_MS = 120_000

const keys = await Promise.all([0, 1, 2].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
/** Three peers: the first two appear in rules, the third never does. */
const PEERS = keys.map(peerId => peerId.toString())
/** The CID spelling of each peer. */
const PEER_CIDS = new Map(keys.map(peerId => [peerId.toString(), peerId.toCID().toString()]))

type Family = 4 | 6

/** An address as the generators build it: family and unsigned 32-bit words. */
interface Address {
  readonly family: Family
  readonly words: readonly number[]
}

/** How an address or range is written. */
interface Spelling {
  /** IPv6: 0 compressed, 1 full with zero padding, 2 upper case. IPv4: 0 dotted, 1 and 2 IPv4-mapped (dotted, hex). */
  readonly style: 0 | 1 | 2
  readonly multiaddr: boolean
}

interface RuleSpec {
  readonly network?: { readonly address: Address, readonly prefixLength: number }
  readonly peer?: string
  readonly peerAsCid: boolean
  readonly spelling: Spelling
}

const hex = (value: number): string => value.toString(16)

function groupsOf (words: readonly number[]): number[] {
  return words.flatMap(word => [word >>> 16, word & 0xffff])
}

function dotted (word: number): string {
  return `${word >>> 24}.${(word >>> 16) & 0xff}.${(word >>> 8) & 0xff}.${word & 0xff}`
}

/** Address text in one of several equivalent spellings. */
function spellAddress (address: Address, style: number): string {
  if (address.family === 4) {
    const word = address.words[0] ?? 0
    if (style === 1) return `::ffff:${dotted(word)}`
    if (style === 2) return `::ffff:${hex(word >>> 16)}:${hex(word & 0xffff)}`
    return dotted(word)
  }
  const groups = groupsOf(address.words)
  if (style === 1) return groups.map(group => group.toString(16).padStart(4, '0')).join(':')
  const compressed = ipaddr.fromByteArray(groups.flatMap(group => [group >> 8, group & 0xff])).toString()
  return style === 2 ? compressed.toUpperCase() : compressed
}

/** Whether a spelling writes an IPv4 address as IPv6 (prefix lengths then count 96 more). */
function writtenAsIpv6 (address: Address, style: number): boolean {
  return address.family === 6 || style !== 0
}

function spellRule (rule: RuleSpec): string {
  const peer = rule.peer === undefined ? undefined : rule.peerAsCid ? PEER_CIDS.get(rule.peer) ?? rule.peer : rule.peer
  const network = rule.network
  if (network === undefined) {
    return rule.spelling.multiaddr ? `/p2p/${peer ?? ''}` : peer ?? ''
  }
  const { address, prefixLength } = network
  const style = rule.spelling.style
  const ipv6 = writtenAsIpv6(address, style)
  const length = ipv6 && address.family === 4 ? prefixLength + 96 : prefixLength
  const text = spellAddress(address, style)
  if (rule.spelling.multiaddr || peer !== undefined) {
    const cidr = length === (ipv6 ? 128 : 32) ? '' : `/ipcidr/${length}`
    return `/ip${ipv6 ? 6 : 4}/${text}${cidr}${peer === undefined ? '' : `/p2p/${peer}`}`
  }
  return `${text}/${length}`
}

/** The model's view of a rule's network: an ipaddr.js range, IPv4-mapped ranges as IPv4. */
interface ModelNetwork {
  readonly range: ipaddr.IPv4 | ipaddr.IPv6
  readonly prefixLength: number
}

/** Reads the network of a rule the way an independent library does. */
function modelNetwork (rule: RuleSpec): ModelNetwork | undefined {
  if (rule.network === undefined) {
    return undefined
  }
  const { address, prefixLength } = rule.network
  const style = rule.spelling.style
  const ipv6 = writtenAsIpv6(address, style)
  const [parsed, length] = ipaddr.parseCIDR(`${spellAddress(address, style)}/${ipv6 && address.family === 4 ? prefixLength + 96 : prefixLength}`)
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() && length >= 96) {
    return { range: (parsed as ipaddr.IPv6).toIPv4Address(), prefixLength: length - 96 }
  }
  return { range: parsed, prefixLength: length }
}

/** Reads an address the way an independent library does, IPv4-mapped addresses as IPv4. */
function modelAddress (text: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const parsed = ipaddr.parse(text)
  return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed
}

function contains (network: ModelNetwork, address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return network.range.kind() === address.kind() && (address as ipaddr.IPv4).match(network.range, network.prefixLength)
}

/** A rule's identity, the same for every spelling: the masked network bytes and the peer. */
function identity (network: ModelNetwork | undefined, peer: string | undefined): string {
  if (network === undefined) {
    return `peer ${peer ?? ''}`
  }
  const bytes = network.range.toByteArray().map((byte, index) => {
    const bits = network.prefixLength - index * 8
    return bits >= 8 ? byte : bits <= 0 ? 0 : byte & (0xff << (8 - bits))
  })
  return `${network.range.kind()} ${bytes.join('.')}/${network.prefixLength} ${peer ?? ''}`
}

interface ModelRule {
  readonly network: ModelNetwork | undefined
  readonly peer: string | undefined
  /** The canonical text the gate gave when the rule was added: the name `rule` must carry. */
  readonly text: string
  readonly expiresAt: number | undefined
}

/** The brute-force gate. */
class Model {
  readonly lists: Record<GateList, Map<string, ModelRule>> = { deny: new Map(), allow: new Map(), trusted: new Map() }
  denyDirection: ListDirection = 'both'
  allowDirection: ListDirection = 'both'
  now = 0

  live (rule: ModelRule): boolean {
    return rule.expiresAt === undefined || rule.expiresAt > this.now
  }

  matches (rule: ModelRule, address: ipaddr.IPv4 | ipaddr.IPv6 | undefined, peer: string | undefined): boolean {
    if (!this.live(rule)) return false
    if (rule.network !== undefined && (address === undefined || !contains(rule.network, address))) return false
    return rule.peer === undefined || rule.peer === peer
  }

  /** The most specific matching rule: longest prefix, then address-and-peer, then peer only. */
  best (list: GateList, address: ipaddr.IPv4 | ipaddr.IPv6 | undefined, peer: string | undefined): ModelRule | undefined {
    const rank = (rule: ModelRule): number => rule.network === undefined ? -1 : rule.network.prefixLength * 2 + (rule.peer === undefined ? 0 : 1)
    let best: ModelRule | undefined
    for (const rule of this.lists[list].values()) {
      if (this.matches(rule, address, peer) && (best === undefined || rank(rule) > rank(best))) {
        best = rule
      }
    }
    return best
  }

  check (address: ipaddr.IPv4 | ipaddr.IPv6 | undefined, peer: string | undefined, direction: GateDirection | undefined): GateVerdict {
    const applies = (listDirection: ListDirection): boolean => listDirection === 'both' || direction === undefined || direction === listDirection
    if (applies(this.denyDirection)) {
      const rule = this.best('deny', address, peer)
      if (rule !== undefined) {
        return { allowed: false, reason: 'deny-list', rule: rule.text, trusted: false }
      }
    }
    let admittedBy: ModelRule | undefined
    const allowRules = [...this.lists.allow.values()]
    if (applies(this.allowDirection) && allowRules.length > 0) {
      admittedBy = this.best('allow', address, peer)
      // Before the peer is known, an allow rule that names a peer may still match.
      const provisional = peer === undefined && allowRules.some(rule => rule.peer !== undefined &&
        (rule.network === undefined || (address !== undefined && contains(rule.network, address))))
      if (admittedBy === undefined && !provisional) {
        return { allowed: false, reason: 'not-allow-listed', trusted: false }
      }
    }
    const trusted = this.best('trusted', address, peer) !== undefined
    return admittedBy === undefined
      ? { allowed: true, reason: 'allowed', trusted }
      : { allowed: true, reason: 'allowed', rule: admittedBy.text, trusted }
  }
}

type Operation =
  | { readonly kind: 'add', readonly list: GateList, readonly rule: RuleSpec, readonly ttl: number | undefined }
  | { readonly kind: 'remove', readonly list: GateList, readonly rule: RuleSpec }
  | { readonly kind: 'advance', readonly ms: number }
  | { readonly kind: 'direction', readonly list: 'deny' | 'allow', readonly direction: ListDirection }
  | { readonly kind: 'check', readonly address: Address, readonly spelling: Spelling, readonly peer: string | undefined, readonly peerInAddress: boolean, readonly direction: GateDirection | undefined, readonly byPeer: boolean }

const word = fc.integer({ min: 0, max: 0xffffffff })
const baseAddress: fc.Arbitrary<Address> = fc.oneof(
  word.map(value => ({ family: 4 as const, words: [value] })),
  // Keep clear of ::/96 and ::ffff:0:0/96, which hold IPv4-compatible and IPv4-mapped addresses.
  fc.array(word, { minLength: 4, maxLength: 4 })
    .map(words => ({ family: 6 as const, words: [(words[0] ?? 0) | 0x20000000, ...words.slice(1)].map(value => value >>> 0) }))
)

/** An address sharing a random number of leading bits with one of the bases. */
function nearAddress (bases: readonly Address[]): fc.Arbitrary<Address> {
  return fc.tuple(fc.nat(bases.length - 1), fc.nat(128), fc.array(word, { minLength: 4, maxLength: 4 })).map(([index, keep, noise]) => {
    const origin = bases[index] ?? bases[0] ?? { family: 4, words: [0] }
    const words = origin.words.map((value, position) => {
      const bits = Math.min(keep, origin.family === 4 ? 32 : 128) - position * 32
      if (bits >= 32) return value >>> 0
      if (bits <= 0) return (noise[position] ?? 0) >>> 0
      const mask = (0xffffffff << (32 - bits)) >>> 0
      return ((value & mask) | ((noise[position] ?? 0) & ~mask)) >>> 0
    })
    return { family: origin.family, words }
  })
}

const spelling: fc.Arbitrary<Spelling> = fc.record({ style: fc.constantFrom<0 | 1 | 2>(0, 1, 2), multiaddr: fc.boolean() })
const listName = fc.constantFrom<GateList>('deny', 'allow', 'trusted')
const direction = fc.constantFrom<GateDirection | undefined>('inbound', 'outbound', undefined)
const listDirection = fc.constantFrom<ListDirection>('both', 'inbound', 'outbound')
const rulePeer = fc.constantFrom(PEERS[0] ?? '', PEERS[1] ?? '')

function ruleSpec (bases: readonly Address[]): fc.Arbitrary<RuleSpec> {
  const network = nearAddress(bases).chain(address => fc.oneof(
    fc.nat(address.family === 4 ? 32 : 128),
    fc.constantFrom(...(address.family === 4 ? [32, 24, 16, 8] : [128, 64, 48, 32]))
  ).map(prefixLength => ({ address, prefixLength })))
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ network, peerAsCid: fc.constant(false), spelling }) },
    { weight: 2, arbitrary: fc.record({ network, peer: rulePeer, peerAsCid: fc.boolean(), spelling }) },
    { weight: 1, arbitrary: fc.record({ peer: rulePeer, peerAsCid: fc.boolean(), spelling }) }
  )
}

const scenario = fc.array(baseAddress, { minLength: 1, maxLength: 3 }).chain(bases => {
  const rule = ruleSpec(bases)
  const operation: fc.Arbitrary<Operation> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('add' as const), list: listName, rule, ttl: fc.option(fc.integer({ min: 1, max: 1_000 }), { freq: 3 }) }).map(op => ({ ...op, ttl: op.list === 'deny' ? op.ttl ?? undefined : undefined })) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), list: listName, rule }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 600 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('direction' as const), list: fc.constantFrom<'deny' | 'allow'>('deny', 'allow'), direction: listDirection }) },
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('check' as const),
        address: nearAddress(bases),
        spelling,
        peer: fc.option(fc.constantFrom(...PEERS), { freq: 2 }).map(peer => peer ?? undefined),
        peerInAddress: fc.boolean(),
        direction,
        byPeer: fc.boolean()
      })
    }
  )
  return fc.array(operation, { minLength: 1, maxLength: 40 })
})

describe('DefaultGate (property)', () => {
  it('.check() and .checkPeer() - equal a brute-force linear reference built on ipaddr.js', () => {
    fc.assert(fc.property(scenario, operations => {
      const model = new Model()
      const gate = createGate({ clock: { now: () => model.now } })
      for (const op of operations) {
        if (op.kind === 'add') {
          const text = spellRule(op.rule)
          const added = op.list === 'deny' ? gate.deny(text, { ttl: op.ttl }) : op.list === 'allow' ? gate.allow(text) : gate.trust(text)
          const network = modelNetwork(op.rule)
          model.lists[op.list].set(identity(network, op.rule.peer), {
            network,
            peer: op.rule.peer,
            text: added.text,
            expiresAt: op.ttl === undefined ? undefined : model.now + op.ttl
          })
        } else if (op.kind === 'remove') {
          const key = identity(modelNetwork(op.rule), op.rule.peer)
          const present = model.lists[op.list].get(key)
          expect(gate.remove(op.list, spellRule(op.rule))).toBe(present !== undefined && model.live(present))
          model.lists[op.list].delete(key)
        } else if (op.kind === 'advance') {
          model.now += op.ms
        } else if (op.kind === 'direction') {
          gate.setDirection(op.list, op.direction)
          model[op.list === 'deny' ? 'denyDirection' : 'allowDirection'] = op.direction
        } else {
          const ipText = spellAddress(op.address, op.spelling.style)
          const expected = model.check(modelAddress(ipText), op.peer, op.direction)
          if (op.byPeer && op.peer !== undefined) {
            expect(gate.checkPeer(op.peer, { address: ipText, direction: op.direction })).toEqual(expected)
          } else if (op.spelling.multiaddr) {
            const ipv6 = writtenAsIpv6(op.address, op.spelling.style)
            const address = `/ip${ipv6 ? 6 : 4}/${ipText}/tcp/4001${op.peerInAddress && op.peer !== undefined ? `/p2p/${op.peer}` : ''}`
            const peer = op.peerInAddress ? undefined : op.peer
            expect(gate.check(address, { peer, direction: op.direction })).toEqual(expected)
          } else {
            expect(gate.check(ipText, { peer: op.peer, direction: op.direction })).toEqual(expected)
          }
        }
      }
      // The lists hold exactly the live rules of the model.
      for (const list of ['deny', 'allow', 'trusted'] as const) {
        const live = [...model.lists[list].values()].filter(rule => model.live(rule)).map(rule => rule.text).sort()
        expect(gate.rules(list).map(rule => rule.text).sort()).toEqual(live)
      }
    }), { numRuns: NUM_RUNS })
  }, TIMEOUT_MS)

  it('.checkPeer() without an address - equals the reference for a peer with no IP', () => {
    fc.assert(fc.property(scenario, fc.constantFrom(...PEERS), (operations, peer) => {
      const model = new Model()
      const gate = createGate({ clock: { now: () => model.now } })
      for (const op of operations) {
        if (op.kind === 'add') {
          const added = op.list === 'deny' ? gate.deny(spellRule(op.rule)) : op.list === 'allow' ? gate.allow(spellRule(op.rule)) : gate.trust(spellRule(op.rule))
          model.lists[op.list].set(identity(modelNetwork(op.rule), op.rule.peer), { network: modelNetwork(op.rule), peer: op.rule.peer, text: added.text, expiresAt: undefined })
        }
      }
      expect(gate.checkPeer(peer)).toEqual(model.check(undefined, peer, undefined))
      expect(gate.check(`/dns4/example.com/tcp/443/p2p/${peer}`)).toEqual(model.check(undefined, peer, undefined))
    }), { numRuns: 500 })
  }, TIMEOUT_MS)

  it('.check() - never throws, whatever it is given', () => {
    const gate = createGate({ denyList: ['10.0.0.0/8', PEERS[0] ?? ''], allowList: ['2001:db8::/32', `/ip4/10.1.0.0/ipcidr/16/p2p/${PEERS[1] ?? ''}`] })
    const reasons = new Set(['allowed', 'deny-list', 'not-allow-listed', 'invalid-address'])
    fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('/', 'ip4', 'ip6', '1', ':', '.', 'f', 'p2p', '%') }), fc.anything()), fc.anything(), (address, peer) => {
      const verdict = gate.check(address as string, { peer: peer as string })
      expect(reasons.has(verdict.reason)).toBe(true)
      expect(verdict.allowed).toBe(verdict.reason === 'allowed')
    }), { numRuns: NUM_RUNS })
  }, TIMEOUT_MS)
})
