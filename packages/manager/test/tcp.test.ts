import { connect, createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidTcpAddressError, tcp } from '../src/tcp.ts'
import type { Listener } from '../src/transport.ts'
import type { Server, Socket } from 'node:net'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup()
  }
})

async function listen (address: string, onConnection: (socket: Socket) => void = () => {}): Promise<Listener> {
  const listener = await tcp().listen(address, onConnection)
  cleanups.push(async () => { await listener.close() })
  return listener
}

function portOf (address: string): number {
  return Number(address.split('/')[4])
}

describe('tcp()', () => {
  it('.listen() and .dial() - connect over IPv4 loopback, with the bound port in the address', async () => {
    const accepted: Socket[] = []
    const listener = await listen('/ip4/127.0.0.1/tcp/0', socket => { accepted.push(socket) })
    expect(listener.addresses[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    const transport = tcp()
    const socket = await transport.dial(listener.addresses[0]!, { signal: AbortSignal.timeout(5_000) })
    cleanups.push(() => { socket.destroy() })
    await expect.poll(() => accepted.length).toBe(1)
    expect(transport.remoteAddress(accepted[0]!)).toEqual({ ip: '127.0.0.1', multiaddr: `/ip4/127.0.0.1/tcp/${socket.localPort}` })
    expect(transport.remoteAddress(socket).multiaddr).toBe(listener.addresses[0])
    accepted[0]!.destroy()
  })

  it('.listen() and .dial() - connect over IPv6 loopback', async () => {
    const accepted: Socket[] = []
    const listener = await listen('/ip6/::1/tcp/0', socket => { accepted.push(socket) })
    expect(listener.addresses[0]).toMatch(/^\/ip6\/::1\/tcp\/\d+$/)
    const socket = await tcp().dial(listener.addresses[0]!, { signal: AbortSignal.timeout(5_000) })
    cleanups.push(() => { socket.destroy() })
    await expect.poll(() => accepted.length).toBe(1)
    expect(tcp().remoteAddress(accepted[0]!).ip).toBe('::1')
    accepted[0]!.destroy()
  })

  it('.dial() - binds to the local address it is given (a distinct loopback source IP)', async () => {
    const accepted: Socket[] = []
    const listener = await listen('/ip4/127.0.0.1/tcp/0', socket => { accepted.push(socket) })
    const socket = await tcp({ localAddress: '127.0.0.2' }).dial(listener.addresses[0]!, { signal: AbortSignal.timeout(5_000) })
    cleanups.push(() => { socket.destroy() })
    await expect.poll(() => accepted.length).toBe(1)
    expect(tcp().remoteAddress(accepted[0]!).ip).toBe('127.0.0.2')
    accepted[0]!.destroy()
  })

  it('.dial() - rejects with the signal\'s reason and leaves no socket when aborted', async () => {
    // A listener that never accepts: a full backlog would stall a real dial; an aborted signal suffices.
    const reason = new Error('give up')
    await expect(tcp().dial('/ip4/127.0.0.1/tcp/9', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
  })

  it('.dial() - rejects with the socket error when nothing listens', async () => {
    const listener = await listen('/ip4/127.0.0.1/tcp/0')
    const address = listener.addresses[0]!
    await listener.close()
    await expect(tcp().dial(address, { signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })

  it('.listen() - close() stops accepting at once and resolves while accepted connections stay open', async () => {
    const accepted: Socket[] = []
    const listener = await listen('/ip4/127.0.0.1/tcp/0', socket => { accepted.push(socket) })
    const address = listener.addresses[0]!
    const socket = await tcp().dial(address, { signal: AbortSignal.timeout(5_000) })
    cleanups.push(() => { socket.destroy() })
    await expect.poll(() => accepted.length).toBe(1)
    await listener.close()
    expect(accepted[0]!.destroyed).toBe(false)
    await expect(tcp().dial(address, { signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    accepted[0]!.destroy()
  })

  it.each([
    '/dns4/localhost/tcp/1',
    '/ip4/127.0.0.1/udp/1',
    '/ip4/127.0.0.1',
    '/ip4/127.0.0.1/tcp/1/ws',
    'not a multiaddr'
  ])('.dial() - refuses %s with InvalidTcpAddressError', async address => {
    await expect(tcp().dial(address, { signal: AbortSignal.timeout(1_000) })).rejects.toBeInstanceOf(InvalidTcpAddressError)
  })

  it('.close() - closes gracefully when the peer closes its side too', async () => {
    const server: Server = createServer(socket => { socket.on('end', () => { socket.end() }) })
    await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
    cleanups.push(async () => { await new Promise(resolve => { server.close(resolve) }) })
    const port = (server.address() as { port: number }).port
    const transport = tcp()
    const socket = await transport.dial(`/ip4/127.0.0.1/tcp/${port}`, { signal: AbortSignal.timeout(5_000) })
    await transport.close(socket, { signal: AbortSignal.timeout(5_000) })
    expect(socket.destroyed).toBe(true)
  })

  it('.close() - rejects with the signal\'s reason when the peer never finishes closing, and .abort() destroys', async () => {
    // The peer keeps its side open and never reads: our FIN is not answered.
    const held: Socket[] = []
    const server: Server = createServer({ allowHalfOpen: true }, socket => { held.push(socket) })
    await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
    cleanups.push(async () => {
      for (const socket of held) socket.destroy()
      await new Promise(resolve => { server.close(resolve) })
    })
    const port = (server.address() as { port: number }).port
    const transport = tcp()
    const socket = await transport.dial(`/ip4/127.0.0.1/tcp/${port}`, { signal: AbortSignal.timeout(5_000) })
    const controller = new AbortController()
    const closing = transport.close(socket, { signal: controller.signal })
    const reason = new Error('close timeout')
    controller.abort(reason)
    await expect(closing).rejects.toBe(reason)
    expect(socket.destroyed).toBe(false)
    transport.abort(socket)
    expect(socket.destroyed).toBe(true)
  })

  it('.onClose() - reports a remote close, and an already destroyed socket', async () => {
    const accepted: Socket[] = []
    const listener = await listen('/ip4/127.0.0.1/tcp/0', socket => { accepted.push(socket) })
    const transport = tcp()
    const socket = await transport.dial(listener.addresses[0]!, { signal: AbortSignal.timeout(5_000) })
    const closed = new Promise<Error | undefined>(resolve => { transport.onClose(socket, resolve) })
    await expect.poll(() => accepted.length).toBe(1)
    accepted[0]!.destroy()
    await expect(closed).resolves.toBeUndefined()
    const late = new Promise<Error | undefined>(resolve => { transport.onClose(socket, resolve) })
    await expect(late).resolves.toBeUndefined()
  })

  it('.listen() - the listener stops accepting when closed', async () => {
    const listener = await tcp().listen('/ip4/127.0.0.1/tcp/0', () => {})
    await listener.close()
    await listener.close() // idempotent
    const error = await new Promise<Error>(resolve => {
      const socket = connect(portOf(listener.addresses[0]!), '127.0.0.1')
      socket.once('error', resolve)
    })
    expect(error).toMatchObject({ code: 'ECONNREFUSED' })
  })
})
