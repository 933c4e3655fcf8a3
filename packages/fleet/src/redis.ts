import { createClient } from '@redis/client'
import type { ResolvedRedisOptions } from './options.ts'
import type { Script } from './scripts.ts'

/** The slice of a Redis client the fleet uses: raw commands, over RESP2. */
export interface RedisLink {
  sendCommand(args: readonly string[], options?: { abortSignal?: AbortSignal }): Promise<unknown>
  destroy(): void
}

/**
 * Connects one client (RESP2, no offline queue, no reconnection of its own: the fleet
 * decides when to try again). Rejects if the connection, TLS or `AUTH` fails within the
 * connect timeout. Errors after that go to `onError`.
 */
export async function connectRedis (options: ResolvedRedisOptions, name: string, onError: (error: unknown) => void, signal?: AbortSignal): Promise<RedisLink> {
  const tls = options.tls
  const socket = {
    connectTimeout: options.connectTimeoutMs,
    reconnectStrategy: false as const,
    ...(tls === true ? { tls: true as const } : typeof tls === 'object' ? { ...tls, tls: true as const } : {})
  }
  const client = createClient({
    url: options.url,
    RESP: 2,
    disableOfflineQueue: true,
    name,
    socket,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.database === undefined ? {} : { database: options.database })
  })
  client.on('error', onError)
  // A failed TLS handshake may leave connect() unsettled: bound it, and let `signal` end it.
  let timer: ReturnType<typeof setTimeout> | undefined
  let onAbort: (() => void) | undefined
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => { reject(new Error(`Could not connect to Redis within ${options.connectTimeoutMs} ms`)) }, options.connectTimeoutMs + 1_000)
        onAbort = () => { reject(signal?.reason) }
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    ])
  } catch (error) {
    if (client.isOpen) client.destroy()
    throw error
  } finally {
    clearTimeout(timer)
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
  }
  return {
    sendCommand: async (args, commandOptions) => await client.sendCommand([...args], commandOptions),
    destroy: () => {
      if (client.isOpen) client.destroy()
    }
  }
}

/** Runs a script by its SHA, loading it with EVAL the first time a server lacks it. */
export async function evalScript (link: RedisLink, script: Script, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args.map(String)]
  try {
    return await link.sendCommand(['EVALSHA', script.sha, ...tail])
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
      return await link.sendCommand(['EVAL', script.source, ...tail])
    }
    throw error
  }
}

/** A Redis integer reply (a number, or its decimal text) as a safe integer, else `undefined`. */
export function integerReply (value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?[0-9]{1,16}$/.test(value) ? Number(value) : Number.NaN
  return Number.isSafeInteger(number) ? number : undefined
}
