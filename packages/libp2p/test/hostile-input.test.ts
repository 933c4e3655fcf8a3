import { InvalidConfigError } from '@cm/config'
import { multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { cmLibp2p } from '../src/cm-libp2p.ts'
import { cmGater } from '../src/gater.ts'
import { createNodeMonitor } from '../src/monitor.ts'
import type { MonitoredNode } from '../src/monitor.ts'
import type { Connection, MultiaddrConnection, PeerId } from '@libp2p/interface'

const MEGABYTE = 1024 * 1024

function rawConnection (address: ReturnType<typeof multiaddr>): MultiaddrConnection & EventTarget {
  return Object.assign(new EventTarget(), { remoteAddr: address, timeline: { open: 0 } }) as unknown as MultiaddrConnection & EventTarget
}

/** A peer ID as the gater sees one: anything with a toString(). */
function peer (text: string): PeerId {
  return { toString: () => text } as unknown as PeerId
}

const HOOKS = ['denyDialPeer', 'denyDialMultiaddr', 'denyInboundConnection', 'denyOutboundConnection', 'denyInboundEncryptedConnection', 'denyOutboundEncryptedConnection', 'denyInboundRelayedConnection'] as const

describe('cmGater() on hostile input', () => {
  const addresses = fc.oneof(
    fc.constantFrom('/ip4/192.0.2.1/tcp/1', '/ip6/::1/tcp/1', '/ip4/10.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA', '/dns4/example.com/tcp/443', '/ip4/192.0.2.1/tcp/1/p2p-circuit/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'),
    fc.tuple(fc.ipV4(), fc.nat(65_535)).map(([ip, port]) => `/ip4/${ip}/tcp/${port}`),
    fc.tuple(fc.ipV6(), fc.nat(65_535)).map(([ip, port]) => `/ip6/${ip}/tcp/${port}`)
  ).map(text => multiaddr(text))
  const peers = fc.oneof(fc.string({ maxLength: 200 }), fc.nat(5).map(exponent => `1${'2'.repeat(10 ** exponent)}`), fc.constant(`Q${'m'.repeat(MEGABYTE)}`))

  it('every hook answers a boolean, never throws, for any address and any peer text', () => {
    const monitor = createNodeMonitor()
    monitor.start({ status: 'started', peerStore: {} as never, getConnections: () => [], addEventListener: () => undefined, removeEventListener: () => undefined } satisfies MonitoredNode)
    const gater = cmGater({ config: { denyList: ['10.0.0.0/8', '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'], allowList: ['192.0.2.0/24', '::1'], inboundConnectionThreshold: 1_000 }, monitor })
    fc.assert(fc.property(addresses, peers, fc.constantFrom(...HOOKS), (address, peerText, hook) => {
      const raw = rawConnection(address)
      const answer = hook === 'denyDialPeer'
        ? gater.denyDialPeer(peer(peerText))
        : hook === 'denyDialMultiaddr'
          ? gater.denyDialMultiaddr(address)
          : hook === 'denyInboundConnection'
            ? gater.denyInboundConnection(raw)
            : hook === 'denyInboundRelayedConnection'
              ? gater.denyInboundRelayedConnection(peer(peerText), peer(peerText))
              : gater[hook](peer(peerText), raw)
      expect(typeof answer).toBe('boolean')
    }), { numRuns: 1_000 })
  })

  it('cmGater() and cmLibp2p() refuse any malformed config with an InvalidConfigError, never another error', () => {
    fc.assert(fc.property(fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom('denyList', 'allowList', 'maxConnections', 'rateLimit', 'dialTimeout', 'bogus'), fc.anything())), config => {
      for (const make of [() => cmGater({ config: config as never }), () => cmLibp2p(config as never)]) {
        try {
          make()
        } catch (error) {
          expect(InvalidConfigError.isInstance(error)).toBe(true)
          expect((error as Error).message.length).toBeLessThan(25 * 600)
        }
      }
    }), { numRuns: 500 })
  })
})

describe('createNodeMonitor() - nothing per close on a long-lived signal', () => {
  it('.close() with a caller signal that outlives it combines no signals with AbortSignal.any, and leaves no listener on it', async () => {
    const listeners: Array<(event: CustomEvent<Connection>) => void> = []
    const node = { status: 'started', peerStore: {} as never, getConnections: () => [], addEventListener: (_type: string, listener: (event: CustomEvent<Connection>) => void) => { listeners.push(listener) }, removeEventListener: () => undefined } as unknown as MonitoredNode
    const monitor = createNodeMonitor({ connectionCloseTimeout: 1_000 })
    monitor.start(node)
    const any = vi.spyOn(AbortSignal, 'any')
    const caller = new AbortController()
    const added = vi.spyOn(caller.signal, 'addEventListener')
    const removed = vi.spyOn(caller.signal, 'removeEventListener')
    try {
      for (let index = 0; index < 20; index++) {
        const connection = Object.assign(new EventTarget(), {
          status: 'open',
          direction: 'inbound',
          remoteAddr: multiaddr(`/ip4/192.0.2.${index + 1}/tcp/1`),
          remotePeer: peer(`peer-${index}`),
          timeline: { open: 0 },
          streams: [],
          close: async () => {},
          abort: () => {}
        }) as unknown as Connection
        for (const listener of listeners) listener(new CustomEvent('connection:open', { detail: connection }))
        expect(await monitor.close(connection, 'local', { signal: caller.signal })).toBe(true)
      }
      expect(any).not.toHaveBeenCalled()
      expect(added).toHaveBeenCalledTimes(20)
      expect(removed).toHaveBeenCalledTimes(20)
    } finally {
      any.mockRestore()
      monitor.stop()
    }
  })
})
