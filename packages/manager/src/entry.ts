import type { ConnectionDenyDetail } from './events.ts'
import type { RemoteAddress } from './transport.ts'
import type { ManagedConnection } from './types.ts'
import type { CloseReason, ConnectionRecord } from '@cm/state'

/** What a {@link Managed} connection closes itself through: the manager. */
interface Closer {
  close(id: number, reason?: CloseReason): Promise<void>
}

/** What the manager keeps of a connection it holds. Internal. */
export interface Entry<Raw> {
  readonly record: ConnectionRecord
  readonly direction: 'inbound' | 'outbound'
  readonly remote: RemoteAddress
  raw: Raw | undefined
  managed: ManagedConnection<Raw> | undefined
  trusted: boolean
  /**
   * For a limited pending connection: how much of its host's rate budget was used when it
   * arrived, its own attempt included (0 to 1, from `RateLimiter.usage`). When the pending
   * slots run out, the connection with the most gives way first.
   */
  pressure: number
  /**
   * Aborted when the pending connection closes, to stop its upgrade or dial. Made only for
   * connections that have something to stop (an upgrade, a dial): most have not.
   */
  pendingController: AbortController | undefined
  closing: Promise<void> | undefined
  /** Where to redial after an unexpected close (outbound keep-alive connections). */
  keepAlive: { readonly address: string, readonly peer: string | undefined } | undefined
  /** Why the peer rules refused it, if they did. */
  refusal: ConnectionDenyDetail | undefined
}

/** The {@link ManagedConnection} handed to the application: one object, no closure per connection. */
export class Managed<Raw> implements ManagedConnection<Raw> {
  readonly id: number
  readonly raw: Raw
  readonly record: ConnectionRecord
  readonly #manager: Closer

  constructor (record: ConnectionRecord, raw: Raw, manager: Closer) {
    this.id = record.id
    this.raw = raw
    this.record = record
    this.#manager = manager
  }

  async close (reason?: CloseReason): Promise<void> {
    await this.#manager.close(this.id, reason)
  }
}
