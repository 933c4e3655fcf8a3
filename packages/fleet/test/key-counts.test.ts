import { describe, expect, it } from 'vitest'
import { COUNT, HOT, KEY, KeyCounts, MARK, WINDOW } from '../src/key-counts.ts'

/** Inserts keys from..from+count-1 (as int32 addresses, a /24 each), each counted once in `window`. */
function fill (table: KeyCounts, count: number, window = 0, from = 0): void {
  for (let key = from; key < from + count; key++) {
    const at = table.insert(key << 8, window)
    table.slots[at + COUNT] = 1
  }
}

describe('KeyCounts', () => {
  it('.find() - finds every key inserted, with its fields, and nothing else', () => {
    const table = new KeyCounts(1, 8, 0)
    const at = table.insert(-1_062_731_520, 42) // 192.168.1.0 as an int32
    expect(table.slots[at + KEY]).toBe(-1_062_731_520)
    expect(table.slots[at + WINDOW]).toBe(42)
    expect(table.slots[at + COUNT]).toBe(0)
    expect(table.find(-1_062_731_520)).toBe(at)
    expect(table.find(0)).toBe(-1)
    expect(table.size).toBe(1)
  })

  it('.insert() - doubles the table before it is over half full, and keeps every key', () => {
    const table = new KeyCounts(1, 8, 0)
    fill(table, 4)
    expect(table.capacity).toBe(8)
    fill(table, 1, 0, 4)
    expect(table.capacity).toBe(16)
    for (let key = 0; key < 5; key++) expect(table.find(key << 8)).toBeGreaterThanOrEqual(0)
    const many = new KeyCounts(1, 8, 12345)
    fill(many, 3_000)
    expect(many.capacity).toBe(8_192)
    for (let key = 0; key < 3_000; key++) expect(many.slots[many.find(key << 8) + COUNT]).toBe(1)
  })

  it('.find() - walks past keys that share a start (any seed)', () => {
    for (const seed of [0, 1, -1, 0x7fffffff]) {
      const table = new KeyCounts(1, 1_024, seed)
      fill(table, 500)
      for (let key = 0; key < 500; key++) expect(table.find(key << 8)).toBeGreaterThanOrEqual(0)
      expect(table.find(500 << 8)).toBe(-1)
    }
  })

  it('.sweep() - forgets cold keys idle for a whole window, zeroes past counts, keeps hot keys', () => {
    const table = new KeyCounts(1, 1_024, 7)
    const old = table.insert(1, 3)
    table.slots[old + COUNT] = 5
    const last = table.insert(2, 4)
    table.slots[last + COUNT] = 5
    const now = table.insert(3, 5)
    table.slots[now + COUNT] = 5
    const hot = table.insert(4, 1)
    table.slots[hot + MARK] = HOT
    expect(table.sweep(5)).toBe(1)
    expect(table.find(1)).toBe(-1)
    expect(table.slots[table.find(2) + COUNT]).toBe(0)
    expect(table.slots[table.find(2) + WINDOW]).toBe(4)
    expect(table.slots[table.find(3) + COUNT]).toBe(5)
    expect(table.slots[table.find(4) + MARK]).toBe(HOT)
    expect(table.size).toBe(3)
  })

  it('.sweep() - shrinks a table left mostly empty, never under 1,024 slots', () => {
    const table = new KeyCounts(1, 1_024, 0)
    fill(table, 3_000, 0)
    expect(table.capacity).toBe(8_192)
    table.insert(1, 10)
    expect(table.sweep(10)).toBe(3_000)
    expect(table.size).toBe(1)
    expect(table.capacity).toBe(1_024)
    expect(table.find(1)).toBeGreaterThanOrEqual(0)
  })

  it('.findWords() - finds four-word keys that differ in any one word, across growth and sweeps', () => {
    const table = new KeyCounts(4, 8, 3)
    const key = (index: number, word: number): Uint32Array => {
      const words = Uint32Array.of(0x20010db8, 0, 0, 0)
      words[word] = (words[word] as number) + index + 1
      return words
    }
    for (let index = 0; index < 300; index++) {
      for (let word = 0; word < 4; word++) {
        const at = table.insertWords(key(index, word), 9) // may grow the table: read its slots after
        table.slots[at + COUNT] = word + 1
      }
    }
    expect(table.size).toBe(1_200)
    expect(table.capacity).toBe(4_096)
    table.sweep(9)
    for (let index = 0; index < 300; index++) {
      for (let word = 0; word < 4; word++) {
        const at = table.findWords(key(index, word))
        expect(at).toBeGreaterThanOrEqual(0)
        expect(table.slots[at + COUNT]).toBe(word + 1)
        expect([...table.slots.subarray(at + KEY, at + KEY + 4)]).toEqual([...key(index, word)])
      }
    }
    expect(table.findWords(key(300, 0))).toBe(-1)
    expect(table.sweep(11)).toBe(1_200)
    expect(table.findWords(key(0, 0))).toBe(-1)
  })

  it('.clear() - empties it', () => {
    const table = new KeyCounts(1, 8, 0)
    fill(table, 3)
    table.clear()
    expect(table.size).toBe(0)
    expect(table.find(0)).toBe(-1)
  })
})
