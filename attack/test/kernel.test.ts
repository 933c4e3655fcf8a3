import { createServer, connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { countKernelSockets, parseProcNetTcp, processCpuSeconds } from '../src/kernel.ts'
import type { Server, Socket } from 'node:net'

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9507 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1152609 1 000000001cd35912 100 0 0 10 0
   1: 0100007F:9507 0501047F:D431 04 003A0000:00000000 01:00000020 00000000     0        0 0 3 0000000000000000
`
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:9507 0000000000000000FFFF00000200007F:C350 01 00000010:00000000 00:00000000 00000000     0        0 1 1 0
   1: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:C351 06 00000000:00000000 03:00000100 00000000     0        0 0 3 0
`

describe('parseProcNetTcp()', () => {
  it('reads state, ports, remote address and send queue from /proc/net/tcp', () => {
    expect(parseProcNetTcp(TCP, 4)).toEqual([
      { state: 'LISTEN', localAddress: '127.0.0.1', localPort: 0x9507, remoteAddress: '0.0.0.0', remotePort: 0, sendQueue: 0 },
      { state: 'FIN_WAIT1', localAddress: '127.0.0.1', localPort: 0x9507, remoteAddress: '127.4.1.5', remotePort: 0xd431, sendQueue: 0x3a0000 }
    ])
  })

  it('reads /proc/net/tcp6, with IPv4-mapped remote addresses as dotted quads', () => {
    expect(parseProcNetTcp(TCP6, 6)).toEqual([
      { state: 'ESTABLISHED', localAddress: '127.0.0.1', localPort: 0x9507, remoteAddress: '127.0.0.2', remotePort: 0xc350, sendQueue: 16 },
      { state: 'TIME_WAIT', localAddress: '00000000000000000000000001000000', localPort: 0x1f90, remoteAddress: '00000000000000000000000001000000', remotePort: 0xc351, sendQueue: 0 }
    ])
  })
})

describe('countKernelSockets()', () => {
  it('counts the server side of a port\'s connections, LISTEN left out, and can filter by remote address', async () => {
    const accepted: Socket[] = []
    const server: Server = createServer(socket => { accepted.push(socket) })
    await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
    const port = (server.address() as { port: number }).port
    // Only these clients' sockets: a stale TIME_WAIT socket may hold the random port too.
    const ours = (address: string): boolean => address.startsWith('127.10.') || address.startsWith('127.11.')
    expect(countKernelSockets(port, ours).sockets).toBe(0)
    const clients = await Promise.all(['127.10.0.1', '127.10.0.2', '127.11.0.1'].map(async localAddress => await new Promise<Socket>(resolve => {
      const socket = connect({ port, host: '127.0.0.1', localAddress }, () => { resolve(socket) })
    })))
    while (accepted.length < 3) await new Promise(resolve => setTimeout(resolve, 5))
    expect(countKernelSockets(port, ours)).toMatchObject({ sockets: 3, byState: { ESTABLISHED: 3 } })
    expect(countKernelSockets(port, address => address.startsWith('127.10.')).sockets).toBe(2)
    // A client of the same port number on another local address is not the server's.
    const other: Server = createServer(socket => { socket.on('error', () => {}) })
    await new Promise<void>(resolve => { other.listen(0, '127.0.0.1', resolve) })
    const stranger = await new Promise<Socket>(resolve => {
      const socket = connect({ port: (other.address() as { port: number }).port, host: '127.0.0.1', localAddress: '127.10.0.9', localPort: port }, () => { resolve(socket) })
    })
    // Its remote address would pass this filter: only its local address leaves it out.
    expect(countKernelSockets(port, address => ours(address) || address === '127.0.0.1')).toMatchObject({ sockets: 3, byState: { ESTABLISHED: 3 } })
    stranger.resetAndDestroy()
    other.close()
    for (const socket of [...clients, ...accepted]) socket.resetAndDestroy()
    server.close()
    while (countKernelSockets(port, ours).sockets > 0) await new Promise(resolve => setTimeout(resolve, 5))
  })
})

describe('processCpuSeconds()', () => {
  it('reads a process\'s CPU time, which only grows', () => {
    const before = processCpuSeconds(process.pid)
    let spin = 0
    for (let index = 0; index < 5e7; index++) spin += index
    expect(spin).toBeGreaterThan(0)
    expect(processCpuSeconds(process.pid)).toBeGreaterThan(before)
  })

  it('counts finer than the 10 ms ticks of /proc/<pid>/stat: 3 ms of CPU show as about 3 ms', () => {
    const before = processCpuSeconds(process.pid)
    const start = process.cpuUsage()
    let spin = 0
    while (process.cpuUsage(start).user + process.cpuUsage(start).system < 3_000) spin++
    expect(spin).toBeGreaterThan(0)
    const used = processCpuSeconds(process.pid) - before
    expect(used).toBeGreaterThanOrEqual(0.002)
    expect(used).toBeLessThan(0.05)
  })
})
