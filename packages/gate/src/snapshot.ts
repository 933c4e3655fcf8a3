import { tryParseAddressEntry } from '@cm/config/address'
import { addressEntryRule, describeValue, finiteNumberRule, MAX_LIST_LENGTH, parseAddressList, ProblemCollector, quoteInput } from '@cm/config/validation'
import { InvalidSnapshotError } from './errors.ts'
import type { AddressEntry } from '@cm/config/address'

/**
 * A gate's lists as plain JSON, from {@link DefaultGate.toJSON}, to persist and reload
 * with {@link DefaultGate.load} or {@link DefaultGate.fromJSON}.
 *
 * Expiry times are stored as time remaining when the snapshot was taken, with the wall
 * time of the snapshot (`savedAt`), because the gate's clock is monotonic and means
 * nothing after a restart. Loading subtracts the wall time passed since `savedAt`, so a
 * ban keeps counting down while the snapshot sits on disk.
 *
 * @example
 * ```ts
 * import type { GateSnapshot } from '@cm/gate'
 *
 * const snapshot: GateSnapshot = {
 *   version: 1,
 *   savedAt: Date.now(),
 *   deny: [{ entry: '10.0.0.0/8' }, { entry: '192.0.2.7', expiresInMs: 600_000 }],
 *   allow: [],
 *   trusted: ['/ip4/192.0.2.1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA']
 * }
 * ```
 */
export interface GateSnapshot {
  /** The snapshot format: 1. */
  readonly version: 1
  /** Wall time of the snapshot, milliseconds since the Unix epoch (`Date.now()`). */
  readonly savedAt: number
  /** The deny list: every rule's canonical text, and the time left on timed rules. */
  readonly deny: readonly GateSnapshotDenyEntry[]
  /** The allow list: every rule's canonical text. */
  readonly allow: readonly string[]
  /** The trusted list: every rule's canonical text. */
  readonly trusted: readonly string[]
}

/** One deny rule in a {@link GateSnapshot}. */
export interface GateSnapshotDenyEntry {
  /** The rule's canonical text (any form {@link DefaultGate.deny} accepts when loading). */
  readonly entry: string
  /** For a timed rule: milliseconds left when the snapshot was taken (> 0). */
  readonly expiresInMs?: number
}

// Stryker disable next-line BooleanLiteral: a module-level initializer runs once, at load, before a mutant is switched on; a test checks `expiresInMs: 0`
const remainingRule = finiteNumberRule({ min: 0, exclusiveMin: true })
const savedAtRule = finiteNumberRule()

/** A snapshot that passed {@link readSnapshot}, its entries parsed. */
export interface ParsedSnapshot {
  readonly savedAt: number
  readonly deny: ReadonlyArray<{ readonly entry: AddressEntry, readonly expiresInMs: number | undefined }>
  readonly allow: readonly AddressEntry[]
  readonly trusted: readonly AddressEntry[]
}

/**
 * Checks and parses a snapshot read from JSON, reporting every problem at once.
 *
 * @throws {@link InvalidSnapshotError} listing every problem
 */
export function readSnapshot (value: unknown): ParsedSnapshot {
  const problems = new ProblemCollector()
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.add('snapshot', 'a gate snapshot object', value)
    throw new InvalidSnapshotError(problems.problems, problems.count)
  }
  const snapshot = value as Record<string, unknown>
  for (const key of Object.keys(snapshot)) {
    if (!['version', 'savedAt', 'deny', 'allow', 'trusted'].includes(key)) {
      unknownField(problems, key, 'a snapshot has `version`, `savedAt`, `deny`, `allow` and `trusted`', snapshot[key])
    }
  }
  if (snapshot['version'] !== 1) {
    problems.add('version', '1', snapshot['version'])
  }
  savedAtRule.check(snapshot['savedAt'], 'savedAt', problems)
  const deny: Array<{ entry: AddressEntry, expiresInMs: number | undefined }> = []
  const denyItems = snapshot['deny']
  // Stryker disable next-line EqualityOperator: only a list of exactly 10,000,000 items tells `>=` apart, too slow to walk under instrumentation; one item more is tested
  if (!Array.isArray(denyItems) || denyItems.length > MAX_LIST_LENGTH) {
    problems.add('deny', `an array of at most ${MAX_LIST_LENGTH} { entry, expiresInMs? } objects`, denyItems)
  } else {
    // An index loop: forEach would skip the holes of a sparse array, and so drop bans.
    for (let index = 0; index < denyItems.length; index++) {
      const path = `deny[${index}]`
      const item: unknown = denyItems[index]
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        problems.add(path, 'an object { entry, expiresInMs? }', item, index in denyItems ? undefined : 'the array has a hole here (an empty slot of a sparse array)')
        continue
      }
      const record = item as Record<string, unknown>
      for (const key of Object.keys(record)) {
        if (key !== 'entry' && key !== 'expiresInMs') {
          unknownField(problems, `${path}.${key}`, 'a deny entry has `entry` and `expiresInMs`', record[key])
        }
      }
      const expiresInMs = record['expiresInMs']
      if (expiresInMs !== undefined) {
        remainingRule.check(expiresInMs, `${path}.expiresInMs`, problems)
      }
      const parsed = tryParseAddressEntry(record['entry'])
      if (!parsed.ok) {
        addressEntryRule.check(record['entry'], `${path}.entry`, problems)
      } else {
        // A bad expiresInMs is a problem, which refuses the whole snapshot: this item is then never used.
        deny.push({ entry: parsed.entry, expiresInMs: expiresInMs as number | undefined })
      }
    }
  }
  const allow = parseAddressList(snapshot['allow'], 'allow', problems)
  const trusted = parseAddressList(snapshot['trusted'], 'trusted', problems)
  // Stryker disable next-line ConditionalExpression: a list is undefined only with a problem counted; the tests narrow the type
  if (problems.count > 0 || allow === undefined || trusted === undefined) {
    throw new InvalidSnapshotError(problems.problems, problems.count)
  }
  return { savedAt: snapshot['savedAt'] as number, deny, allow, trusted }
}

function unknownField (problems: ProblemCollector, path: string, known: string, value: unknown): void {
  problems.addProblem({
    path,
    expected: 'a known field',
    received: describeValue(value),
    message: `Unknown field ${path.length > 80 ? quoteInput(path) : `\`${path}\``}; ${known}`
  })
}
