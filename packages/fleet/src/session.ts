import { connectRedis } from './redis.ts'
import type { ResolvedRedisOptions } from './options.ts'
import type { RedisLink } from './redis.ts'

/**
 * One connection to Redis as the fleet uses it: a link for commands and scripts, and a link
 * of its own for the blocking log read. They fail as one: the first error (of either link,
 * or reported by the fleet) destroys both and rejects `failed`.
 */
export interface Session {
  readonly command: RedisLink
  readonly reader: RedisLink
  /** Rejects with the first failure. */
  readonly failed: Promise<never>
  fail(error: unknown): void
}

/**
 * Opens a {@link Session}: the command link, then the reader link, each named after the
 * node so that `CLIENT LIST` shows who is who.
 *
 * @throws the connection's error, or `signal.reason` (as rejections); nothing is left open
 */
export async function connectSession (options: ResolvedRedisOptions, node: string, signal: AbortSignal): Promise<Session> {
  let fail: (error: unknown) => void = () => {}
  const failed = new Promise<never>((_resolve, reject) => { fail = reject })
  // A failure before anyone awaits it must not be reported as unhandled.
  failed.catch(() => {})
  const links: RedisLink[] = []
  let down = false
  const session: Session = {
    get command (): RedisLink { return links[0] as RedisLink },
    get reader (): RedisLink { return links[1] as RedisLink },
    failed,
    fail: (error: unknown) => {
      if (down) return
      down = true
      for (const link of links) link.destroy()
      fail(error)
    }
  }
  const onError = (error: unknown): void => { session.fail(error) }
  try {
    links.push(await connectRedis(options, `cm-fleet:${node}`, onError, signal))
    signal.throwIfAborted()
    links.push(await connectRedis(options, `cm-fleet:${node}:log`, onError, signal))
    signal.throwIfAborted()
  } catch (error) {
    session.fail(error)
    throw error
  }
  return session
}
