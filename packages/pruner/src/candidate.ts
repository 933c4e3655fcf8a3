/**
 * The identity of a connection: unique among the candidates of one selection. Ties in every
 * strategy are broken by it (numbers before strings, numbers in numeric order, strings in
 * code-unit order), so a selection never depends on the order of its input.
 *
 * @example
 * ```ts
 * import type { CandidateId } from '@cm/pruner'
 *
 * const ids: CandidateId[] = [17, 'connection-42']
 * ```
 */
export type CandidateId = string | number

/**
 * Which side opened a connection: `'inbound'` (the remote dialled us) or `'outbound'` (we
 * dialled).
 *
 * @example
 * ```ts
 * import type { ConnectionDirection } from '@cm/pruner'
 *
 * const direction: ConnectionDirection = 'inbound'
 * ```
 */
export type ConnectionDirection = 'inbound' | 'outbound'

/**
 * What the pruner needs to know about one open connection. The caller (the manager) builds
 * these from its own records; the pruner never sees sockets. A caller may pass objects
 * with more fields (its own connection, say): the victims returned are the very objects
 * given.
 *
 * @example
 * ```ts
 * import type { PruneCandidate } from '@cm/pruner'
 *
 * const candidate: PruneCandidate = {
 *   id: 'connection-1',
 *   peer: '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA',
 *   direction: 'inbound',
 *   openedAt: 12_000, // milliseconds, from the same clock as `now`
 *   streams: 2,
 *   value: 50 // the sum of the peer's tag values
 * }
 * ```
 */
export interface PruneCandidate {
  /** The connection's identity, unique among the candidates. See {@link CandidateId}. */
  readonly id: CandidateId
  /**
   * The remote peer, once identified: the key that protections (see
   * {@link ProtectionRegistry}) and per-peer pruning use. Give the same text form
   * everywhere (for libp2p, `peerId.toString()`). Absent for an unidentified connection,
   * which no protection by peer can cover.
   */
  readonly peer?: string | undefined
  /** Which side opened the connection. */
  readonly direction: ConnectionDirection
  /**
   * When the connection opened, in milliseconds from the same clock as the selection's
   * `now` (the pruner's `clock`). A finite number.
   */
  readonly openedAt: number
  /** How many streams are open on the connection. An integer >= 0. */
  readonly streams: number
  /**
   * How much the connection is worth keeping: for libp2p, the sum of the remote peer's tag
   * values. The caller computes it; only its order matters. A finite number.
   */
  readonly value: number
  /**
   * Never selected when `true`: a protection the caller decided itself, besides the
   * protections by peer kept in a {@link ProtectionRegistry}.
   */
  readonly protected?: boolean | undefined
  /**
   * Never selected when `true`: the remote address is trusted (for the manager: the gate
   * said so). Trusted connections still count towards the limits.
   */
  readonly trusted?: boolean | undefined
}
