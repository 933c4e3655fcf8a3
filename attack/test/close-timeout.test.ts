import { describe, expect, it } from 'vitest'
import { attempt, sourceAddress } from '../src/clients.ts'
import { countKernelSockets } from '../src/kernel.ts'
import { ServerProcess } from '../src/server-process.ts'
import type { Socket } from 'node:net'

describe('a close that times out resets the socket', () => {
  it('20 clients that never read, 4 MiB written to each, then a runtime deny: no kernel socket left within connectionCloseTimeout + 200 ms', async () => {
    const connectionCloseTimeout = 500
    const server = await ServerProcess.start({ mode: 'managed', config: { connectionCloseTimeout }, payloadBytes: 4 * 1024 * 1024 })
    const clients: Socket[] = []
    try {
      for (let index = 0; index < 20; index++) {
        const { ending, socket } = await attempt(server.port, sourceAddress(12, index), { hello: true, timeoutMs: 5_000 })
        expect(ending).toBe('served')
        socket.pause() // never reads: the server's kernel buffers fill and stay full
        clients.push(socket)
      }
      // Wait until the kernel holds the unsent data (the graceful close cannot finish).
      for (let waited = 0; countKernelSockets(server.port).sendQueue < 20 * 1024 * 1024 && waited < 5_000; waited += 20) {
        await new Promise(resolve => setTimeout(resolve, 20))
      }
      expect(countKernelSockets(server.port)).toMatchObject({ sockets: 20, byState: { ESTABLISHED: 20 } })
      const closed = await server.request({ type: 'deny', entry: '127.12.0.0/16' })
      expect(closed.closed).toBe(20)
      const started = performance.now()
      let left = countKernelSockets(server.port).sockets
      while (left > 0 && performance.now() - started < connectionCloseTimeout + 200) {
        await new Promise(resolve => setTimeout(resolve, 10))
        left = countKernelSockets(server.port).sockets
      }
      // The clients are all still there, still not reading: the server reset its side.
      expect(clients.every(socket => !socket.destroyed)).toBe(true)
      expect(left).toBe(0)
      expect((await server.stats()).closeTimeouts).toBe(20)
    } finally {
      for (const socket of clients) socket.resetAndDestroy()
      await server.stop()
    }
  })
})
