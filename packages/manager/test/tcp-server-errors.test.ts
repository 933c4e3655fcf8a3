import { connect } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { tcp } from '../src/tcp.ts'
import type * as NodeNet from 'node:net'
import type { Server, Socket } from 'node:net'

// The listener's server is not reachable from outside; catch it as it is made, so a test can
// make it report an accept error (EMFILE when the process is out of descriptors) on demand.
const servers: Server[] = []
vi.mock('node:net', async importOriginal => {
  const net = await importOriginal<typeof NodeNet>()
  const createServer = ((...args: Parameters<typeof net.createServer>) => {
    const server = net.createServer(...args)
    servers.push(server)
    return server
  }) as typeof net.createServer
  return { ...net, default: { ...net, createServer }, createServer }
})

describe('tcp() - a listening server\'s errors', () => {
  it('.listen() - an accept error after listening is not thrown, and the listener keeps accepting', async () => {
    const accepted: Socket[] = []
    const listener = await tcp().listen('/ip4/127.0.0.1/tcp/0', socket => { accepted.push(socket) })
    try {
      expect(servers).toHaveLength(1)
      const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' })
      expect(() => servers[0]!.emit('error', emfile)).not.toThrow()
      const client = connect({ host: '127.0.0.1', port: Number(listener.addresses[0]!.split('/')[4]) })
      await new Promise(resolve => client.once('connect', resolve))
      await expect.poll(() => accepted.length).toBe(1)
      client.destroy()
      accepted[0]!.destroy()
    } finally {
      await listener.close()
    }
  })
})
