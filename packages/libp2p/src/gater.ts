import { gateOptionsFrom, rateLimiterOptionsFrom } from '@cm/config'
import { readMultiaddr } from '@cm/config/address'
import { SafeEventEmitter } from '@cm/config/events'
import { functionRule, objectRule, ProblemCollector, resolveOptions } from '@cm/config/validation'
import { createGate } from '@cm/gate'
import { createRateLimiter } from '@cm/rate-limit'
import { ownOptions, refuse, resolveOwnOptions } from './enforcement.ts'
import { NodeMonitor } from './monitor.ts'
import type { ConnectionConfigInit } from '@cm/config'
import type { ListenerErrorHandler, TypedEventTarget } from '@cm/config/events'
import type { OptionsSchema } from '@cm/config/validation'
import type { Gate, GateDirection, GateRefused, GateVerdict } from '@cm/gate'
import type { RateLimiter } from '@cm/rate-limit'
import type { CloseReason } from '@cm/state'
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'

/** A multiaddr, as js-libp2p's interfaces type it. */
type Multiaddr = MultiaddrConnection['remoteAddr']

/**
 * Why the gater refused: the gate's reasons (`'deny-list'`, `'not-allow-listed'`,
 * `'invalid-address'`), `'rate-limit'` (the rate limiter refused an inbound attempt),
 * `'pending-limit'` (`maxIncomingPendingConnections` inbound connections were still
 * upgrading) or `'max-connections'` (the node held `maxConnections` connections, in any
 * state).
 *
 * @example
 * ```ts
 * import type { GaterDenyReason } from '@cm/libp2p'
 *
 * const reason: GaterDenyReason = 'rate-limit'
 * ```
 */
export type GaterDenyReason = 'deny-list' | 'not-allow-listed' | 'invalid-address' | 'rate-limit' | 'pending-limit' | 'max-connections'

/**
 * The hooks of js-libp2p's `ConnectionGater` that {@link CmGater} implements.
 *
 * @example
 * ```ts
 * import type { GaterHook } from '@cm/libp2p'
 *
 * const hook: GaterHook = 'denyInboundEncryptedConnection'
 * ```
 */
export type GaterHook =
  | 'denyDialPeer'
  | 'denyDialMultiaddr'
  | 'denyInboundConnection'
  | 'denyOutboundConnection'
  | 'denyInboundEncryptedConnection'
  | 'denyOutboundEncryptedConnection'
  | 'denyInboundRelayedConnection'

/**
 * What a `connection:deny` event tells about one refusal.
 *
 * @example
 * ```ts
 * import type { GaterDenyDetail } from '@cm/libp2p'
 *
 * const detail: GaterDenyDetail = {
 *   hook: 'denyInboundConnection',
 *   direction: 'inbound',
 *   address: '/ip4/203.0.113.9/tcp/51234',
 *   reason: 'rate-limit',
 *   retryAfterMs: 200
 * }
 * ```
 */
export interface GaterDenyDetail {
  /** The hook that refused. */
  readonly hook: GaterHook
  /** The direction of the refused connection or dial. */
  readonly direction: GateDirection
  /** The remote multiaddr, as text, when the hook was given one. */
  readonly address?: string
  /** The remote peer ID, when known. */
  readonly peer?: string
  /** Why it was refused. */
  readonly reason: GaterDenyReason
  /** The gate rule that refused (the canonical text of a deny rule), if any. */
  readonly rule?: string
  /** For `'rate-limit'`: milliseconds until the host would be admitted again. */
  readonly retryAfterMs?: number
}

/**
 * The events of a {@link CmGater}.
 *
 * @example
 * ```ts
 * import { cmGater } from '@cm/libp2p'
 *
 * const gater = cmGater({ config: { denyList: ['10.0.0.0/8'] } })
 * gater.events.addEventListener('connection:deny', event => {
 *   console.log(`${event.detail.hook}: ${event.detail.reason}`)
 * })
 * ```
 */
export interface GaterEvents {
  /** A hook refused a connection or a dial. */
  'connection:deny': CustomEvent<GaterDenyDetail>
}

/**
 * How many connections and dials a {@link CmGater} refused, by reason, since it was made.
 *
 * @example
 * ```ts
 * import { cmGater } from '@cm/libp2p'
 *
 * const stats = cmGater().stats()
 * stats.denied['deny-list'] // 0
 * ```
 */
