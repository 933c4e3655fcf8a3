import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CLOSING, Entry, OPEN } from '../src/connection-record.ts'
import { EntryTable } from '../src/entry-table.ts'
import { GroupIndex } from '../src/group-index.ts'

/** A connection of `peer`, held in `table`. */
function hold (table: EntryTable<unknown>, peer: string, direction: 0 | 1): Entry<unknown> {
  const entry = new Entry<unknown>(table.issue(), direction, '/ip4/10.0.0.1/tcp/1', '10.0.0.1', 0x0a000001, peer, 0, undefined)
  table.hold(entry)
  return entry
}

/** The connections of a key, first to last, as the index walks them. */
function members (index: GroupIndex<string, unknown>, peer: string): Array<Entry<unknown>> {
  const found: Array<Entry<unknown>> = []
  for (let entry = index.first(index.find(peer)); entry !== undefined; entry = index.next(entry)) found.push(entry)
  return found
}

describe('GroupIndex', () => {
  it('counts and lists a key\'s connections, newest first, through its first, second and later ones', () => {
    const table = new EntryTable<unknown>()
    const index = new GroupIndex<string, unknown>('peer', table)
    const first = hold(table, 'peer-a', 0)
    index.join(first)
    expect(index.count(index.find('peer-a'), -1, -1)).toBe(1)
    expect(members(index, 'peer-a')).toEqual([first])
    const second = hold(table, 'peer-a', 1)
    index.join(second)
    const other = hold(table, 'peer-b', 0)
    index.join(other)
    expect(index.size).toBe(2)
    expect(members(index, 'peer-a')).toEqual([second, first])
    expect(index.count(index.find('peer-a'), -1, 1)).toBe(1)

    const from = first.lane
    first.state = OPEN
    index.moved(first, from)
    expect(index.count(index.find('peer-a'), OPEN, -1)).toBe(1)
    expect(index.connected(first)).toBe(1)

    index.leave(first)
    table.release(first)
    index.leave(second)
    table.release(second)
    expect(index.find('peer-a')).toBe(0)
    expect(index.count(index.find('peer-a'), -1, -1)).toBe(0)
    expect(members(index, 'peer-a')).toEqual([])
    expect(index.size).toBe(1)
  })

  it('matches a model of lists and counts under any sequence of joins, moves and leaves', () => {
    // A command picks a connection: one not held joins `peer`, one held moves to `state`
    // or, when it is in that state already, leaves.
    const commandArbitrary = fc.record({
      connection: fc.integer({ min: 0, max: 7 }),
      peer: fc.constantFrom('a', 'b', 'c'),
      state: fc.constantFrom(0, OPEN, CLOSING),
      direction: fc.constantFrom<0 | 1>(0, 1)
    })
    fc.assert(fc.property(fc.array(commandArbitrary, { maxLength: 120 }), commands => {
      const table = new EntryTable<unknown>()
      const index = new GroupIndex<string, unknown>('peer', table)
      const held = new Map<number, Entry<unknown>>()
      const model = new Map<string, Array<Entry<unknown>>>()
      for (const { connection, peer, state, direction } of commands) {
        const entry = held.get(connection)
        if (entry === undefined) {
          const joined = hold(table, peer, direction)
          index.join(joined)
          held.set(connection, joined)
          model.set(peer, [joined, ...model.get(peer) ?? []])
        } else if (entry.state !== state) {
          const from = entry.lane
          entry.state = state
          index.moved(entry, from)
        } else {
          index.leave(entry)
          table.release(entry)
          held.delete(connection)
          const rest = (model.get(entry.peer ?? '') ?? []).filter(other => other !== entry)
          if (rest.length === 0) model.delete(entry.peer ?? '')
          else model.set(entry.peer ?? '', rest)
        }
        expect(index.size).toBe(model.size)
        for (const key of ['a', 'b', 'c']) {
          const expected = model.get(key) ?? []
          expect(members(index, key)).toEqual(expected)
          const group = index.find(key)
          for (const countedState of [-1, 0, OPEN, CLOSING]) {
            for (const countedDirection of [-1, 0, 1]) {
              expect(index.count(group, countedState, countedDirection)).toBe(expected.filter(member => member.matches(countedState, countedDirection)).length)
            }
          }
          for (const member of expected) {
            expect(index.connected(member)).toBe(expected.filter(other => other.state === OPEN || other.state === CLOSING).length)
          }
        }
      }
    }), { numRuns: 300 })
  })
})
