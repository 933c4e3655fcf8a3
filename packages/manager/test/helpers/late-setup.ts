import { createConnectionManager } from '../../src/manager.ts'
import { MemoryTransport } from './memory-transport.ts'
import type { ConnectionManagerEvents } from '../../src/events.ts'
import type { ConnectionManager } from '../../src/manager.ts'
import type { ConnectionManagerInit, ManagedConnection } from '../../src/types.ts'
import type { MemoryConnection } from './memory-transport.ts'
import type { ConnectionConfigInit } from '@cm/config'

/** A started manager over a memory transport, listening; what it opened is collected. */
export interface LateSetup {
  readonly manager: ConnectionManager<MemoryConnection>
  readonly transport: MemoryTransport
  readonly opened: Array<ManagedConnection<MemoryConnection>>
}

/** Managers made by {@link lateSetup}, to stop after each test. */
export const lateManagers: Array<ConnectionManager<MemoryConnection>> = []

export async function lateSetup (config: ConnectionConfigInit = {}, init: Partial<ConnectionManagerInit<MemoryConnection>> = {}, transport = new MemoryTransport()): Promise<LateSetup> {
  const opened: Array<ManagedConnection<MemoryConnection>> = []
  const manager = createConnectionManager({ transport, config, onConnection: connection => { opened.push(connection) }, ...init })
  lateManagers.push(manager)
  await manager.start()
  await manager.listen('/ip4/127.0.0.1/tcp/4001')
  return { manager, transport, opened }
}

/** The details of every event of one type, in order. */
export function details<K extends keyof ConnectionManagerEvents> (manager: ConnectionManager<MemoryConnection>, type: K): Array<ConnectionManagerEvents[K]['detail']> {
  const seen: Array<ConnectionManagerEvents[K]['detail']> = []
  manager.events.addEventListener(type, event => { seen.push((event as CustomEvent<ConnectionManagerEvents[K]['detail']>).detail) })
  return seen
}

export const settle = async (): Promise<void> => { for (let index = 0; index < 5; index++) await new Promise(resolve => setImmediate(resolve)) }

export const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
export const OTHER_PEER = 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'