export interface GaterStats {
  /** Refusals by reason. */
  readonly denied: Readonly<Record<GaterDenyReason, number>>
  /** Inbound connections admitted by `denyInboundConnection` (gate and rate limit passed). */
  readonly inboundAdmitted: number
}

/**
 * The `@cm/config` options {@link cmGater} enforces, and only those: the lists and their
 * directions (the gate), `inboundConnectionThreshold` and `rateLimit` (the rate limiter),
 * and, with a `monitor` to count with, `maxIncomingPendingConnections` and `maxConnections`
 * for inbound connections. Any other option is refused with an error naming the part that
 * enforces it (`createNodePruner`, the monitor, or js-libp2p through {@link cmLibp2p}).
 *
 * @example
 * ```ts
 * import { cmGater, createNodeMonitor } from '@cm/libp2p'
 * import type { GaterConfig } from '@cm/libp2p'
 *
 * const config: GaterConfig = { denyList: ['203.0.113.0/24'], inboundConnectionThreshold: 5, maxConnections: 100 }
 * const gater = cmGater({ config, monitor: createNodeMonitor() })
 * ```
 */
export type GaterConfig = Pick<ConnectionConfigInit,
  | 'allowList' | 'denyList' | 'trustedList' | 'allowListDirection' | 'denyListDirection'
  | 'inboundConnectionThreshold' | 'rateLimit' | 'maxIncomingPendingConnections' | 'maxConnections'>

/** The names of the options in {@link GaterConfig}, every one (the `satisfies` checks it). */
export const GATER_OPTIONS = Object.keys({
  allowList: true,
  denyList: true,
  trustedList: true,
  allowListDirection: true,
  denyListDirection: true,
  inboundConnectionThreshold: true,
  rateLimit: true,
  maxIncomingPendingConnections: true,
  maxConnections: true
} satisfies Record<keyof GaterConfig, true>) as Array<keyof GaterConfig>
const GATER_OPTION_SET: ReadonlySet<string> = new Set(GATER_OPTIONS)
/** The options of {@link GaterConfig} that build the gate, the limiter, and the counted limits. */
export const GATE_OPTIONS = ['allowList', 'denyList', 'trustedList', 'allowListDirection', 'denyListDirection'] as const
const LIMITER_OPTIONS = ['inboundConnectionThreshold', 'rateLimit'] as const
const COUNTED_OPTIONS = ['maxIncomingPendingConnections', 'maxConnections'] as const

/**
 * Options of {@link cmGater}. Give the parts (`gate`, `rateLimiter`), or a `config` to
 * build them from; an option of `config` that a part given explicitly would leave unused
 * is refused.
 *
 * @example
 * ```ts
 * import { createGate } from '@cm/gate'
 * import { createRateLimiter } from '@cm/rate-limit'
 * import { cmGater, createNodeMonitor } from '@cm/libp2p'
 * import type { GaterInit } from '@cm/libp2p'
 *
 * const init: GaterInit = {
 *   gate: createGate({ denyList: ['10.0.0.0/8'] }),
 *   rateLimiter: createRateLimiter({ threshold: 5 }),
 *   config: { maxConnections: 200 }, // counted with the monitor
 *   monitor: createNodeMonitor()
 * }
 * const gater = cmGater(init)
 * ```
 */
