import { describe, expect, it } from 'vitest'
import { KeyTable } from '../src/key-table.ts'

describe('KeyTable', () => {
  it('.remove() - a key not held: false, and the table and its free slots are as before', () => {
    const table = new KeyTable(2, false)
    expect(table.remove(1)).toBe(false) // nothing allocated yet
    const first = table.insert(1, 0, 0, 0, 0)
    expect(table.remove(2)).toBe(false)
    expect(table.remove(-1)).toBe(false)
    const second = table.insert(2, 0, 0, 0, 0)
    expect(new Set([first, second]).size).toBe(2) // no slot handed out twice
    expect(table.size).toBe(2)
    expect(table.remove(1)).toBe(true)
    expect(table.remove(1)).toBe(false)
    expect(table.insert(3, 0, 0, 0, 0)).toBe(first) // the freed slot, once
    expect(table.evictedSlot).toBe(-1)
    expect([table.get(2), table.get(3)]).toEqual([second, first])
  })
})
