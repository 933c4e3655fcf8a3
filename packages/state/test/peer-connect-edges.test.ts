import { describe, expect, it } from 'vitest'
import { createConnectionTracker } from '../src/connection-tracker.ts'

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

describe('peer:connect and a pending connection', () => {
  it('identifying a pending connection of a peer already connected raises no second peer:connect', () => {
    const tracker = createConnectionTracker({ clock: { now: () => 0 } })
    const seen: string[] = []
    tracker.events.addEventListener('peer:connect', event => { seen.push(event.detail.peer) })
    const open = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.1/tcp/1', remoteIp: '10.0.0.1', peer: PEER }).id
    tracker.open(open)
    expect(seen).toEqual([PEER])
    const pending = tracker.add({ direction: 'inbound', remoteAddress: '/ip4/10.0.0.2/tcp/1', remoteIp: '10.0.0.2' }).id
    tracker.identify(pending, PEER)
    expect(seen).toEqual([PEER])
    tracker.open(pending)
    expect(seen).toEqual([PEER])
  })
})