export interface GaterInit {
  /**
   * The gate that decides every hook. Without one (and without `config`), every address
   * and peer is allowed.
   *
   * @default a gate built from `config`'s lists, if `config` is given
   */
  readonly gate?: Gate | undefined
  /**
   * The rate limiter asked for each inbound connection from an IP address that the gate
   * admitted and does not trust. Relayed connections (whose IP is the relay's) are never
   * charged. Without one (and without `config`), inbound connections are not rate limited
   * by the gater.
   *
   * @default a limiter built from `config`'s `inboundConnectionThreshold` and `rateLimit`,
   *   if `config` is given
   */
  readonly rateLimiter?: RateLimiter | undefined
  /**
   * The `@cm/config` options the gater enforces ({@link GaterConfig}), validated with
   * `@cm/config`'s rules (every problem at once): the gate is built from the lists and
   * their directions (unless `gate` is given), the rate limiter from
   * `inboundConnectionThreshold` and `rateLimit` (unless `rateLimiter` is given), and, when
   * a `monitor` is given, inbound connections are refused beyond
   * `maxIncomingPendingConnections` (default 10) still upgrading or `maxConnections`
   * (default 300) held in any state, trusted addresses exempt, as `@cm/manager` does (but
   * the gater refuses the newcomer: it cannot make a pending connection give way). Options
   * not given take their `@cm/config` defaults.
   */
  readonly config?: GaterConfig | undefined
  /**
   * A monitor to report connection attempts to, so that it tracks connections from their
   * first hook (pending) rather than from `connection:open`, and records refusals after
   * the handshake as closes with reason `'denied'`. With `config`, the connection limits are
   * counted with it.
   */
  readonly monitor?: NodeMonitor | undefined
  /**
   * Receives every error a `connection:deny` listener throws.
   *
   * @default prints the error with `console.error`
   */
  readonly onListenerError?: ListenerErrorHandler | undefined
}

interface ResolvedGaterInit {
  readonly gate: Gate | undefined
  readonly rateLimiter: RateLimiter | undefined
  readonly config: GaterConfig | undefined
  readonly monitor: NodeMonitor | undefined
  readonly onListenerError: ListenerErrorHandler | undefined
}

const GATER_SCHEMA: OptionsSchema<ResolvedGaterInit> = {
  gate: { default: undefined, rule: objectRule<Gate | undefined>('a gate (an object with check() and checkPeer() methods)', ['check', 'checkPeer']) },
  rateLimiter: { default: undefined, rule: objectRule<RateLimiter | undefined>('a rate limiter (an object with a tryAcquire() method)', ['tryAcquire']) },
  config: { default: undefined, rule: objectRule<GaterConfig | undefined>('an object of @cm/config options', []) },
  monitor: {
    default: undefined,
    rule: {
      expected: 'a NodeMonitor',
      check (value, path, problems): value is NodeMonitor {
        const ok = value instanceof NodeMonitor
        if (!ok) problems.add(path, 'a NodeMonitor', value)
        return ok
      }
    }
  },
  onListenerError: { default: undefined, rule: functionRule<ListenerErrorHandler | undefined>() }
}

const CLOSE_REASON_OF: Readonly<Record<GateRefused['reason'], CloseReason>> = {
  'deny-list': 'denied',
  'not-allow-listed': 'denied',
  'invalid-address': 'denied'
}

/**
 * A js-libp2p `ConnectionGater` that decides with a `@cm/gate` gate and, for inbound
 * connections, a `@cm/rate-limit` limiter and, with a monitor, the inbound connection
 * limits. Pass it as `connectionGater` to `createLibp2p` ({@link cmLibp2p} does). Each hook
 * returns `true` to refuse, synchronously.
 *
 * The decision rules are the gate's: deny wins, a non-empty allow list is exclusive,
 * trusted rules only mark (a trusted address skips the pending limit, the rate limiter and
 * `maxConnections`), and the lists apply in the directions they are set for. A rule that
 * names a peer decides once the peer is known:
 *
 * | hook | checks |
 * | --- | --- |
 * | `denyDialPeer(peer)` | refuses a peer denied whatever its address (a deny rule naming the peer alone); the allow list waits for the address |
 * | `denyDialMultiaddr(address)` | the address and its `/p2p/` peer, outbound |
 * | `denyOutboundConnection(peer, connection)` | the remote address and peer, outbound |
 * | `denyInboundConnection(connection)` | the remote address, inbound; then, unless trusted, the rate limit by remote IP, the pending limit and `maxConnections` |
 * | `denyInboundEncryptedConnection(peer, connection)`, `denyOutboundEncryptedConnection(…)` | the remote address and the peer proven by the handshake |
 * | `denyInboundRelayedConnection(relay, peer)` | refuses a peer denied whatever its address; its relayed connection then meets `denyInboundConnection` |
 *
 * Relayed connections have no IP of their own (their address carries the relay's), so the
 * gate checks them by peer and the rate limiter never charges them to the relay's IP. The
 * upgraded-connection hooks, the relay-server hooks and `filterMultiaddrForPeer` are not
 * implemented: they would decide nothing the hooks above have not.
 *
 * @example
 * ```ts
 * import { cmGater } from '@cm/libp2p'
 *
 * const gater = cmGater({ config: { denyList: ['203.0.113.0/24'], inboundConnectionThreshold: 5 } })
 * // createLibp2p({ connectionGater: gater, ... })
 * gater.gate.deny('198.51.100.7', { ttl: 60_000 }) // ban a host for a minute, at run time
 * gater.stats().denied['deny-list'] // refusals so far
 * ```
 */
