import { CONFIG_RULES, DEFAULT_CONFIG, systemClock } from '@cm/config'
import { parseAddressEntry } from '@cm/config/address'
import { addressListRule, clockRule, finiteNumberRule, forEachAddressEntry, oneOfRule, ProblemCollector, resolveOptions } from '@cm/config/validation'
import { Heap } from 'mnemonist'
import { RuleList } from './rule-list.ts'
import { readSnapshot } from './snapshot.ts'
import type { DenyOptions, GateInit, GateList, GateRule } from './options.ts'
import type { Expiry, RuleRecord } from './rule-list.ts'
import type { GateSnapshot, GateSnapshotDenyEntry } from './snapshot.ts'
import type { Clock, ListDirection } from '@cm/config'
import type { AddressEntry } from '@cm/config/address'
import type { OptionRule, OptionsSchema } from '@cm/config/validation'

interface ResolvedGateOptions {
  readonly denyList: readonly string[]
  readonly allowList: readonly string[]
  readonly trustedList: readonly string[]
  readonly denyListDirection: ListDirection
  readonly allowListDirection: ListDirection
  readonly clock: Clock
}

type ListOption = 'denyList' | 'allowList' | 'trustedList'

/**
 * The gate's options: `ConnectionConfig`'s list options, with its defaults and rules, and
 * a clock. The list rules check exactly as `addressListRule` does, and add each entry to
 * its list as soon as it is parsed, so that a long list is parsed once and no array of
 * parsed entries is kept (a gate whose options are invalid is thrown away anyway).
 */
function gateSchema (lists: Readonly<Record<ListOption, RuleList>>): OptionsSchema<ResolvedGateOptions> {
  const listOption = (name: ListOption): { default: readonly string[], rule: OptionRule<readonly string[]> } => ({
    default: DEFAULT_CONFIG[name],
    rule: {
      expected: addressListRule.expected,
      check: (value, path, problems): value is readonly string[] => forEachAddressEntry(value, path, problems, entry => { lists[name].add(entry) })
    }
  })
  return {
    denyList: listOption('denyList'),
    allowList: listOption('allowList'),
    trustedList: listOption('trustedList'),
    denyListDirection: { default: DEFAULT_CONFIG.denyListDirection, rule: CONFIG_RULES.denyListDirection },
    allowListDirection: { default: DEFAULT_CONFIG.allowListDirection, rule: CONFIG_RULES.allowListDirection },
    clock: { default: systemClock, rule: clockRule }
  }
}

const DENY_OPTIONS_SCHEMA: OptionsSchema<{ ttl: number | undefined, expiresAt: number | undefined }> = {
  ttl: { default: undefined, rule: finiteNumberRule({ min: 0, exclusiveMin: true }) },
  expiresAt: { default: undefined, rule: finiteNumberRule() }
}

const DIRECTION_RULE = oneOfRule<ListDirection>(['both', 'inbound', 'outbound'])
const LIST_RULE = oneOfRule<GateList>(['deny', 'allow', 'trusted'])
const LISTS: readonly GateList[] = ['deny', 'allow', 'trusted']

/** Rebuild the expiry heap once it holds this many stale items beyond twice the live ones. */
const HEAP_SLACK = 64

function compareExpiry (a: Expiry, b: Expiry): number {
  return a.expiresAt - b.expiresAt
}

/**
 * @internal
 * The gate's rule bookkeeping: the deny, allow and trusted lists, the directions the deny
 * and allow lists apply to, and the expiry of timed deny rules. Every change to the rules
 * goes through here, checked as the {@link Gate} methods promise; the check path only reads
 * the lists (see decision.ts), and asks {@link RuleBook.lapsed} when a deny rule matches.
 *
 * A timed rule has no timer: its expiry waits in a heap, and lapsed rules are removed at the
 * next change or check that meets them.
 */
export class RuleBook {
  readonly #clock: Clock
  #deny = new RuleList('deny')
  // Stryker disable next-line StringLiteral: a rule record only asks whether its list is 'deny'
  #allow = new RuleList('allow')
  // Stryker disable next-line StringLiteral: as above
  #trusted = new RuleList('trusted')
  #denyDirection: ListDirection
  #allowDirection: ListDirection
  #expiries = new Heap<Expiry>(compareExpiry)
  /** The number of deny rules that are timed (each has one live item in #expiries). */
  #timedCount = 0

