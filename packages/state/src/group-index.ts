import { CLOSING, OPEN } from './connection-record.ts'
import { GroupRecords } from './group-records.ts'
import { HashIndex } from './hash-index.ts'
import { SlotLists } from './slot-lists.ts'
import type { Entry } from './connection-record.ts'
import type { EntryTable } from './entry-table.ts'
import type { HostKey } from './host-key.ts'
import type { GroupCount } from './snapshot.ts'

/**
 * @internal
 * A group as {@link GroupIndex.find} gives it, opaque outside this file; 0 when the key has
 * no connection.
 *
 * Most peers have one connection, so a key's first connection gets no group record: the
 * group is then a "solo", the connection's ID slot negated ({@link soloGroup}). From its
 * second connection on, a key has a record in {@link GroupRecords} and its group is the
 * record's ID, positive. One int32 in the hash index tells the two apart.
 */
export type Group = number

/** The group of a key whose only connection is in ID slot `slot`. */
function soloGroup (slot: number): Group {
  return -slot
}

/** Whether a group is a solo (otherwise a record ID, or 0 for none). */
function isSolo (group: Group): boolean {
  // Stryker disable next-line EqualityOperator: group 0 is never asked about (join() returns first), or reads ID slot 0, which holds no entry
  return group < 0
}

/** The ID slot of a solo group's connection. */
function soloSlot (group: Group): number {
  return -group
}

/**
 * @internal
 * The tracker's connections grouped by peer or by remote host: which connections each key
 * has, and how many are in each state and direction, kept as connections join, change state
 * and leave, so that counting a key's connections is O(1) and listing them is O(connections
 * of the key).
 *
 * Behind it: a {@link HashIndex} from each key to its group, {@link GroupRecords} for the
 * counters and list heads of the groups of two or more connections, and {@link SlotLists}
 * for the lists. A connection's group and its key's hash are kept in its entry
 * (`peerGroup` and `peerHash`, or `hostGroup` and `hostHash`: 0 while it is a solo), so that
 * a change of state or a close reads no table to find them.
 */
export class GroupIndex<Key extends HostKey, Metadata> {
  /** Whether the key is the peer (otherwise the host). */
  readonly #byPeer: boolean
  readonly #table: EntryTable<Metadata>
  readonly #index: HashIndex<Key>
  readonly #records = new GroupRecords<Key>()
  readonly #lists = new SlotLists()

  /**
   * @param by - `'peer'` to group by `entry.peer`, `'host'` by `entry.hostKey`
   * @param table - the tracker's entries, where a solo group's connection is found
   */
  constructor (by: 'peer' | 'host', table: EntryTable<Metadata>) {
    this.#byPeer = by === 'peer'
    this.#table = table
    this.#index = new HashIndex<Key>(group => isSolo(group) ? this.#keyOf(table.at(soloSlot(group))) : this.#records.key(group))
  }

  /** How many keys have connections. */
  get size (): number {
    return this.#index.size
  }

  /** Puts a connection in its key's group, counted in its lane. */
  join (entry: Entry<Metadata>): void {
    const key = this.#keyOf(entry)
    const hash = this.#index.hashOf(key)
    const slot = entry.slot
    this.#setHash(entry, hash)
    const held = this.#index.getOrSet(key, soloGroup(slot), hash)
    if (held === 0) {
      return
    }
    let group = held
    if (isSolo(held)) {
      // The key's second connection: the solo becomes a group record, with both.
      group = this.#records.create(key)
      this.#push(group, this.#table.at(soloSlot(held)) as Entry<Metadata>)
      this.#index.replace(hash, held, group)
    }
    this.#push(group, entry)
  }

  /** Takes a connection out of its key's group; call it while the connection is still in its lane. */
  leave (entry: Entry<Metadata>): void {
    const group = this.#groupOf(entry)
    const hash = this.#hashOf(entry)
    const slot = entry.slot
    if (group === 0) {
      this.#index.remove(hash, soloGroup(slot))
      return
    }
    const records = this.#records
    records.setHead(group, this.#lists.remove(records.head(group), slot))
    records.add(group, entry.lane, -1)
    this.#setGroup(entry, 0)
    if (records.total(group) === 0) {
      this.#index.remove(hash, group)
      records.release(group)
    }
  }

  /** Recounts a connection of the index whose state has just changed, from lane `from`. */
  moved (entry: Entry<Metadata>, from: number): void {
    const group = this.#groupOf(entry)
    // Stryker disable next-line ConditionalExpression: record 0 is never handed out, so counting into it is never read
    if (group !== 0) {
      this.#records.move(group, from, entry.lane)
    }
  }

  /** How many connections of a connection's group (it included) have opened and not closed. */
  connected (entry: Entry<Metadata>): number {
    const group = this.#groupOf(entry)
    if (group !== 0) {
      return this.#records.connected(group)
    }
    return entry.state === OPEN || entry.state === CLOSING ? 1 : 0
  }

  /** The group of a key (0: it has no connection). */
  find (key: Key): Group {
    return this.#index.get(key)
  }

  /** How many connections of a group are in `state` and `direction` (-1: any). */
  count (group: Group, state: number, direction: number): number {
    if (isSolo(group)) {
      // Stryker disable next-line OptionalChaining: a solo group's slot always holds its connection; the chain narrows the type
      return this.#table.at(soloSlot(group))?.matches(state, direction) === true ? 1 : 0
    }
    // Stryker disable next-line ConditionalExpression: record 0 is never handed out, so its counters stay 0
    return group === 0 ? 0 : this.#records.count(group, state, direction)
  }

  /** The first connection of a group, the one that joined last (`undefined`: none). */
  first (group: Group): Entry<Metadata> | undefined {
    // Stryker disable next-line ConditionalExpression,BlockStatement: a fast path; record 0's head is slot 0, which holds no entry
    if (group === 0) {
      return undefined
    }
    return this.#table.at(isSolo(group) ? soloSlot(group) : this.#records.head(group))
  }

  /** The connection after `entry` in its group (`undefined`: it was the last). */
  next (entry: Entry<Metadata>): Entry<Metadata> | undefined {
    return this.#table.at(this.#lists.next(entry.slot))
  }

  /** Every key, with the count of its connections by state and direction. */
  * groups (): Iterable<[Key, GroupCount]> {
    for (const [key, group] of this.#index) {
      yield [key, (state, direction) => this.count(group, state, direction)]
    }
  }

  /** Puts a connection at the head of a group record's list and counts it. */
  #push (group: number, entry: Entry<Metadata>): void {
    const records = this.#records
    records.setHead(group, this.#lists.push(records.head(group), entry.slot))
    records.add(group, entry.lane, 1)
    this.#setGroup(entry, group)
  }

  #keyOf (entry: Entry<Metadata> | undefined): Key {
    return ((this.#byPeer ? entry?.peer : entry?.hostKey) ?? '') as Key
  }

  #groupOf (entry: Entry<Metadata>): number {
    return this.#byPeer ? entry.peerGroup : entry.hostGroup
  }

  #setGroup (entry: Entry<Metadata>, group: number): void {
    if (this.#byPeer) entry.peerGroup = group
    else entry.hostGroup = group
  }

  #hashOf (entry: Entry<Metadata>): number {
    return this.#byPeer ? entry.peerHash : entry.hostHash
  }

  #setHash (entry: Entry<Metadata>, hash: number): void {
    if (this.#byPeer) entry.peerHash = hash
    else entry.hostHash = hash
  }
}