export class CmGater implements ConnectionGater {
  /** Tells the gater apart in logs and inspection: `'@cm/libp2p/gater'`. */
  readonly [Symbol.toStringTag] = '@cm/libp2p/gater'
  /** The gate that decides (an empty one, allowing everything, if none was given). */
  readonly gate: Gate
  /** The inbound rate limiter, if any. */
  readonly rateLimiter: RateLimiter | undefined
  /** The monitor attempts are reported to, if any. */
  readonly monitor: NodeMonitor | undefined
  /** `connection:deny` events, one per refusal. */
  readonly events: TypedEventTarget<GaterEvents>

  readonly #denied: Record<GaterDenyReason, number> = { 'deny-list': 0, 'not-allow-listed': 0, 'invalid-address': 0, 'rate-limit': 0, 'pending-limit': 0, 'max-connections': 0 }
  #inboundAdmitted = 0
  /** The inbound limits, counted with the monitor (only when `config` and `monitor` are given). */
  readonly #maxPending: number
  readonly #maxConnections: number

  /**
   * @param init - the gate, the rate limiter, or a config to build them from
   * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
   */
  constructor (init: GaterInit = {}) {
    const problems = new ProblemCollector()
    const options = resolveOptions(GATER_SCHEMA, init, problems)
    const given = options.config === undefined ? undefined : ownOptions('cmGater', GATER_OPTION_SET, options.config, problems)
    if (given !== undefined) {
      const unused = (names: readonly string[], why: string): void => {
        for (const name of names.filter(name => Object.hasOwn(given, name))) {
          refuse(name, why, given[name], problems)
          delete given[name]
        }
      }
      if (options.gate !== undefined) unused(GATE_OPTIONS, 'is not used when `gate` is given: give it to the gate (`createGate`) instead')
      if (options.rateLimiter !== undefined) unused(LIMITER_OPTIONS, 'is not used when `rateLimiter` is given: give it to the rate limiter (`createRateLimiter`) instead')
      if (options.monitor === undefined) unused(COUNTED_OPTIONS, 'needs `monitor`: the gater counts connections with it')
    }
    const config = given === undefined ? undefined : resolveOwnOptions(GATER_OPTIONS, given, problems)
    problems.throwIfAny()
    this.gate = options.gate ?? createGate(config === undefined ? {} : gateOptionsFrom(config))
    this.rateLimiter = options.rateLimiter ?? (config === undefined ? undefined : createRateLimiter(rateLimiterOptionsFrom(config)))
    this.monitor = options.monitor
    const counted = config !== undefined && options.monitor !== undefined
    this.#maxPending = counted ? config.maxIncomingPendingConnections : Number.POSITIVE_INFINITY
    this.#maxConnections = counted ? config.maxConnections : Number.POSITIVE_INFINITY
    this.events = new SafeEventEmitter<GaterEvents>({ onListenerError: options.onListenerError })
  }

  /**
   * Refuses to dial a peer that is denied whatever its address: a deny rule naming the
   * peer alone (in the outbound direction). An allow list is not applied here, since it
   * may admit the peer by address: `denyDialMultiaddr` decides that for each address.
   *
   * @param peerId - the peer to dial
   * @returns `true` to refuse
   */
  denyDialPeer (peerId: PeerId): boolean {
    const peer = peerId.toString()
    const verdict = this.gate.checkPeer(peer, { direction: 'outbound' })
    if (verdict.allowed || verdict.reason !== 'deny-list') {
      return false
    }
    return this.#deny('denyDialPeer', 'outbound', verdict, undefined, peer)
  }

