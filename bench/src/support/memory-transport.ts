/**
 * A transport with no sockets, for measuring the manager's admission alone: the suite hands
 * each connection to `manager.accept` itself, and closing one costs nothing.
 */
import type { Listener, RemoteAddress, Transport } from '@cm/manager'

/** A raw connection of the in-memory transport: just its remote end. */
export interface MemoryRaw {
  readonly remote: RemoteAddress
}

export const memoryTransport: Transport<MemoryRaw> = {
  dial: () => Promise.reject(new Error('not used')),
  listen: address => Promise.resolve<Listener>({ addresses: [address], close: () => Promise.resolve() }),
  close: () => Promise.resolve(),
  abort: () => {},
  remoteAddress: raw => raw.remote,
  onClose: () => {}
}
