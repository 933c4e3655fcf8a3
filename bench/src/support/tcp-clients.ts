/**
 * A load generator in a process of its own, so that a TCP benchmark measures the server,
 * not the clients sharing its event loop. Driven by IPC: `{ port, count, parallel }` runs
 * `count` connections (connect, read one byte, close), `parallel` at a time, and answers
 * `{ served }` (connections that received their byte).
 */
import { connect } from 'node:net'

interface Job {
  readonly port: number
  readonly count: number
  readonly parallel: number
}

async function once (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = connect({ port, host: '127.0.0.1' })
    let served = false
    socket.once('data', () => { served = true; socket.destroy() })
    socket.on('error', () => {})
    socket.once('close', () => { resolve(served) })
  })
}

process.on('message', (job: Job) => {
  void (async () => {
    let next = 0
    let served = 0
    await Promise.all(Array.from({ length: job.parallel }, async () => {
      while (next < job.count) {
        next++
        if (await once(job.port)) served++
      }
    }))
    process.send?.({ served })
  })()
})
process.on('disconnect', () => { process.exit(0) })
