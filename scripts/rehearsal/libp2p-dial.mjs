// Release rehearsal, @cm/libp2p under Node 22: the README's one call sets up a real
// js-libp2p node (TCP, noise, yamux on 127.0.0.1), another node connects to it, and the
// node's monitor sees the connection open.
import { cmLibp2p } from '@cm/libp2p'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'

const base = () => ({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
const node = await createLibp2p({ ...base(), ...cmLibp2p({ maxConnections: 10, maxConnectionsPerPeer: 1 }) })
const other = await createLibp2p(base())
try {
  await other.dial(node.getMultiaddrs()[0])
  const until = Date.now() + 5_000
  while (node.services.cm.monitor.tracker.count({ state: 'open', direction: 'inbound' }) !== 1) {
    if (Date.now() > until) throw new Error('the node\'s monitor never saw the connection open')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  console.log(`@cm/libp2p on Node ${process.versions.node}: a real connection in, seen by the monitor`)
} finally {
  await other.stop()
  await node.stop()
}
