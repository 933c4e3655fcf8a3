import { describe, expect, it } from 'vitest'
import { createGate } from '../src/gate.ts'

/** A small deterministic generator, so that a failure names the same addresses again. */
function generator (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state
  }
}

function ipv4 (word: number): string {
  return [word >>> 24, (word >>> 16) & 255, (word >>> 8) & 255, word & 255].join('.')
}

function distinctWords (next: () => number, count: number): number[] {
  const words = new Set<number>()
  while (words.size < count) {
    words.add(next())
  }
  return [...words]
}

describe('prefix tables under churn (through the gate)', () => {
  it('removing rules that are not there leaves every rule there in force', () => {
    const next = generator(21)
    // Six keys in a table of eight slots: often one has wrapped around into slot 0.
    for (let trial = 0; trial < 300; trial++) {
      const [absent = 0, ...present] = distinctWords(next, 7)
      const gate = createGate({ denyList: present.map(ipv4) })
      expect(gate.remove('deny', ipv4(absent))).toBe(false)
      for (const word of present) {
        expect(gate.check(ipv4(word)).allowed, `trial ${trial}: ${ipv4(word)}`).toBe(false)
      }
      expect(gate.check(ipv4(absent)).allowed).toBe(true)
    }
  })

  it('many removals of absent rules, then more rules: every rule found, nothing else', () => {
    const next = generator(7)
    const words = distinctWords(next, 30)
    const present = words.slice(0, 7)
    const gate = createGate({ denyList: present.map(ipv4) })
    for (const word of words.slice(10)) {
      expect(gate.remove('deny', ipv4(word))).toBe(false)
    }
    for (const word of words.slice(7, 10)) {
      gate.deny(ipv4(word))
    }
    for (const word of words.slice(0, 10)) {
      expect(gate.check(ipv4(word)).allowed).toBe(false)
    }
    for (const word of words.slice(10)) {
      expect(gate.check(ipv4(word)).allowed).toBe(true)
    }
    expect(gate.size('deny')).toBe(10)
  })

  it('a table emptied one rule at a time still answers for addresses it never held', () => {
    const next = generator(3)
    const words = distinctWords(next, 12)
    const gate = createGate({ denyList: words.slice(0, 4).map(ipv4) })
    gate.remove('deny', ipv4(words[0] ?? 0))
    gate.remove('deny', ipv4(words[1] ?? 0))
    for (const word of words.slice(4)) {
      expect(gate.check(ipv4(word)).allowed).toBe(true)
    }
    expect(gate.check(ipv4(words[2] ?? 0)).allowed).toBe(false)
    expect(gate.check(ipv4(words[3] ?? 0)).allowed).toBe(false)
  })

  it('short prefixes (/16 and shorter): neighbours set and removed leave each other in force', () => {
    const gate = createGate({ denyList: ['10.0.0.0/16', '10.1.0.0/16', '10.33.0.0/16'] })
    expect(gate.check('10.0.2.3').rule).toBe('10.0.0.0/16')
    expect(gate.check('10.1.2.3').rule).toBe('10.1.0.0/16')
    expect(gate.check('10.2.2.3').allowed).toBe(true)
    expect(gate.remove('deny', '10.0.0.0/16')).toBe(true)
    expect(gate.check('10.0.2.3').allowed).toBe(true)
    expect(gate.check('10.1.2.3').rule).toBe('10.1.0.0/16')
    expect(gate.check('10.33.2.3').rule).toBe('10.33.0.0/16')
    expect(gate.remove('deny', '10.33.0.0/16')).toBe(true)
    expect(gate.check('10.1.2.3').rule).toBe('10.1.0.0/16')
  })

  it('IPv6 /64 rules: half removed, the other half still found', () => {
    const next = generator(64)
    const networks = distinctWords(next, 80).map(word => `2001:db8:${(word >>> 16).toString(16)}:${(word & 0xffff).toString(16)}::/64`)
    const gate = createGate({ denyList: networks })
    const kept = networks.filter((_, index) => index % 2 === 0)
    const removed = networks.filter((_, index) => index % 2 === 1)
    for (const network of removed) {
      expect(gate.remove('deny', network)).toBe(true)
    }
    for (const network of kept) {
      expect(gate.check(network.replace('::/64', '::1')).rule).toBe(network)
    }
    for (const network of removed) {
      expect(gate.check(network.replace('::/64', '::1')).allowed).toBe(true)
    }
  })

  it('the all-zero networks of IPv6 (::/64, ::/128) are found like any other', () => {
    const gate = createGate({ denyList: ['::/64', '::/128', '2001:db8::/64'] })
    expect(gate.check('::1').rule).toBe('::/64')
    expect(gate.check('::').rule).toBe('::')
    expect(gate.check('0:0:0:1::1').allowed).toBe(true)
    expect(gate.check('2001:db8::5').rule).toBe('2001:db8::/64')
  })

  it('rules of every IPv4 prefix length at once: the shortest are still probed', () => {
    const rules = Array.from({ length: 32 }, (_, index) => `255.255.255.255/${index + 1}`)
    const gate = createGate({ denyList: rules })
    expect(gate.check('255.255.255.255').rule).toBe('255.255.255.255')
    expect(gate.check('255.0.0.1').rule).toBe('255.0.0.0/8')
    expect(gate.check('129.0.0.1').rule).toBe('128.0.0.0/1')
    expect(gate.check('1.2.3.4').allowed).toBe(true)
    gate.deny('0.0.0.0/0')
    expect(gate.check('1.2.3.4').rule).toBe('0.0.0.0/0')
  })
})
