import { createGate } from '@cm/gate'
import { cmGater } from '@cm/libp2p'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { cyclingTask, formatNs, rowNamed } from '../harness.ts'
import type { BenchSuite, BenchTask } from '../harness.ts'
import type { Libp2p, MultiaddrConnection } from '@libp2p/interface'

/**
 * A js-libp2p node's inbound admission, the synchronous work done for every accepted
 * socket before the upgrade starts, with 10,000 deny entries:
 * - through js-libp2p's own `connectionManager.deny` list: `acceptIncomingConnection`
 *   scans it entry by entry (about 1 µs each, js-libp2p.md §4 and §12);
 * - through `@cm/libp2p`'s gater over a `@cm/gate` gate, on a node whose own lists are
 *   empty: `acceptIncomingConnection` (which still runs: pending, rate and maxConnections
 *   checks) followed by the gater's `denyInboundConnection`, as the upgrader calls them.
 *
 * Both are real nodes made with `createLibp2p` (not started: admission needs no listener);
 * the connection manager is reached through `node.components`, as js-libp2p.md §11
 * describes, since its package does not export it. js-libp2p's own rate limit and pending
 * limit are raised out of the way on every node, so each call measures the lists. The deny
 * entries are 10,000 distinct /24 ranges; the remote addresses are 2,048 distinct hosts
 * outside them (misses: the whole list is scanned) or inside them (hits).
 */
const RULES = 10_000
const HOSTS = 2_048

/** The deny entries as multiaddrs (js-libp2p's form; the gate reads the same text). */
function denyEntries (): string[] {
  return Array.from({ length: RULES }, (_, index) => `/ip4/11.${(index >>> 8) & 0xff}.${index & 0xff}.0/ipcidr/24`)
}

/** Raw inbound connections from distinct hosts: inside the denied ranges, or outside. */
function connections (inside: boolean): MultiaddrConnection[] {
  return Array.from({ length: HOSTS }, (_, index) => {
    const value = Math.imul(index + 1, 0x9e3779b1) >>> 0
    const host = inside
      ? `11.${(value % RULES) >>> 8}.${(value % RULES) & 0xff}.${(value >>> 8) & 0xff}`
      : `198.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`
    return { remoteAddr: multiaddr(`/ip4/${host}/tcp/${1024 + (index & 0x3fff)}`), timeline: { open: 0 } } as unknown as MultiaddrConnection
  })
}

/** The connection manager of a node, which js-libp2p's package does not export. */
interface AdmittingManager {
  acceptIncomingConnection(maConn: MultiaddrConnection): boolean
  afterUpgradeInbound(): void
}

function managerOf (node: Libp2p): AdmittingManager {
  return (node as unknown as { components: { connectionManager: AdmittingManager } }).components.connectionManager
}

const LIMITS_OUT_OF_THE_WAY = {
  inboundConnectionThreshold: Number.MAX_SAFE_INTEGER,
  maxIncomingPendingConnections: Number.MAX_SAFE_INTEGER
}

/** A task admitting `batch` connections in turn; `admit` returns whether one was admitted. */
function admitting (name: string, inputs: readonly MultiaddrConnection[], batch: number, admit: (maConn: MultiaddrConnection) => boolean): BenchTask {
  return cyclingTask(name, inputs, batch, admit)
}

const nodes: Libp2p[] = []

export const libp2pSuite: BenchSuite = {
  name: 'libp2p',
  description: `a js-libp2p node's inbound admission with ${RULES.toLocaleString('en')} deny entries: its own deny list against @cm/libp2p's gater`,
  baseline: 'js-libp2p connectionManager.deny, miss',
  tasks: async () => {
    const entries = denyEntries()
    const theirs = await createLibp2p({ start: false, connectionManager: { ...LIMITS_OUT_OF_THE_WAY, deny: entries } })
    const gater = cmGater({ gate: createGate({ denyList: entries }) })
    const ours = await createLibp2p({ start: false, connectionManager: LIMITS_OUT_OF_THE_WAY, connectionGater: gater })
    const bare = await createLibp2p({ start: false, connectionManager: LIMITS_OUT_OF_THE_WAY })
    nodes.push(theirs, ours, bare)
    const theirManager = managerOf(theirs)
    const ourManager = managerOf(ours)
    const bareManager = managerOf(bare)
    const misses = connections(false)
    const hits = connections(true)

    const js = (maConn: MultiaddrConnection): boolean => {
      const accepted = theirManager.acceptIncomingConnection(maConn)
      if (accepted) theirManager.afterUpgradeInbound()
      return accepted
    }
    const cm = (maConn: MultiaddrConnection): boolean => {
      const accepted = ourManager.acceptIncomingConnection(maConn)
      if (accepted) ourManager.afterUpgradeInbound()
      return accepted && !gater.denyInboundConnection(maConn)
    }
    const none = (maConn: MultiaddrConnection): boolean => {
      const accepted = bareManager.acceptIncomingConnection(maConn)
      if (accepted) bareManager.afterUpgradeInbound()
      return accepted
    }

    // Both sides must decide alike before they are timed.
    for (const [inputs, expected] of [[misses, true], [hits, false]] as const) {
      for (const maConn of inputs.slice(0, 64)) {
        if (js(maConn) !== expected || cm(maConn) !== expected) {
          throw new Error(`libp2p suite: ${maConn.remoteAddr.toString()} should be ${expected ? 'admitted' : 'refused'} by both`)
        }
      }
    }

    return [
      admitting('js-libp2p connectionManager.deny, miss', misses, 1, js),
      admitting('js-libp2p connectionManager.deny, hit', hits, 1, js),
      admitting('@cm/libp2p gater, miss', misses, 256, cm),
      admitting('@cm/libp2p gater, hit', hits, 256, cm),
      admitting('js-libp2p, no lists (the floor)', misses, 256, none),
      admitting('@cm/libp2p gater alone (denyInboundConnection), miss', misses, 256, maConn => !gater.denyInboundConnection(maConn))
    ]
  },
  report: async () => {
    await Promise.all(nodes.splice(0).map(async node => { await node.stop() }))
    return {
      lines: [
        '',
        'Per inbound connection: js-libp2p scans its deny list entry by entry; the gater probes one table per prefix length. Both include acceptIncomingConnection\'s other checks (pending, rate, maxConnections), which the floor row shows alone.'
      ]
    }
  },
  targets: [{
    package: '@cm/libp2p',
    target: `admission with ${RULES.toLocaleString('en')} deny entries: the gater faster than js-libp2p's deny list`,
    evaluate: ({ rows }) => {
      const theirs = rowNamed(rows, 'js-libp2p connectionManager.deny, miss').medianNs
      const ours = rowNamed(rows, '@cm/libp2p gater, miss').medianNs
      return { measured: `misses ${formatNs(ours)} against ${formatNs(theirs)} (${Math.round(theirs / ours)}×)`, met: ours < theirs }
    }
  }]
}