  /**
   * @param init - the lists, their directions and the clock
   * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options,
   *   each malformed entry with its index and the reason
   */
  constructor (init: GateInit = {}) {
    const problems = new ProblemCollector()
    const lists = { denyList: this.#deny, allowList: this.#allow, trustedList: this.#trusted }
    const options = resolveOptions(gateSchema(lists), init, problems)
    problems.throwIfAny()
    this.#clock = options.clock
    this.#denyDirection = options.denyListDirection
    this.#allowDirection = options.allowListDirection
  }

  /** The deny list. */
  get deny (): RuleList {
    return this.#deny
  }

  /** The allow list. */
  get allow (): RuleList {
    return this.#allow
  }

  /** The trusted list. */
  get trusted (): RuleList {
    return this.#trusted
  }

  /** The connections the deny list applies to. */
  get denyDirection (): ListDirection {
    return this.#denyDirection
  }

  /** The connections the allow list applies to. */
  get allowDirection (): ListDirection {
    return this.#allowDirection
  }

  /**
   * Whether a deny rule that matched has lapsed; if so, every lapsed rule (it included) is
   * removed, and the check must run again.
   */
  lapsed (record: RuleRecord): boolean {
    const expiry = record.expiry
    if (expiry === undefined) {
      return false
    }
    const now = this.#clock.now()
    if (expiry.expiresAt > now) {
      return false
    }
    this.#purge(now)
    return true
  }

  /** See {@link Gate.deny}. */
  addDeny (entry: string, options?: DenyOptions): GateRule {
    const parsed = parseAddressEntry(entry)
    const problems = new ProblemCollector()
    const timing = resolveOptions(DENY_OPTIONS_SCHEMA, options, problems)
    if (timing.ttl !== undefined && timing.expiresAt !== undefined) {
      problems.addProblem({
        path: 'expiresAt',
        expected: 'no `expiresAt` when `ttl` is given',
        received: `${timing.expiresAt} (number)`,
        message: 'Expected `ttl` or `expiresAt`, not both'
      })
    }
    problems.throwIfAny()
    return this.#addDenyRule(parsed, timing.ttl, timing.expiresAt)
  }

  /** See {@link Gate.allow} and {@link Gate.trust}. */
  add (list: 'allow' | 'trusted', entry: string): GateRule {
    const record = (list === 'allow' ? this.#allow : this.#trusted).add(parseAddressEntry(entry))
    this.#purge()
    return describe(list, record)
  }

  /** See {@link Gate.remove}. */
  remove (list: GateList, entry: string): boolean {
    const rules = this.#list(list)
    const parsed = parseAddressEntry(entry)
    this.#purge()
    const record = rules.delete(parsed)
    if (record?.expiry !== undefined) {
      record.expiry = undefined
      this.#timedCount--
    }
    return record !== undefined
  }

  /** See {@link Gate.has}. */
  has (list: GateList, entry: string): boolean {
    const rules = this.#list(list)
    const parsed = parseAddressEntry(entry)
    this.#purge()
    return rules.get(parsed) !== undefined
  }

  /** See {@link Gate.rules}. */
  rules (list?: GateList): GateRule[] {
    const names = list === undefined ? LISTS : [checkListName(list)]
    this.#purge()
    return names.flatMap(name => sorted(this.#list(name)).map(record => describe(name, record)))
  }

  /** See {@link Gate.size}. */
  size (list?: GateList): number {
    const names = list === undefined ? LISTS : [checkListName(list)]
    this.#purge()
    return names.reduce((total, name) => total + this.#list(name).size, 0)
  }

  /** See {@link Gate.replace}. */
  replace (list: GateList, entries: readonly string[]): void {
    checkListName(list)
    const problems = new ProblemCollector()
    const rules = new RuleList(list)
    forEachAddressEntry(entries, `${list}List`, problems, entry => { rules.add(entry) })
    problems.throwIfAny()
    this.#setList(list, rules)
  }

  /** See {@link Gate.clear}. */
  clear (list?: GateList): void {
    const names = list === undefined ? LISTS : [checkListName(list)]
    for (const name of names) {
      this.#setList(name, new RuleList(name))
    }
  }

  /** See {@link Gate.setDirection}. */
  setDirection (list: 'deny' | 'allow', direction: ListDirection): void {
    const problems = new ProblemCollector()
    if (list !== 'deny' && list !== 'allow') {
      problems.add('list', 'one of "deny", "allow"', list)
    }
    DIRECTION_RULE.check(direction, `${String(list)}ListDirection`, problems)
    problems.throwIfAny()
    if (list === 'deny') {
      this.#denyDirection = direction
    } else {
      this.#allowDirection = direction
    }
  }

  /** See {@link Gate.toJSON}. */
  toJSON (): GateSnapshot {
    this.#purge()
    const now = this.#clock.now()
    const deny = sorted(this.#deny).map((record): GateSnapshotDenyEntry => record.expiry === undefined
      ? { entry: record.text }
      : { entry: record.text, expiresInMs: record.expiry.expiresAt - now })
    return {
      version: 1,
      savedAt: Date.now(),
      deny,
      allow: sorted(this.#allow).map(record => record.text),
      trusted: sorted(this.#trusted).map(record => record.text)
    }
  }

  /** See {@link Gate.load}. */
  load (snapshot: unknown): void {
    const parsed = readSnapshot(snapshot)
    const elapsed = Math.max(0, Date.now() - parsed.savedAt)
    for (const item of parsed.deny) {
      if (item.expiresInMs === undefined) {
        this.#addDenyRule(item.entry, undefined, undefined)
      } else if (item.expiresInMs > elapsed) {
        this.#addDenyRule(item.entry, item.expiresInMs - elapsed, undefined)
      }
    }
    for (const entry of parsed.allow) {
      this.#allow.add(entry)
    }
    for (const entry of parsed.trusted) {
      this.#trusted.add(entry)
    }
  }

  #addDenyRule (entry: AddressEntry, ttl: number | undefined, expiresAt: number | undefined): GateRule {
    this.#purge()
    const record = this.#deny.add(entry)
    this.#setExpiry(record, entry, ttl !== undefined ? this.#clock.now() + ttl : expiresAt)
    return describe('deny', record)
  }

  /** Removes every timed deny rule whose time has come (by `now`, or the clock). */
  #purge (now?: number): void {
    const heap = this.#expiries
    // Stryker disable next-line ConditionalExpression,BlockStatement: with an empty heap the loop below stops at once; this only skips reading the clock
    if (heap.size === 0) {
      return
    }
    now ??= this.#clock.now()
    for (let top = heap.peek(); top !== undefined && top.expiresAt <= now; top = heap.peek()) {
      heap.pop()
      if (top.record.expiry === top) {
        top.record.expiry = undefined
        this.#timedCount--
        this.#deny.delete(top.entry)
      }
    }
  }

  #setExpiry (record: RuleRecord, entry: AddressEntry, expiresAt: number | undefined): void {
    // Stryker disable next-line ConditionalExpression: `true` keeps the count of timed rules too low: how often the expiry queue is rebuilt: this variant rebuilds as often or more often, which costs time, not answers; the heap after GC is tested (heap-bounds.test.ts) (`false`, which never rebuilds, is killed by that test and hidden by this comment)
    if (record.expiry !== undefined) {
      this.#timedCount--
    }
    if (expiresAt === undefined) {
      record.expiry = undefined
      return
    }
    const expiry: Expiry = { record, expiresAt, entry }
    record.expiry = expiry
    // Stryker disable next-line UpdateOperator: a count kept too low: how often the expiry queue is rebuilt: this variant rebuilds as often or more often, which costs time, not answers; the heap after GC is tested (heap-bounds.test.ts)
    this.#timedCount++
    this.#expiries.push(expiry)
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: how often the expiry queue is rebuilt: this variant rebuilds as often or more often, which costs time, not answers; the heap after GC is tested (heap-bounds.test.ts) (the variants that never rebuild are killed by that test and hidden by this comment)
    if (this.#expiries.size > 2 * this.#timedCount + HEAP_SLACK) {
      // Items of rules removed or re-timed are stale: rebuild from the live ones.
      const live = this.#expiries.consume().filter(item => item.record.expiry === item)
      this.#expiries = Heap.from(live, compareExpiry)
    }
  }

  #setList (list: GateList, rules: RuleList): void {
    if (list === 'deny') {
      this.#deny = rules
      this.#expiries = new Heap<Expiry>(compareExpiry)
      this.#timedCount = 0
    } else if (list === 'allow') {
      this.#allow = rules
    } else {
      this.#trusted = rules
    }
  }

  #list (list: GateList): RuleList {
    switch (checkListName(list)) {
      case 'deny': return this.#deny
      case 'allow': return this.#allow
      case 'trusted': return this.#trusted
    }
  }
}

function checkListName (list: unknown): GateList {
  const problems = new ProblemCollector()
  LIST_RULE.check(list, 'list', problems)
  problems.throwIfAny()
  return list as GateList
}

function sorted (list: RuleList): RuleRecord[] {
  return [...list.records()].sort(byText)
}

function byText (a: RuleRecord, b: RuleRecord): number {
  // Stryker disable next-line EqualityOperator: texts differ within a list, so `<=` orders them the same (`>`, `>=` reverse it: killed by the tests, hidden by this comment)
  if (a.text < b.text) {
    return -1
  }
  // Stryker disable next-line ConditionalExpression,EqualityOperator: texts differ within a list, and V8's sort only asks whether the result is below 0
  return a.text > b.text ? 1 : 0
}

function describe (list: GateList, record: RuleRecord): GateRule {
  return record.expiry === undefined
    ? { list, text: record.text }
    : { list, text: record.text, expiresAt: record.expiry.expiresAt }
}
