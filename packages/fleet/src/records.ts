import { tryParseAddressEntry } from '@cm/config/address'
import type { FleetWidestAllow } from './options.ts'
import type { GateList } from '@cm/gate'

/**
 * One rule of the fleet, as every node holds it.
 *
 * @example
 * ```ts
 * import type { FleetRule } from '@cm/fleet'
 *
 * const rule: FleetRule = {
 *   list: 'deny',
 *   entry: '203.0.113.0/24',
 *   expiresAt: Date.parse('2026-12-01T00:00:00Z'),
 *   seq: 42,
 *   by: 'relay-eu-1'
 * }
 * ```
 */
export interface FleetRule {
  /** The gate list the rule is on. */
  readonly list: GateList
  /** The entry, in its canonical text (as `@cm/gate` names rules). */
  readonly entry: string
  /**
   * When the rule lapses, in milliseconds since the epoch by Redis's clock; absent for a
   * rule that does not lapse. Every node lapses it at this time, whatever its own clock.
   */
  readonly expiresAt?: number
  /** The rule's position in the fleet's log: the change that set it. */
  readonly seq: number
  /** Who wrote it: a node's name, `budget` for a budget block, or an operator's name. */
  readonly by: string
}

/** A change read from the log, validated. */
export interface RuleChange {
  readonly op: 'set' | 'del'
  readonly list: GateList
  readonly entry: string
  /** 0: never lapses. */
  readonly expiresAt: number
  readonly seq: number
  readonly by: string
}

/**
 * Why a record read from Redis was refused. A malformed record (which the fleet's own
 * scripts never write) has no sequence number; a well-formed one that this node's policy
 * refuses (`accept`, `widestAllow`) keeps its own, since it took a place in the log.
 */
export interface Refusal {
  readonly reason: string
  /** The record's sequence number, for a well-formed record refused by policy. */
  readonly seq?: number
}

/** The longest entry text accepted from Redis (a multiaddr with an IPv6 range and a peer ID fits). */
export const MAX_ENTRY_LENGTH = 256
/** The longest writer name accepted. */
export const MAX_WRITER_LENGTH = 64
/** The most fields a log entry may have. */
const MAX_FIELDS = 32
/** The largest time or sequence number accepted: beyond, integers lose precision. */
const MAX_INTEGER = Number.MAX_SAFE_INTEGER

const LISTS: ReadonlySet<string> = new Set(['deny', 'allow', 'trusted'])
const WRITER = /^[\x21-\x7e]{1,64}$/
const DIGITS = /^(0|[1-9][0-9]{0,15})$/
/** A hash value: `seq expiresAt by at`. */
const HASH_VALUE = /^([1-9][0-9]{0,15}) (0|[1-9][0-9]{0,15}) ([\x21-\x7e]{1,64}) (0|[1-9][0-9]{0,15})$/

function integer (text: string): number | undefined {
  if (!DIGITS.test(text)) return undefined
  const value = Number(text)
  return value <= MAX_INTEGER ? value : undefined
}

/** A short, printable preview of untrusted text, for reports. */
export function preview (value: unknown): string {
  const text = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('latin1') : JSON.stringify(value) ?? String(value)
  // eslint-disable-next-line no-control-regex -- replacing control characters is the point
  const printable = text.slice(0, 80).replace(/[\x00-\x1f\x7f-\uffff]/g, '?')
  return text.length > 80 ? `${printable}…` : printable
}

/**
 * Checks a list and an entry read from Redis: a known list, and an entry that
 * `@cm/config` parses and that is already in its canonical text (two spellings of one
 * rule would be two rules in Redis), within the size bounds and the allow policy.
 */
