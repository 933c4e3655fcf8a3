import { ACTIVE_STATES, CLOSE_REASONS, CLOSING, DIRECTIONS, OPEN, PENDING } from './connection-record.ts'
import { InvalidArgumentError } from './errors.ts'
import { hostKeyOf } from './host-key.ts'
import type { ActiveState, Direction } from './connection-record.ts'
import type { HostKey } from './host-key.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

/** What {@link ConnectionTracker.add} needs to know about a new connection. */
export interface AddConnectionInit<Metadata = unknown> {
  /** Whether the remote dialled us (`inbound`) or we dialled it (`outbound`). */
  readonly direction: Direction
  /**
   * The remote address: a multiaddr, or multiaddr text (`/ip4/10.0.0.1/tcp/4001`). Stored
   * as text. When `remoteIp` is not given, text is parsed (a few microseconds; malformed
   * text is refused) and the IP is taken from it; when `remoteIp` is given, text is stored
   * as it is, unparsed.
   */
  readonly remoteAddress: Multiaddr | string
  /**
   * The remote host's IP address text (for example a socket's `remoteAddress`), the key of
   * the host index. Any form `parseIpInto` accepts; stored in canonical form.
   *
   * @default the IP of `remoteAddress`, if it names one
   */
  readonly remoteIp?: string | undefined
  /** The remote peer's ID, if already known (an opaque, non-empty string). */
  readonly peer?: string | undefined
  /** Anything to keep with the connection (for example its socket), stored by reference. */
  readonly metadata?: Metadata | undefined
}

/**
 * Which connections a query selects: the connections matching every filter given. An empty
 * filter selects every connection the tracker holds (pending, open and closing).
 */
export interface ConnectionFilter {
  /** Only connections in this state. */
  readonly state?: ActiveState | undefined
  /** Only connections in this direction. */
  readonly direction?: Direction | undefined
  /** Only connections of this peer. */
  readonly peer?: string | undefined
  /** Only connections from (or to) this IP address, in any form `parseIpInto` accepts. */
  readonly host?: string | undefined
}

const STATE_INDEX: Readonly<Record<string, number>> = Object.freeze({ pending: PENDING, open: OPEN, closing: CLOSING })
const CLOSE_REASON_SET: ReadonlySet<string> = new Set(CLOSE_REASONS)

/** @internal The index of a filter's `state` (-1: any). */
export function stateFilter (state: ActiveState | undefined): number {
  if (state === undefined) return -1
  const index = STATE_INDEX[state]
  // Stryker disable next-line ConditionalExpression: Object.hasOwn() alone refuses every name not listed; the first test narrows the type
  if (index === undefined || !Object.hasOwn(STATE_INDEX, state)) {
    throw new InvalidArgumentError('filter.state', `one of ${ACTIVE_STATES.map(name => `"${name}"`).join(', ')}`, state)
  }
  return index
}

/** @internal The index of a filter's `direction` (-1: any). */
export function directionFilter (direction: Direction | undefined): number {
  if (direction === undefined) return -1
  if (direction === 'inbound') return 0
  if (direction === 'outbound') return 1
  throw new InvalidArgumentError('filter.direction', DIRECTIONS.map(name => `"${name}"`).join(' or '), direction)
}

/** @internal The host key of a filter's `host`; `undefined` when it is not an IP address. */
export function hostKeyOfFilter (host: unknown): HostKey | undefined {
  // Stryker disable next-line ConditionalExpression: parseIpInto() refuses a non-string too; the test narrows the type
  return typeof host === 'string' ? hostKeyOf(host) : undefined
}

/** @internal Throws unless `value` is a non-empty string. */
export function checkNonEmpty (argument: string, value: unknown): void {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(argument, 'a non-empty string', value)
  }
}

/** @internal Throws unless `reason` is a close reason and `error` an `Error` or absent. */
export function checkReason (reason: unknown, error: unknown): void {
  // Stryker disable next-line ConditionalExpression: Set.has() is false for a non-string too; the test narrows the type
  if (typeof reason !== 'string' || !CLOSE_REASON_SET.has(reason)) {
    throw new InvalidArgumentError('reason', `one of ${CLOSE_REASONS.map(name => `"${name}"`).join(', ')}`, reason)
  }
  if (error !== undefined && !(error instanceof Error)) {
    throw new InvalidArgumentError('error', 'an Error', error)
  }
}
