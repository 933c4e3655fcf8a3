/**
 * Options accepted as the last argument of every asynchronous `@cm` method.
 *
 * @example
 * ```ts
 * import type { AbortOptions } from '@cm/config'
 *
 * async function work (options: AbortOptions = {}): Promise<void> {
 *   options.signal?.throwIfAborted()
 * }
 *
 * await work({ signal: AbortSignal.timeout(1_000) })
 * ```
 */
export interface AbortOptions {
  /**
   * Aborts the operation. The returned promise then rejects with `signal.reason`.
   */
  signal?: AbortSignal | undefined
}
