import { connect } from 'node:net'

/**
 * One connection attempt from `localAddress` (a loopback address playing a host) to a node
 * that writes `ok` to every connection it admits. Resolves `admitted` when the greeting
 * arrives, `refused` when the node closes or resets the connection first.
 */
export async function attempt (port: number, localAddress: string, timeoutMs = 3_000): Promise<'admitted' | 'refused'> {
  return await new Promise(resolve => {
    const socket = connect({ host: '127.0.0.1', port, localAddress })
    let settled = false
    const done = (outcome: 'admitted' | 'refused'): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => { done('refused') }, timeoutMs)
    socket.on('data', () => { done('admitted') })
    socket.on('error', () => { done('refused') })
    socket.on('close', () => { done('refused') })
  })
}

/** The port of a multiaddr such as `/ip4/127.0.0.1/tcp/4001`. */
export function portOf (address: string | undefined): number {
  return Number(address?.split('/')[4])
}
