import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SlotLists } from '../src/slot-lists.ts'

/** The slots of the list that starts at `head`, first to last. */
function walk (lists: SlotLists, head: number): number[] {
  const slots: number[] = []
  for (let slot = head; slot !== 0; slot = lists.next(slot)) slots.push(slot)
  return slots
}

describe('SlotLists', () => {
  it('pushes at the head and removes from the head, the middle and the tail', () => {
    const lists = new SlotLists()
    let head = 0
    for (const slot of [1, 2, 3, 4]) head = lists.push(head, slot)
    expect(walk(lists, head)).toEqual([4, 3, 2, 1])
    head = lists.remove(head, 3)
    expect(walk(lists, head)).toEqual([4, 2, 1])
    head = lists.remove(head, 4)
    expect(walk(lists, head)).toEqual([2, 1])
    head = lists.remove(head, 1)
    expect(walk(lists, head)).toEqual([2])
    head = lists.remove(head, 2)
    expect(head).toBe(0)
    head = lists.push(head, 3)
    expect(walk(lists, head)).toEqual([3])
  })

  it('keeps its lists when it grows past its first size, and ends the list of a slot never pushed', () => {
    const lists = new SlotLists()
    let head = 0
    for (let slot = 1; slot <= 5_000; slot++) {
      head = lists.push(head, slot)
    }
    // Slot 10 was linked to 11 before the first growth: that link must have been copied.
    head = lists.remove(head, 10)
    const walked = walk(lists, head)
    expect(walked).toHaveLength(4_999)
    expect(walked[0]).toBe(5_000)
    expect(walked.slice(-10)).toEqual([11, 9, 8, 7, 6, 5, 4, 3, 2, 1])
    expect(lists.next(1_000_000)).toBe(0)
  })

  it('behaves as arrays of slots, newest first, under any sequence of pushes and removals', () => {
    // A command toggles a slot: a slot on no list is pushed onto `list`, a slot on a list is
    // removed from it. Few slots and lists, so that removals from the middle are common.
    const commandArbitrary = fc.record({ slot: fc.integer({ min: 1, max: 8 }), list: fc.integer({ min: 0, max: 2 }) })
    fc.assert(fc.property(fc.array(commandArbitrary, { maxLength: 100 }), commands => {
      const lists = new SlotLists()
      const heads = [0, 0, 0]
      const model: number[][] = [[], [], []]
      const listOf = new Map<number, number>()
      for (const { slot, list } of commands) {
        const current = listOf.get(slot)
        if (current === undefined) {
          heads[list] = lists.push(heads[list] ?? 0, slot)
          model[list]?.unshift(slot)
          listOf.set(slot, list)
        } else {
          heads[current] = lists.remove(heads[current] ?? 0, slot)
          model[current]?.splice(model[current].indexOf(slot), 1)
          listOf.delete(slot)
        }
        for (let index = 0; index < 3; index++) expect(walk(lists, heads[index] ?? 0)).toEqual(model[index])
      }
    }), { numRuns: 1_000 })
  })
})