  /**
   * Refuses to dial an address the gate refuses outbound. The address ends with the
   * peer's `/p2p/` ID when the peer is known, and then both are checked.
   *
   * @param multiaddr - the address about to be dialled
   * @returns `true` to refuse
   */
  denyDialMultiaddr (multiaddr: Multiaddr): boolean {
    const verdict = this.gate.check(multiaddr, { direction: 'outbound' })
    return verdict.allowed ? false : this.#deny('denyDialMultiaddr', 'outbound', verdict, multiaddr, undefined)
  }

  /**
   * Refuses an outbound connection, just opened by the transport, whose remote address
   * and peer the gate refuses; reports the attempt to the monitor otherwise.
   *
   * @param peerId - the peer dialled
   * @param maConn - the raw connection
   * @returns `true` to refuse
   */
  denyOutboundConnection (peerId: PeerId, maConn: MultiaddrConnection): boolean {
    const peer = peerId.toString()
    const target = readMultiaddr(maConn.remoteAddr)
    const verdict = this.#check(maConn.remoteAddr, target?.ip, peer, 'outbound')
    if (!verdict.allowed) {
      return this.#deny('denyOutboundConnection', 'outbound', verdict, maConn.remoteAddr, peer)
    }
    this.monitor?._attempt('outbound', maConn, target?.ip)
    return false
  }

  /**
   * Refuses an inbound connection, just accepted, whose remote address the gate refuses;
   * then, unless the address is trusted, when the rate limiter refuses the remote IP, when
   * `maxIncomingPendingConnections` inbound connections are still upgrading, or when the
   * node holds `maxConnections` connections in any state, in `@cm/manager`'s order. A
   * refusal because the node is full costs the host a second attempt of its rate budget
   * (`RateLimiter.charge`), as in the manager. A relayed connection is checked by its peer
   * and never charged to the relay's IP. Reports an admitted connection to the monitor.
   *
   * @param maConn - the raw connection
   * @returns `true` to refuse
   */
  denyInboundConnection (maConn: MultiaddrConnection): boolean {
    const address = maConn.remoteAddr
    const target = readMultiaddr(address)
    const ip = target?.ip
    const verdict = this.#check(address, ip, undefined, 'inbound')
    if (!verdict.allowed) {
      return this.#deny('denyInboundConnection', 'inbound', verdict, address, undefined)
    }
    const monitor = this.monitor
    if (!verdict.trusted) {
      const limiter = this.rateLimiter
      if (ip !== undefined && limiter !== undefined) {
        const result = limiter.tryAcquire(ip)
        if (!result.allowed) {
          return this.#refuse(result.reason, address, result.retryAfterMs)
        }
      }
      const full = (monitor?._limitedPendingInbound ?? 0) >= this.#maxPending
        ? 'pending-limit'
        : monitor !== undefined && monitor.tracker.count() >= this.#maxConnections ? 'max-connections' : undefined
      if (full !== undefined) {
        if (ip !== undefined) limiter?.charge(ip)
        return this.#refuse(full, address, undefined)
      }
    }
    this.#inboundAdmitted++
    monitor?._attempt('inbound', maConn, ip, !verdict.trusted)
    return false
  }

  /**
   * Refuses an inbound connection once the handshake has proven its peer, when the gate
   * refuses the remote address with that peer.
   *
   * @param peerId - the remote peer, proven by the handshake
   * @param maConn - the raw connection
   * @returns `true` to refuse
   */
  denyInboundEncryptedConnection (peerId: PeerId, maConn: MultiaddrConnection): boolean {
    return this.#encrypted('denyInboundEncryptedConnection', 'inbound', peerId, maConn)
  }

  /**
   * Refuses an outbound connection once the handshake has proven its peer, when the gate
   * refuses the remote address with that peer (the peer may differ from the one expected
   * when an address was dialled without a `/p2p/` ID).
   *
   * @param peerId - the remote peer, proven by the handshake
   * @param maConn - the raw connection
   * @returns `true` to refuse
   */
  denyOutboundEncryptedConnection (peerId: PeerId, maConn: MultiaddrConnection): boolean {
    return this.#encrypted('denyOutboundEncryptedConnection', 'outbound', peerId, maConn)
  }