export function checkRule (list: unknown, entry: unknown, accept: readonly GateList[], widest: FleetWidestAllow): { readonly reason: string, readonly policy: boolean } | undefined {
  if (typeof list !== 'string' || !LISTS.has(list)) {
    return { reason: `unknown list ${JSON.stringify(preview(list))}`, policy: false }
  }
  if (typeof entry !== 'string' || entry.length === 0 || entry.length > MAX_ENTRY_LENGTH) {
    return { reason: `entry is not a string of 1 to ${MAX_ENTRY_LENGTH} characters`, policy: false }
  }
  const parsed = tryParseAddressEntry(entry)
  if (!parsed.ok) {
    return { reason: `malformed entry ${JSON.stringify(preview(entry))}: ${parsed.reason}`, policy: false }
  }
  if (parsed.entry.text !== entry) {
    return { reason: `entry ${JSON.stringify(preview(entry))} is not canonical (${JSON.stringify(parsed.entry.text)})`, policy: false }
  }
  if (!accept.includes(list as GateList)) {
    return { reason: `this node does not take ${list} rules from the fleet`, policy: true }
  }
  const network = parsed.entry.network
  if (list !== 'deny' && network !== undefined) {
    const widestLength = network.family === 4 ? widest.ipv4PrefixLength : widest.ipv6PrefixLength
    if (network.prefixLength < widestLength) {
      return { reason: `${list} rule ${entry} is wider than /${widestLength}`, policy: true }
    }
  }
  return undefined
}

/**
 * Reads one log entry (`[id, [field, value, …]]` as XREAD gives it), refusing anything
 * malformed. Never throws.
 */
export function readLogEntry (fields: unknown, accept: readonly GateList[], widest: FleetWidestAllow): RuleChange | Refusal {
  if (!Array.isArray(fields) || fields.length % 2 !== 0 || fields.length > 2 * MAX_FIELDS) {
    return { reason: 'not a list of field-value pairs' }
  }
  const values = new Map<string, string>()
  for (let index = 0; index < fields.length; index += 2) {
    const name: unknown = fields[index]
    const value: unknown = fields[index + 1]
    if (typeof name !== 'string' || typeof value !== 'string') {
      return { reason: 'a field or value is not a string' }
    }
    values.set(name, value)
  }
  const seq = integer(values.get('seq') ?? '')
  if (seq === undefined || seq === 0) {
    return { reason: `bad sequence number ${JSON.stringify(preview(values.get('seq')))}` }
  }
  const op = values.get('op')
  if (op !== 'set' && op !== 'del') {
    return { reason: `unknown operation ${JSON.stringify(preview(op))}` }
  }
  const expText = values.get('exp') ?? ''
  const expiresAt = op === 'del' && expText === '' ? 0 : integer(expText)
  const by = values.get('by') ?? ''
  const problem = checkRule(values.get('list'), values.get('entry'), accept, widest)
  if (problem !== undefined && !problem.policy) {
    return { reason: problem.reason }
  }
  if (expiresAt === undefined) {
    return { reason: `bad expiry ${JSON.stringify(preview(expText))}` }
  }
  if (!WRITER.test(by)) {
    return { reason: `bad writer name ${JSON.stringify(preview(by))}` }
  }
  if (problem !== undefined) {
    return { reason: problem.reason, seq }
  }
  return { op, list: values.get('list') as GateList, entry: values.get('entry') as string, expiresAt, seq, by }
}

/** Reads one field and value of the rules hash. Never throws. */
export function readHashRule (field: unknown, value: unknown, accept: readonly GateList[], widest: FleetWidestAllow): RuleChange | Refusal {
  if (typeof field !== 'string' || typeof value !== 'string') {
    return { reason: 'a field or value is not a string' }
  }
  const space = field.indexOf(' ')
  const list = space === -1 ? field : field.slice(0, space)
  const entry = space === -1 ? '' : field.slice(space + 1)
  const match = HASH_VALUE.exec(value)
  const seq = match === null ? undefined : integer(match[1] ?? '')
  const problem = checkRule(list, entry, accept, widest)
  if (problem !== undefined) {
    return { reason: problem.reason }
  }
  const expiresAt = match === null ? undefined : integer(match[2] ?? '')
  if (match === null || seq === undefined || expiresAt === undefined) {
    return { reason: `malformed value ${JSON.stringify(preview(value))} for ${list} ${entry}` }
  }
  return { op: 'set', list: list as GateList, entry, expiresAt, seq, by: match[3] ?? '' }
}

/** Whether a read gave a change (rather than a refusal). */
export function isChange (read: RuleChange | Refusal): read is RuleChange {
  return 'op' in read
}

/** The key of a rule in the fleet's maps and in the Redis hash: `list entry`. */
export function ruleKey (list: GateList, entry: string): string {
  return `${list} ${entry}`
}
