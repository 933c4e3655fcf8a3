import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidTcpAddressError, tcp } from '../src/tcp.ts'
import type { Listener } from '../src/transport.ts'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup()
  }
})

async function listen (address: string, onConnection: (socket: Socket) => void = socket => { socket.destroy() }, options: Parameters<typeof tcp>[0] = {}): Promise<Listener> {
  const listener = await tcp(options).listen(address, onConnection)
  cleanups.push(async () => { await listener.close() })
  return listener
}

/** Connects a plain client; resolves `true` once connected, `false` when refused. */
async function reaches (host: string, port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = connect({ host, port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { resolve(false) })
  })
}

/** A connected pair of plain sockets on IPv4 loopback. */
async function socketPair (): Promise<{ client: Socket, accepted: Socket }> {
  const accepted: Socket[] = []
  const server = createServer(socket => { accepted.push(socket) })
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  cleanups.push(() => { server.close() })
  const { port } = server.address() as { port: number }
  const client = connect({ host: '127.0.0.1', port })
  cleanups.push(() => { client.destroy(); for (const socket of accepted) socket.destroy() })
  await new Promise(resolve => client.once('connect', resolve))
  await expect.poll(() => accepted.length).toBe(1)
  return { client, accepted: accepted[0]! }
}

function portOf (address: string | undefined): number {
  return Number(address?.split('/')[4])
}

describe('tcp() - addresses', () => {
  it.each([
    '/ip4/127.0.0.1/udp/4001',
    '/ip4/127.0.0.1',
    '/ip4/127.0.0.1/tcp/4001/ws',
    '/dns4/localhost/tcp/4001',
    '/tcp/4001/ip4/127.0.0.1',
    // No component at all: the empty multiaddr parses.
    '/'
  ])('.dial() and .listen() - refuse %s, naming the address and what was expected', async address => {
    const dial = tcp().dial(address, { signal: AbortSignal.timeout(5_000) })
    await expect(dial).rejects.toThrow(InvalidTcpAddressError)
    await expect(dial).rejects.toMatchObject({ name: 'InvalidTcpAddressError', address })
    await expect(dial).rejects.toThrow(`as a TCP address: expected /ip4/<address>/tcp/<port> or /ip6/<address>/tcp/<port>`)
    await expect(dial).rejects.toThrow(address)
    await expect(tcp().listen(address, () => {})).rejects.toThrow(InvalidTcpAddressError)
  })

  it('.listen() - on the IPv6 wildcard accepts IPv4 clients too, and reports them as /ip4', async () => {
    const accepted: Socket[] = []
    const listener = await listen('/ip6/::/tcp/0', socket => { accepted.push(socket) })
    expect(listener.addresses[0]).toMatch(/^\/ip6\/::\/tcp\/\d+$/)
    const client = connect({ host: '127.0.0.1', port: portOf(listener.addresses[0]) })
    cleanups.push(() => { client.destroy() })
    await new Promise(resolve => client.once('connect', resolve))
    await expect.poll(() => accepted.length).toBe(1)
    cleanups.push(() => { accepted[0]!.destroy() })
    expect(tcp().remoteAddress(accepted[0]!)).toEqual({ ip: '127.0.0.1', multiaddr: `/ip4/127.0.0.1/tcp/${client.localPort}` })
  })

  it('.listen() - with ipv6Only an IPv6 listener refuses IPv4 clients', async () => {
    const listener = await listen('/ip6/::/tcp/0', undefined, { ipv6Only: true })
    const port = portOf(listener.addresses[0])
    expect(await reaches('::1', port)).toBe(true)
    expect(await reaches('127.0.0.1', port)).toBe(false)
  })

  it('.listen() - ipv6Only does not stop an IPv4 listener', async () => {
    const listener = await listen('/ip4/127.0.0.1/tcp/0', undefined, { ipv6Only: true })
    expect(await reaches('127.0.0.1', portOf(listener.addresses[0]))).toBe(true)
  })

  it.runIf(process.platform === 'linux')('.listen() - asks the kernel for the backlog given (ss shows it as Send-Q)', async () => {
    const listener = await listen('/ip4/127.0.0.1/tcp/0', undefined, { backlog: 7 })
    const line = execFileSync('ss', ['-ltnH', `sport = :${portOf(listener.addresses[0])}`]).toString().trim()
    expect(line.split(/\s+/)[2]).toBe('7')
  })

  it('.listen() - rejects with the listen error when the port is taken', async () => {
    const first = await listen('/ip4/127.0.0.1/tcp/0')
    await expect(tcp().listen(first.addresses[0]!, () => {})).rejects.toMatchObject({ code: 'EADDRINUSE' })
  })

  it('.remoteAddress() - a socket that never connected has no address', () => {
    expect(tcp().remoteAddress(new Socket())).toEqual({ multiaddr: '/tcp/0' })
  })

  it('.remoteAddress() - an IPv6 host it cannot read is passed through as /ip6', () => {
    const socket = { remoteAddress: 'not:an-ip', remotePort: 4001 } as unknown as Socket
    expect(tcp().remoteAddress(socket)).toEqual({ ip: 'not:an-ip', multiaddr: '/ip6/not:an-ip/tcp/4001' })
  })
})

