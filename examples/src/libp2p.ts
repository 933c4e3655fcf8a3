/**
 * Example: @cm guarding a real js-libp2p node (TCP, noise, yamux) on loopback, set up with
 * one call, `cmLibp2p(config)`. The guard refuses a denied peer in both directions, rate
 * limits a flood of connections from one host, prunes a peer down to one connection, and
 * reports it all through its monitor. Exits with status 1 if anything did not happen as
 * expected.
 *
 * Run: pnpm --filter @cm/examples libp2p
 */
// Node 20 only: js-libp2p 3 needs Node 22's Promise.withResolvers (see the file).
import '../../scripts/promise-with-resolvers.mjs'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { cmLibp2p } from '@cm/libp2p'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { Libp2pOptions } from 'libp2p'
import type { Libp2p, ServiceMap } from '@libp2p/interface'

const started = performance.now()

async function makeNode<T extends ServiceMap = ServiceMap> (options: Libp2pOptions<T> = {}): Promise<Libp2p<T>> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    ...options
  })
}

const failures: string[] = []
function check (condition: boolean, what: string): void {
  console.log(`${condition ? 'ok  ' : 'FAIL'}  ${what}`)
  if (!condition) failures.push(what)
}
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

const mallory = await makeNode()
const alice = await makeNode()
const flooders = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(async () => await makeNode()))

// The guard, from one ConnectionConfig: a deny list with Mallory's peer ID, 5 connection
// attempts per second per host (a burst of 5 at most), and one connection per peer.
const guard = await makeNode(cmLibp2p({
  denyList: [mallory.peerId.toString(), '198.51.100.0/24'],
  inboundConnectionThreshold: 5,
  maxConnections: 50,
  maxConnectionsPerPeer: 1
}))
const { gater, monitor, pruning } = guard.services.cm
gater.events.addEventListener('connection:deny', event => {
  const { hook, reason, peer, address } = event.detail
  console.log(`      deny  ${hook}: ${reason} (${peer === undefined ? address : `peer ${peer.slice(-8)}`})`)
})
let pruned = 0
pruning.events.addEventListener('connection:prune', event => {
  const { connection, reason } = event.detail
  pruned++
  console.log(`      prune #${connection.id} of ${connection.peer?.slice(-8) ?? '?'}: ${reason}`)
})
const guardAddress = guard.getMultiaddrs()[0]!
console.log(`guard ${guard.peerId.toString().slice(-8)} listening on ${guardAddress.toString().split('/p2p/')[0] ?? ''}\n`)

try {
  console.log('1. Alice dials the guard twice (one connection per peer)')
  await alice.dial(guardAddress)
  await alice.dial(guardAddress, { force: true })
  for (let waited = 0; pruned === 0 && waited < 5_000; waited += 20) await sleep(20)
  check(pruned === 1 && monitor.tracker.count({ peer: alice.peerId.toString(), state: 'open' }) === 1, 'Alice keeps one connection: the other is pruned')

  console.log('\n2. Mallory, whose peer ID is denied, dials the guard')
  await mallory.dial(guardAddress).catch(() => undefined)
  for (let waited = 0; monitor.tracker.history().length < 2 && waited < 5_000; waited += 20) await sleep(20)
  check(!guard.getConnections().some(connection => connection.remotePeer.equals(mallory.peerId)), 'Mallory is refused once the handshake names her')

  console.log('\n3. the guard dials Mallory')
  const outward = await guard.dial(mallory.getMultiaddrs()[0]!).then(() => 'connected', (error: Error) => error.name)
  check(outward !== 'connected', `the guard does not dial a denied peer (${outward})`)

  console.log('\n4. eight more nodes on 127.0.0.1 connect at once (5 attempts per second per host; Alice and Mallory used 3)')
  const outcomes = await Promise.allSettled(flooders.map(async flooder => await flooder.dial(guardAddress)))
  const admitted = outcomes.filter(outcome => outcome.status === 'fulfilled').length
  console.log(`      admitted ${admitted}, rate limited ${gater.stats().denied['rate-limit']}`)
  check(gater.stats().denied['rate-limit'] >= 2 && admitted + gater.stats().denied['rate-limit'] === flooders.length, 'the flood from one host is rate limited')

  // The dialler's side finishes first; wait for the guard to see the admitted ones open.
  for (let waited = 0; monitor.tracker.count({ state: 'open' }) < 1 + admitted && waited < 5_000; waited += 20) await sleep(20)
  const snapshot = monitor.snapshot()
  console.log(`\nthe guard's view: ${snapshot.connections.open.total} open (${snapshot.connections.open.inbound} inbound), ${snapshot.closed.total} closed ${JSON.stringify(Object.fromEntries(Object.entries(snapshot.closed.byReason).filter(([, count]) => count > 0)))}`)
  check(snapshot.connections.open.total === guard.getConnections().length, 'the monitor counts what the node holds')
  check(snapshot.closed.byReason.denied === 1 && snapshot.closed.byReason.pruned === 1, 'the monitor recorded one denial after the handshake and one prune')
  console.log(`gater: ${JSON.stringify(gater.stats())}`)
} finally {
  await Promise.all([guard, alice, mallory, ...flooders].map(async node => { await node.stop() }))
}

console.log(`\nfinished in ${((performance.now() - started) / 1000).toFixed(1)} s`)
console.log(failures.length === 0 ? 'All as expected.' : `${failures.length} check(s) failed.`)
process.exitCode = failures.length === 0 ? 0 : 1
