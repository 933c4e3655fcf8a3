import { InvalidConfigError } from '@cm/config'
import { createGate } from '@cm/gate'
import { createRateLimiter } from '@cm/rate-limit'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { cmGater, CmGater } from '../src/gater.ts'
import { createNodeMonitor } from '../src/monitor.ts'
import { problemsOf } from './support/problems.ts'
import type { GaterConfig, GaterDenyDetail } from '../src/gater.ts'
import type { MonitoredNode } from '../src/monitor.ts'
import type { Clock } from '@cm/config'
import type { MultiaddrConnection } from '@libp2p/interface'

const [peerA, peerB, relay] = await Promise.all([0, 1, 2].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
const PEER_A = peerA!.toString()

/** The part of a raw connection the gater and the monitor read: its address, timeline and close event. */
function rawConnection (address: string): MultiaddrConnection & EventTarget {
  return Object.assign(new EventTarget(), { remoteAddr: multiaddr(address), timeline: { open: 0 } }) as unknown as MultiaddrConnection & EventTarget
}

/** A node with no connections, for a monitor to follow. */
function idleNode (): MonitoredNode {
  return { status: 'started', peerStore: {} as never, getConnections: () => [], addEventListener: () => undefined, removeEventListener: () => undefined }
}

/** A clock that only moves when told to. */
function frozenClock (): Clock & { advance: (ms: number) => void } {
  let now = 1_000
  return { now: () => now, advance: ms => { now += ms } }
}

function denials (gater: ReturnType<typeof cmGater>): GaterDenyDetail[] {
  const seen: GaterDenyDetail[] = []
  gater.events.addEventListener('connection:deny', event => { seen.push(event.detail) })
  return seen
}

describe('cmGater()', () => {
  it('.denyInboundConnection() - refuses a denied address in any form, IPv4-mapped included', () => {
    const gater = cmGater({ gate: createGate({ denyList: ['10.0.0.0/8'] }) })
    expect(gater.denyInboundConnection(rawConnection('/ip4/10.1.2.3/tcp/4001'))).toBe(true)
    expect(gater.denyInboundConnection(rawConnection('/ip6/::ffff:10.1.2.3/tcp/4001'))).toBe(true)
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.1/tcp/4001'))).toBe(false)
    expect(gater.stats()).toEqual({ denied: { 'deny-list': 2, 'not-allow-listed': 0, 'invalid-address': 0, 'rate-limit': 0, 'pending-limit': 0, 'max-connections': 0 }, inboundAdmitted: 1 })
  })

  it('.denyInboundConnection() - a non-empty allow list is exclusive, and deny wins over it', () => {
    const gater = cmGater({ gate: createGate({ allowList: ['192.0.2.0/24'], denyList: ['192.0.2.66'] }) })
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.1/tcp/1'))).toBe(false)
    expect(gater.denyInboundConnection(rawConnection('/ip4/198.51.100.1/tcp/1'))).toBe(true)
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.66/tcp/1'))).toBe(true)
    expect(gater.stats().denied).toMatchObject({ 'deny-list': 1, 'not-allow-listed': 1 })
  })

  it('.denyInboundConnection() - rate limits by remote IP, IPv6 by /64, after the gate', () => {
    const clock = frozenClock()
    const gater = cmGater({ gate: createGate({ denyList: ['203.0.113.0/24'] }), rateLimiter: createRateLimiter({ threshold: 2, clock }) })
    const seen = denials(gater)
    const attempts = ['/ip4/192.0.2.1/tcp/1', '/ip4/192.0.2.1/tcp/2', '/ip4/192.0.2.1/tcp/3', '/ip4/192.0.2.2/tcp/1']
    expect(attempts.map(address => gater.denyInboundConnection(rawConnection(address)))).toEqual([false, false, true, false])
    const sixes = ['/ip6/2001:db8::1/tcp/1', '/ip6/2001:db8::2/tcp/1', '/ip6/2001:db8::3/tcp/1', '/ip6/2001:db8:0:1::1/tcp/1']
    expect(sixes.map(address => gater.denyInboundConnection(rawConnection(address)))).toEqual([false, false, true, false])
    // A denied address is refused by the gate, without using the limiter's budget.
    expect(gater.denyInboundConnection(rawConnection('/ip4/203.0.113.5/tcp/1'))).toBe(true)
    expect(gater.rateLimiter?.stats().refused).toBe(2)
    expect(seen.map(detail => detail.reason)).toEqual(['rate-limit', 'rate-limit', 'deny-list'])
    expect(seen[0]).toEqual({ hook: 'denyInboundConnection', direction: 'inbound', address: '/ip4/192.0.2.1/tcp/3', reason: 'rate-limit', retryAfterMs: 500 })
    clock.advance(500)
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.1/tcp/4'))).toBe(false)
  })

  it('.denyInboundConnection() - trusted addresses skip the rate limit', () => {
    const gater = cmGater({ gate: createGate({ trustedList: ['192.0.2.1'] }), rateLimiter: createRateLimiter({ threshold: 1, clock: frozenClock() }) })
    const results = [1, 2, 3].map(port => gater.denyInboundConnection(rawConnection(`/ip4/192.0.2.1/tcp/${port}`)))
    expect(results).toEqual([false, false, false])
    expect(gater.rateLimiter?.stats().admitted).toBe(0)
  })

  it('.denyInboundConnection() - never charges a relayed connection to the relay\'s IP; checks its peer', () => {
    const gater = cmGater({ gate: createGate({ denyList: [PEER_A] }), rateLimiter: createRateLimiter({ threshold: 1, clock: frozenClock() }) })
    const through = (peer: string): MultiaddrConnection => rawConnection(`/ip4/192.0.2.9/tcp/4001/p2p/${relay!.toString()}/p2p-circuit/p2p/${peer}`)
    expect(gater.denyInboundConnection(through(peerB!.toString()))).toBe(false)
    expect(gater.denyInboundConnection(through(peerB!.toString()))).toBe(false)
    expect(gater.denyInboundConnection(through(PEER_A))).toBe(true)
    expect(gater.rateLimiter?.stats().admitted).toBe(0)
    // The relay's own direct connections are charged as usual.
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.9/tcp/5000'))).toBe(false)
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.9/tcp/5001'))).toBe(true)
  })

  it('.denyInboundEncryptedConnection() - decides rules that name a peer once it is known', () => {
    const gater = cmGater({ gate: createGate({ denyList: [PEER_A, `/ip4/192.0.2.7/p2p/${peerB!.toString()}`] }) })
    const seen = denials(gater)
    const raw = rawConnection('/ip4/192.0.2.7/tcp/4001')
    expect(gater.denyInboundConnection(raw)).toBe(false)
    expect(gater.denyInboundEncryptedConnection(peerA!, raw)).toBe(true)
    expect(gater.denyInboundEncryptedConnection(peerB!, raw)).toBe(true)
    expect(gater.denyInboundEncryptedConnection(peerB!, rawConnection('/ip4/192.0.2.8/tcp/4001'))).toBe(false)
    expect(gater.denyInboundEncryptedConnection(relay!, raw)).toBe(false)
    expect(seen[0]).toEqual({ hook: 'denyInboundEncryptedConnection', direction: 'inbound', address: '/ip4/192.0.2.7/tcp/4001', peer: PEER_A, reason: 'deny-list', rule: PEER_A })
  })

  it('.denyInboundEncryptedConnection() - an allow rule naming a peer admits that peer only', () => {
    const gater = cmGater({ gate: createGate({ allowList: [PEER_A] }) })
    const raw = rawConnection('/ip4/198.51.100.1/tcp/1')
    expect(gater.denyInboundConnection(raw)).toBe(false) // provisionally: it may be the peer
    expect(gater.denyInboundEncryptedConnection(peerA!, raw)).toBe(false)
    expect(gater.denyInboundEncryptedConnection(peerB!, raw)).toBe(true)
  })

  it('.denyDialPeer() - refuses a peer denied whatever its address; leaves the allow list to the address', () => {
    const gater = cmGater({ gate: createGate({ denyList: [PEER_A, `/ip4/192.0.2.7/p2p/${peerB!.toString()}`], allowList: ['192.0.2.0/24'] }) })
    expect(gater.denyDialPeer(peerA!)).toBe(true)
    expect(gater.denyDialPeer(peerB!)).toBe(false) // denied only at one address
    expect(gater.denyDialPeer(relay!)).toBe(false) // the allow list needs an address
    expect(gater.denyDialMultiaddr(multiaddr(`/ip4/192.0.2.7/tcp/1/p2p/${peerB!.toString()}`))).toBe(true)
    expect(gater.denyDialMultiaddr(multiaddr(`/ip4/192.0.2.8/tcp/1/p2p/${peerB!.toString()}`))).toBe(false)
    expect(gater.denyDialMultiaddr(multiaddr(`/ip4/198.51.100.1/tcp/1/p2p/${relay!.toString()}`))).toBe(true)
  })

  it('.denyOutboundConnection() - checks the remote address with the peer dialled', () => {
    const gater = cmGater({ gate: createGate({ denyList: ['/ip6/2001:db8::/ipcidr/32'] }) })
    expect(gater.denyOutboundConnection(peerA!, rawConnection(`/ip6/2001:db8::5/tcp/1/p2p/${PEER_A}`))).toBe(true)
    expect(gater.denyOutboundConnection(peerA!, rawConnection(`/ip6/2001:db9::5/tcp/1/p2p/${PEER_A}`))).toBe(false)
    expect(gater.denyOutboundEncryptedConnection(peerA!, rawConnection('/ip6/2001:db8::5/tcp/1'))).toBe(true)
  })

  it('.denyOutboundConnection() - a list narrowed to one direction leaves the other alone', () => {
    const gater = cmGater({ config: { denyList: ['192.0.2.0/24'], denyListDirection: 'inbound' } })
    expect(gater.denyDialMultiaddr(multiaddr('/ip4/192.0.2.1/tcp/1'))).toBe(false)
    expect(gater.denyOutboundConnection(peerA!, rawConnection('/ip4/192.0.2.1/tcp/1'))).toBe(false)
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.1/tcp/1'))).toBe(true)
  })

  it('.denyInboundRelayedConnection() - refuses a peer denied whatever its address', () => {
    const gater = cmGater({ gate: createGate({ denyList: [PEER_A], allowList: ['192.0.2.0/24'] }) })
    expect(gater.denyInboundRelayedConnection(relay!, peerA!)).toBe(true)
    expect(gater.denyInboundRelayedConnection(relay!, peerB!)).toBe(false)
  })

  it('cmGater({ config }) - builds the gate and the rate limiter from @cm/config options', () => {
    const gater = cmGater({ config: { denyList: ['10.0.0.0/8'], trustedList: ['192.0.2.1'], inboundConnectionThreshold: 1, rateLimit: { ipv4PrefixLength: 24 } } })
    expect(gater.gate.check('10.0.0.1').reason).toBe('deny-list')
    expect(gater.gate.check('192.0.2.1').trusted).toBe(true)
    expect(gater.denyInboundConnection(rawConnection('/ip4/198.51.100.1/tcp/1'))).toBe(false)
    expect(gater.denyInboundConnection(rawConnection('/ip4/198.51.100.2/tcp/1'))).toBe(true) // same /24
  })

  it('cmGater() - with nothing given, allows everything and limits nothing', () => {
    const gater = cmGater()
    expect(gater.rateLimiter).toBeUndefined()
    expect([1, 2, 3, 4, 5, 6].map(port => gater.denyInboundConnection(rawConnection(`/ip4/192.0.2.1/tcp/${port}`)))).toEqual([false, false, false, false, false, false])
    expect(gater.denyDialPeer(peerA!)).toBe(false)
  })

  it('cmGater() - refuses malformed options, every problem at once', () => {
    let problems: string[] = []
    try {
      cmGater({ gate: {} as never, rateLimiter: 5 as never, monitor: {} as never, config: { inboundConnectionThreshold: -1 } })
    } catch (error) {
      if (!InvalidConfigError.isInstance(error)) throw error
      problems = error.problems.map(problem => problem.path)
    }
    expect(problems).toEqual(['gate', 'rateLimiter', 'monitor', 'inboundConnectionThreshold'])
    expect(() => cmGater({ config: { maxConnections: 0 }, monitor: createNodeMonitor() })).toThrow(/`maxConnections` to be an integer >= 1/)
    expect(() => cmGater({ gates: [] } as never)).toThrow(/Unknown option `gates` \(did you mean `gate`\?\)/)
  })

  it('cmGater({ config }) - takes only the options it enforces, at compile time and at run time; the others name who enforces them', () => {
    // The options of the issue that reported the gater accepting and ignoring them.
    // @ts-expect-error dialTimeout and pruneStrategy are not the gater's options
    const config: GaterConfig = { maxConnections: 5, maxIncomingPendingConnections: 1, dialTimeout: 1, pruneStrategy: 'oldest' }
    expect(problemsOf(() => cmGater({ config }))).toEqual([
      '`dialTimeout` is not enforced by cmGater; in a js-libp2p node, js-libp2p\'s dial queue enforces it, with the value cmLibp2p passes on',
      '`pruneStrategy` is not enforced by cmGater; createNodePruner enforces it',
      '`maxIncomingPendingConnections` needs `monitor`: the gater counts connections with it',
      '`maxConnections` needs `monitor`: the gater counts connections with it'
    ])
    // With a monitor to count with, the limits are the gater's: no relation to options it does not use.
    expect(cmGater({ config: { maxConnections: 1 }, monitor: createNodeMonitor() })).toBeInstanceOf(CmGater)
  })

  it('cmGater({ config }) - an option a given part would leave unused is refused', () => {
    expect(problemsOf(() => cmGater({ gate: createGate(), rateLimiter: createRateLimiter(), config: { denyList: ['10.0.0.0/8'], rateLimit: { maxKeys: 10 } } }))).toEqual([
      '`denyList` is not used when `gate` is given: give it to the gate (`createGate`) instead',
      '`rateLimit` is not used when `rateLimiter` is given: give it to the rate limiter (`createRateLimiter`) instead'
    ])
  })

  it('cmGater({ config }) - lists fail closed: holes, non-arrays and non-string entries are refused with their index', () => {
    const holey: string[] = []
    holey[1] = '192.0.2.1'
    holey[2] = 5 as never
    expect(problemsOf(() => cmGater({ config: { denyList: holey, allowList: '10.0.0.1' as never, trustedList: [null as never] } }))).toEqual([
      'Expected `allowList` to be an array of IP addresses, CIDR ranges, multiaddrs or peer IDs, got "10.0.0.1" (string)',
      'Expected `denyList[0]` to be an IP address, CIDR range, multiaddr or peer ID, got undefined: the array has a hole here (an empty slot of a sparse array)',
      'Expected `denyList[2]` to be an IP address, CIDR range, multiaddr or peer ID, got 5 (number): expected a string, got number',
      'Expected `trustedList[0]` to be an IP address, CIDR range, multiaddr or peer ID, got null: expected a string, got object'
    ])
  })

  it('.denyInboundConnection() - the rate limit comes first, and a refusal because the node is full costs a second attempt', () => {
    const monitor = createNodeMonitor()
    monitor.start(idleNode())
    const gater = cmGater({ config: { maxIncomingPendingConnections: 1, inboundConnectionThreshold: 4 }, monitor })
    const seen = denials(gater)
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.1/tcp/1'))).toBe(false)
    // Full: each refusal at the pending limit uses two attempts of the budget of 4.
    expect([2, 3, 4].map(port => gater.denyInboundConnection(rawConnection(`/ip4/198.51.100.1/tcp/${port}`)))).toEqual([true, true, true])
    expect(seen.map(detail => detail.reason)).toEqual(['pending-limit', 'pending-limit', 'rate-limit'])
    expect(gater.rateLimiter?.stats().charged).toBe(2)
  })

  it('.denyInboundConnection() - maxConnections counts connections in any state, closing ones and dials included', () => {
    const monitor = createNodeMonitor()
    monitor.start(idleNode())
    const gater = cmGater({ config: { maxConnections: 2, maxIncomingPendingConnections: 10, rateLimit: { enabled: false } }, monitor })
    const closing = monitor.tracker.add({ direction: 'outbound', remoteAddress: '/ip4/198.51.100.7/tcp/1' }).id
    monitor.tracker.open(closing)
    monitor.tracker.closing(closing, 'local')
    monitor.tracker.add({ direction: 'outbound', remoteAddress: '/ip4/198.51.100.8/tcp/1' }) // a dial, pending
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.1/tcp/1'))).toBe(true)
    monitor.tracker.close(closing, 'local')
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.1/tcp/1'))).toBe(false)
  })

  it('.denyInboundConnection() - with a monitor, refuses beyond maxIncomingPendingConnections and maxConnections; trusted addresses are exempt', () => {
    const monitor = createNodeMonitor()
    monitor.start(idleNode())
    const gater = cmGater({ config: { maxIncomingPendingConnections: 2, maxConnections: 3, trustedList: ['192.0.2.100'], rateLimit: { enabled: false } }, monitor })
    const seen = denials(gater)
    const raws = [1, 2, 3].map(host => rawConnection(`/ip4/192.0.2.${host}/tcp/1`))
    expect(raws.map(raw => gater.denyInboundConnection(raw))).toEqual([false, false, true])
    expect(seen[0]).toEqual({ hook: 'denyInboundConnection', direction: 'inbound', address: '/ip4/192.0.2.3/tcp/1', reason: 'pending-limit' })
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.100/tcp/1'))).toBe(false) // trusted: not counted
    expect(monitor._limitedPendingInbound).toBe(2)
    raws[0]!.dispatchEvent(new Event('close')) // one pending connection ends: a slot is free
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.4/tcp/1'))).toBe(false)
    // Two open connections and one pending (not trusted) fill maxConnections: 3.
    for (const peer of ['a', 'b']) monitor.tracker.open(monitor.tracker.add({ direction: 'outbound', remoteAddress: `/ip4/198.51.100.1/tcp/${peer.length}`, peer }).id)
    raws[1]!.dispatchEvent(new Event('close'))
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.5/tcp/1'))).toBe(true)
    expect(seen.at(-1)?.reason).toBe('max-connections')
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.100/tcp/2'))).toBe(false) // trusted: exempt
    expect(gater.stats().denied).toMatchObject({ 'pending-limit': 1, 'max-connections': 1 })
  })

  it('.events - a listener that throws breaks neither the hook nor the other listeners', () => {
    const errors: unknown[] = []
    const gater = cmGater({ config: { denyList: ['10.0.0.0/8'] }, onListenerError: error => { errors.push(error) } })
    gater.events.addEventListener('connection:deny', () => { throw new Error('listener bug') })
    const seen = denials(gater)
    expect(gater.denyInboundConnection(rawConnection('/ip4/10.0.0.1/tcp/1'))).toBe(true)
    expect(seen).toHaveLength(1)
    expect(errors).toHaveLength(1)
  })

  it('cmGater({ monitor }) - records nothing while the monitor follows no node', () => {
    const monitor = createNodeMonitor()
    const gater = cmGater({ monitor })
    expect(gater.denyInboundConnection(rawConnection('/ip4/192.0.2.1/tcp/1'))).toBe(false)
    expect(monitor.tracker.size).toBe(0)
  })
})
