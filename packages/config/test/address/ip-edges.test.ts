import { describe, expect, it } from 'vitest'
import { MAX_IP_TEXT_LENGTH, parseIp, parseIpInto } from '../../src/address/index.ts'

// Texts one character away from valid ones, found by mutation testing (TESTING.md): each
// is where a scanner that is a little too lenient would let a wrong address through.
describe('parseIp near misses', () => {
  it('refuses a dotted quad with a stray character between its parts', () => {
    for (const text of ['1x2.3.4', '1.2x3.4', '1.2.3x4', '1.2.3.']) {
      expect(parseIp(text), text).toBeUndefined()
    }
  })

  it('refuses a trailing single colon, and a leading one', () => {
    for (const text of ['1:2:3:4:5:6:7:', '1::2:', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:']) {
      expect(parseIp(text), text).toBeUndefined()
    }
    expect(parseIp('1:2:3:4:5:6:7::')?.text).toBe('1:2:3:4:5:6:7:0')
  })

  it('refuses characters beyond ASCII in a group', () => {
    for (const text of ['fe80::\u00e9', '2001:db8::1\u0661', '\u0661::1']) {
      expect(parseIp(text), text).toBeUndefined()
    }
  })

  it('reads an embedded 0.0.0.0 as an address, not a failure', () => {
    expect(parseIp('::0.0.0.0')?.text).toBe('::')
    expect(parseIp('::ffff:0.0.0.0')).toEqual({ family: 4, words: [0], text: '0.0.0.0' })
    expect(parseIp('1::0.0.0.0')?.text).toBe('1::')
  })

  it('refuses "::" followed by a zone that is not one', () => {
    const out = new Uint32Array(4)
    for (const text of ['::%', '::%a b', '::%eth0!', '::%a:b']) {
      expect(parseIpInto(text, out), text).toBe(0)
      expect(parseIp(text), text).toBeUndefined()
    }
  })

  it('takes zone IDs of letters, digits, "-", "_" and "." and nothing else', () => {
    // The edges of each range, and the characters just outside them.
    for (const zone of ['0', '9', 'A', 'Z', 'a', 'z', '-', '_', '.', 'eth0.100', 'Wi-Fi_2']) {
      expect(parseIp(`fe80::1%${zone}`)?.zone, zone).toBe(zone)
    }
    for (const zone of ['/', ':', '@', '[', '`', '{', ' ', '%', '\u00e9', '+']) {
      expect(parseIp(`fe80::1%${zone}`), zone).toBeUndefined()
      expect(parseIp(`fe80::1%eth${zone}0`), zone).toBeUndefined()
    }
  })

  it('refuses text over the length cap before reading it, even a valid address with a long zone', () => {
    const out = new Uint32Array(4)
    const at = `fe80::1%${'e'.repeat(MAX_IP_TEXT_LENGTH - 8)}`
    expect(at.length).toBe(MAX_IP_TEXT_LENGTH)
    expect(parseIpInto(at, out)).toBe(6)
    expect(parseIpInto(`${at}e`, out)).toBe(0)
    expect(parseIp(`${at}e`)).toBeUndefined()
  })

  it('returns 0 for a value that is not a string, without throwing', () => {
    const out = new Uint32Array(4)
    for (const value of [undefined, null, 42, {}, ['1.2.3.4'], { length: 3 }]) {
      expect(parseIpInto(value as unknown as string, out)).toBe(0)
      expect(parseIp(value as unknown as string)).toBeUndefined()
    }
  })
})
