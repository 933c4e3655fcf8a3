import type { Listener, RemoteAddress, SignalOptions, Transport } from '../../src/transport.ts'

let nextPort = 40_000

/** A connection of the in-memory transport. */
export class MemoryConnection {
  static #next = 1
  readonly id = MemoryConnection.#next++
  readonly remote: RemoteAddress
  /** How a graceful close behaves: finish at once, or never (until aborted). */
  closeBehaviour: 'finish' | 'hang' = 'finish'
  closed = false
  aborted = false
  readonly #listeners: Array<(error?: Error) => void> = []

  constructor (remote: RemoteAddress) {
    this.remote = remote
  }

  onClose (listener: (error?: Error) => void): void {
    if (this.closed) {
      queueMicrotask(() => { listener() })
      return
    }
    this.#listeners.push(listener)
  }

  /** Closes the connection from the remote end (or with an error). */
  remoteClose (error?: Error): void {
    this.#finish(error)
  }

  finishClose (): void {
    this.#finish()
  }

  #finish (error?: Error): void {
    if (this.closed) return
    this.closed = true
    for (const listener of this.#listeners.splice(0)) listener(error)
  }
}

/** A dial's fate in the memory transport. */
export type DialBehaviour = 'connect' | 'refuse' | 'hang'

/**
 * A transport without sockets, for testing the manager's logic: inbound connections are
 * injected, dials succeed, fail or hang as told, and graceful closes finish or hang.
 */
export class MemoryTransport implements Transport<MemoryConnection> {
  readonly #listeners = new Set<(raw: MemoryConnection) => void>()
  /** How dials to each address behave (default: connect). */
  readonly dialBehaviour = new Map<string, DialBehaviour>()
  readonly dialled: string[] = []
  readonly connections: MemoryConnection[] = []
  /** Dials in progress (started, not settled). */
  inFlight = 0
  maxInFlight = 0

  async dial (address: string, options: SignalOptions): Promise<MemoryConnection> {
    options.signal.throwIfAborted()
    this.dialled.push(address)
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      const behaviour = this.dialBehaviour.get(address) ?? 'connect'
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { reject(options.signal.reason) }
        options.signal.addEventListener('abort', onAbort, { once: true })
        if (behaviour === 'hang') return
        queueMicrotask(() => {
          options.signal.removeEventListener('abort', onAbort)
          if (behaviour === 'refuse') {
            reject(Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' }))
          } else {
            resolve()
          }
        })
      })
      const ip = address.split('/')[2]
      const connection = new MemoryConnection({ ip, multiaddr: address })
      this.connections.push(connection)
      return connection
    } finally {
      this.inFlight--
    }
  }

  async listen (address: string, onConnection: (raw: MemoryConnection) => void): Promise<Listener> {
    this.#listeners.add(onConnection)
    return {
      addresses: [address],
      close: async () => { this.#listeners.delete(onConnection) }
    }
  }

  /** An inbound connection from `ip`, handed to every listener. */
  inject (ip: string, port = nextPort++): MemoryConnection {
    const family = ip.includes(':') ? 'ip6' : 'ip4'
    const connection = new MemoryConnection({ ip, multiaddr: `/${family}/${ip}/tcp/${port}` })
    this.connections.push(connection)
    for (const listener of this.#listeners) listener(connection)
    return connection
  }

  async close (raw: MemoryConnection, options: SignalOptions): Promise<void> {
    if (raw.closed) return
    options.signal.throwIfAborted()
    if (raw.closeBehaviour === 'finish') {
      raw.finishClose()
      return
    }
    await new Promise<void>((resolve, reject) => {
      raw.onClose(() => { resolve() })
      options.signal.addEventListener('abort', () => { reject(options.signal.reason) }, { once: true })
    })
  }

  abort (raw: MemoryConnection): void {
    raw.aborted = true
    raw.finishClose()
  }

  remoteAddress (raw: MemoryConnection): RemoteAddress {
    return raw.remote
  }

  onClose (raw: MemoryConnection, listener: (error?: Error) => void): void {
    raw.onClose(listener)
  }
}
