/** Options of {@link reconnectDelay}, resolved. */
export interface ReconnectDelayOptions {
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly factor: number
}

/**
 * The wait before the n-th attempt to reach Redis (from 1): `min(maxDelayMs, initialDelayMs
 * × factor^(n-1))`, less up to half of it at random, so that a fleet whose Redis comes back
 * does not reconnect all at once.
 *
 * @param attempt - the attempt's number, from 1
 * @param options - the first and the longest wait, and the growth
 * @param random - a number in [0, 1)
 */
export function reconnectDelay (attempt: number, options: ReconnectDelayOptions, random: number): number {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** Math.max(0, attempt - 1))
  return Math.max(1, Math.round(base * (1 - Math.min(Math.max(random, 0), 1) / 2)))
}

/** Resolves after `ms`, or rejects with the signal's reason. */
export async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
