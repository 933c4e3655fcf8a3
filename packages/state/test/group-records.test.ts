import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GroupRecords } from '../src/group-records.ts'

/** A group's counts as the six state-and-direction slots, then the total. */
function counts (groups: GroupRecords<string>, group: number): number[] {
  const slots = [0, 1, 2].flatMap(state => [groups.count(group, state, 0), groups.count(group, state, 1)])
  return [...slots, groups.total(group)]
}

describe('GroupRecords', () => {
  it('counts by state and direction, moves between slots, and keeps a head', () => {
    const groups = new GroupRecords<string>()
    const group = groups.create('peer-a')
    expect(group).toBeGreaterThan(0)
    expect(groups.key(group)).toBe('peer-a')
    groups.add(group, 0, 1) // pending inbound
    groups.add(group, 1, 1) // pending outbound
    groups.add(group, 1, 1)
    groups.move(group, 1, 3) // one outbound opens
    groups.move(group, 3, 5) // and starts closing
    groups.setHead(group, 42)
    expect(counts(groups, group)).toEqual([1, 1, 0, 0, 0, 1, 3])
    expect(groups.count(group, 0, -1)).toBe(2)
    expect(groups.count(group, -1, 1)).toBe(2)
    expect(groups.count(group, -1, -1)).toBe(3)
    expect(groups.connected(group)).toBe(1)
    expect(groups.head(group)).toBe(42)
  })

  it('reuses a released ID, the most recently released first, with counters at 0', () => {
    const groups = new GroupRecords<string>()
    const first = groups.create('a')
    const second = groups.create('b')
    groups.add(second, 4, 1)
    groups.setHead(second, 7)
    groups.add(second, 4, -1)
    groups.release(first)
    groups.release(second)
    const reused = groups.create('c')
    expect(reused).toBe(second)
    expect(groups.key(reused)).toBe('c')
    expect(counts(groups, reused)).toEqual([0, 0, 0, 0, 0, 0, 0])
    expect(groups.head(reused)).toBe(0)
    expect(groups.create('d')).toBe(first)
  })

  it('keeps every group\'s counters and head when it grows past its first size', () => {
    const groups = new GroupRecords<string>()
    const made: number[] = []
    for (let index = 0; index < 1_000; index++) {
      const group = groups.create(`peer-${index}`)
      groups.add(group, index % 6, index)
      groups.setHead(group, index + 1)
      made.push(group)
    }
    made.forEach((group, index) => {
      expect(groups.key(group)).toBe(`peer-${index}`)
      expect(groups.count(group, Math.floor((index % 6) / 2), index % 2)).toBe(index)
      expect(groups.total(group)).toBe(index)
      expect(groups.head(group)).toBe(index + 1)
    })
  })

  it('matches a recount of the connections it was told about, under any sequence', () => {
    // Connections (with a slot each) join groups, move between slots and leave; a group is
    // released when its last connection leaves, and the model is recounted after each step.
    const commandArbitrary = fc.record({ connection: fc.integer({ min: 0, max: 5 }), key: fc.constantFrom('a', 'b', 'c'), slot: fc.integer({ min: 0, max: 5 }) })
    fc.assert(fc.property(fc.array(commandArbitrary, { maxLength: 100 }), commands => {
      const groups = new GroupRecords<string>()
      const byKey = new Map<string, number>()
      const connections = new Map<number, { key: string, slot: number }>()
      for (const { connection, key, slot } of commands) {
        const held = connections.get(connection)
        if (held === undefined) {
          let group = byKey.get(key)
          if (group === undefined) {
            group = groups.create(key)
            byKey.set(key, group)
          }
          groups.add(group, slot, 1)
          connections.set(connection, { key, slot })
        } else {
          const group = byKey.get(held.key) ?? 0
          if (held.slot !== slot) {
            groups.move(group, held.slot, slot)
            held.slot = slot
          } else {
            groups.add(group, slot, -1)
            connections.delete(connection)
            if (groups.total(group) === 0) {
              groups.release(group)
              byKey.delete(held.key)
            }
          }
        }
        for (const [groupKey, group] of byKey) {
          const members = [...connections.values()].filter(member => member.key === groupKey)
          const expected = [0, 1, 2, 3, 4, 5].map(each => members.filter(member => member.slot === each).length)
          expect(counts(groups, group)).toEqual([...expected, members.length])
          expect(groups.connected(group)).toBe(members.filter(member => member.slot >= 2).length)
          expect(groups.key(group)).toBe(groupKey)
        }
      }
    }), { numRuns: 500 })
  })
})