  /**
   * Refuses a peer reaching this node through a relay when it is denied whatever its
   * address (a deny rule naming the peer alone, inbound). Its relayed connection then
   * meets `denyInboundConnection`, where a non-empty allow list admits it only if it names
   * the peer.
   *
   * @param _relay - the relay
   * @param remotePeer - the peer behind the relay
   * @returns `true` to refuse
   */
  denyInboundRelayedConnection (_relay: PeerId, remotePeer: PeerId): boolean {
    const peer = remotePeer.toString()
    const verdict = this.gate.checkPeer(peer, { direction: 'inbound' })
    if (verdict.allowed || verdict.reason !== 'deny-list') {
      return false
    }
    return this.#deny('denyInboundRelayedConnection', 'inbound', verdict, undefined, peer)
  }

  /**
   * Refusals by reason, and inbound connections admitted, since the gater was made.
   *
   * @example
   * ```ts
   * import { cmGater } from '@cm/libp2p'
   *
   * const gater = cmGater({ config: { inboundConnectionThreshold: 5 } })
   * const { denied, inboundAdmitted } = gater.stats()
   * console.log(`${denied['rate-limit']} rate limited, ${inboundAdmitted} admitted`)
   * ```
   */
  stats (): GaterStats {
    return { denied: { ...this.#denied }, inboundAdmitted: this.#inboundAdmitted }
  }

  #encrypted (hook: GaterHook, direction: GateDirection, peerId: PeerId, maConn: MultiaddrConnection): boolean {
    const peer = peerId.toString()
    const target = readMultiaddr(maConn.remoteAddr)
    const verdict = this.#check(maConn.remoteAddr, target?.ip, peer, direction)
    if (!verdict.allowed) {
      this.monitor?._refuse(maConn, CLOSE_REASON_OF[verdict.reason])
      return this.#deny(hook, direction, verdict, maConn.remoteAddr, peer)
    }
    this.monitor?._identify(direction, maConn, target?.ip, peer)
    return false
  }

  /** The gate's verdict: by IP text on the fast path, by multiaddr when it has no IP. */
  #check (address: Multiaddr, ip: string | undefined, peer: string | undefined, direction: GateDirection): GateVerdict {
    const options = peer === undefined ? { direction } : { peer, direction }
    return ip === undefined ? this.gate.check(address, options) : this.gate.check(ip, options)
  }

  /** Counts and reports an inbound refusal that is not the gate's. */
  #refuse (reason: Exclude<GaterDenyReason, 'deny-list' | 'not-allow-listed'>, address: Multiaddr, retryAfterMs: number | undefined): true {
    this.#denied[reason]++
    if (this.events.listenerCount('connection:deny') > 0) {
      const detail: GaterDenyDetail = { hook: 'denyInboundConnection', direction: 'inbound', address: address.toString(), reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }
      this.events.safeDispatchEvent('connection:deny', { detail })
    }
    return true
  }

  #deny (hook: GaterHook, direction: GateDirection, verdict: GateVerdict & { allowed: false }, address: Multiaddr | undefined, peer: string | undefined): true {
    this.#denied[verdict.reason]++
    if (this.events.listenerCount('connection:deny') > 0) {
      const detail: GaterDenyDetail = {
        hook,
        direction,
        reason: verdict.reason,
        ...(address === undefined ? {} : { address: address.toString() }),
        ...(peer === undefined ? {} : { peer }),
        ...(verdict.rule === undefined ? {} : { rule: verdict.rule })
      }
      this.events.safeDispatchEvent('connection:deny', { detail })
    }
    return true
  }
}

/**
 * Creates a {@link CmGater}: a js-libp2p `ConnectionGater` deciding with `@cm/gate` and,
 * for inbound connections, `@cm/rate-limit`.
 *
 * @param init - the gate and rate limiter, or a config to build them from, and a monitor
 * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
 *
 * @example
 * ```ts
 * import { createGate } from '@cm/gate'
 * import { cmGater } from '@cm/libp2p'
 * import { createRateLimiter } from '@cm/rate-limit'
 *
 * const gater = cmGater({
 *   gate: createGate({ denyList: ['10.0.0.0/8', '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'] }),
 *   rateLimiter: createRateLimiter({ threshold: 5 })
 * })
 * // createLibp2p({ connectionGater: gater, ... })
 * ```
 */
export function cmGater (init?: GaterInit): CmGater {
  return new CmGater(init)
}
