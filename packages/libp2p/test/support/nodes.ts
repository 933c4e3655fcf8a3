import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { Libp2p, ServiceMap } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'

/**
 * Real js-libp2p nodes (TCP, noise, yamux) listening on loopback only. Every node made is
 * kept so that `stopNodes()` (in `afterEach`) leaves none running.
 */
const running: Libp2p[] = []

/** A node on 127.0.0.1 with an ephemeral port; `options` are merged over the defaults. */
export async function makeNode<T extends ServiceMap = ServiceMap> (options: Partial<Libp2pOptions<T>> = {}): Promise<Libp2p<T>> {
  const node = await createLibp2p<T>({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // No pings between test nodes, no reconnects: only what a test does happens.
    connectionMonitor: { enabled: false },
    ...options,
    connectionManager: {
      // js-libp2p's own per-host limit (5 per second) would refuse the floods first.
      inboundConnectionThreshold: Number.MAX_SAFE_INTEGER,
      reconnectRetries: 0,
      ...options.connectionManager
    }
  })
  running.push(node)
  return node
}

/** Stops every node made since the last call. */
export async function stopNodes (): Promise<void> {
  const nodes = running.splice(0)
  await Promise.all(nodes.map(async node => { await node.stop() }))
}

/** The node's loopback TCP address, with its peer ID. */
export function addressOf (node: Libp2p): ReturnType<Libp2p['getMultiaddrs']>[number] {
  const address = node.getMultiaddrs().find(candidate => candidate.toString().startsWith('/ip4/127.0.0.1/tcp/'))
  if (address === undefined) throw new Error('the node has no loopback TCP address')
  return address
}

/** Resolves once `condition()` holds, checking every 10 ms; rejects after `timeoutMs`. */
export async function until (condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** The TCP port of the node's loopback address. */
export function portOf (node: Libp2p): number {
  return Number(addressOf(node).toString().split('/')[4])
}