describe('tcp() - dial, close, abort', () => {
  it('.dial() - rejects with the signal\'s reason when aborted while connecting, and the socket is not kept', async () => {
    const accepted: Socket[] = []
    const listener = await listen('/ip4/127.0.0.1/tcp/0', socket => { accepted.push(socket) })
    const controller = new AbortController()
    const reason = new Error('changed my mind')
    const dial = tcp().dial(listener.addresses[0]!, { signal: controller.signal })
    controller.abort(reason)
    await expect(dial).rejects.toBe(reason)
    // Whatever reached the server is closed from the client side.
    for (const socket of accepted) {
      await new Promise(resolve => { if (socket.closed) resolve(undefined); else { socket.once('close', resolve); socket.resume() } })
    }
  })

  it('.dial() - leaves none of its own listeners on the socket it returns', async () => {
    const listener = await listen('/ip4/127.0.0.1/tcp/0', () => {})
    const socket = await tcp().dial(listener.addresses[0]!, { signal: AbortSignal.timeout(5_000) })
    cleanups.push(() => { socket.destroy() })
    expect(socket.listenerCount('error')).toBe(0)
    expect(socket.listenerCount('connect')).toBe(0)
  })

  it('.close() - resolves at once for a socket already destroyed', async () => {
    const { client } = await socketPair()
    client.destroy()
    await new Promise(resolve => client.once('close', resolve))
    await expect(tcp().close(client, { signal: AbortSignal.timeout(5_000) })).resolves.toBeUndefined()
  })

  it('.close() - an aborted close leaves no listener of its own on the socket', async () => {
    const { client } = await socketPair()
    const before = client.listenerCount('close')
    const controller = new AbortController()
    const closing = tcp().close(client, { signal: controller.signal })
    controller.abort(new Error('too slow'))
    await expect(closing).rejects.toThrow('too slow')
    expect(client.listenerCount('close')).toBe(before)
  })

  it('.abort() - a socket already destroyed is left as it is', async () => {
    const { client } = await socketPair()
    client.destroy()
    const before = client.listenerCount('error')
    tcp().abort(client)
    expect(client.listenerCount('error')).toBe(before)
  })

  it('.abort() - destroys a socket still connecting at once', async () => {
    const listener = await listen('/ip4/127.0.0.1/tcp/0')
    const socket = connect({ host: '127.0.0.1', port: portOf(listener.addresses[0]) })
    expect(socket.connecting).toBe(true)
    tcp().abort(socket, new Error('refused'))
    expect(socket.destroyed).toBe(true)
  })

  it('.abort() - destroys a socket that is not TCP (a Unix pipe)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'cm-tcp-'))
    cleanups.push(() => { rmSync(directory, { recursive: true, force: true }) })
    const path = join(directory, 'pipe')
    const accepted: Socket[] = []
    const server = createServer(socket => { accepted.push(socket) })
    await new Promise<void>(resolve => { server.listen(path, resolve) })
    cleanups.push(() => { server.close(); for (const socket of accepted) socket.destroy() })
    const socket = connect({ path })
    await new Promise(resolve => socket.once('connect', resolve))
    tcp().abort(socket)
    expect(socket.destroyed).toBe(true)
  })

  it('.onClose() - reports the error the socket closed with', async () => {
    const { client } = await socketPair()
    const reported = new Promise<Error | undefined>(resolve => { tcp().onClose(client, resolve) })
    const error = new Error('broken')
    client.destroy(error)
    await expect(reported).resolves.toBe(error)
  })
})
