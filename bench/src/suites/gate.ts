import { BlockList } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { IpNet } from '@chainsafe/netmask'
import { formatIp } from '@cm/config/address'
import { createGate } from '@cm/gate'
import { containsCidr } from 'cidr-tools'
import { cyclingTask, formatNs, median, rowNamed, seededRandom, usedBytes } from '../harness.ts'
import type { BenchRow, BenchSuite, BenchTask } from '../harness.ts'
import type { DefaultGate } from '@cm/gate'

/**
 * Fixtures: rule sets with realistic prefix lengths, and addresses that hit or miss them.
 *
 * Every rule set starts with ten well-known special-purpose ranges (the whole set at ten
 * rules); the rest are random: 70% IPv4 (/32 60%, /24 25%, /22, /20 and /16 5% each) and
 * 30% IPv6 in 2000::/3 (/128 50%, /64 30%, /48 15%, /32 5%), as in deny lists of single
 * abusive hosts plus some ranges. Random generation is seeded, so every run uses the same
 * rules.
 */
interface Rule {
  readonly family: 4 | 6
  readonly words: readonly number[]
  readonly prefixLength: number
  /** `address/prefix`, or the address alone for a single host. */
  readonly text: string
  /** The address text of the network. */
  readonly address: string
}

const SPECIAL_RANGES = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16',
  '172.16.0.0/12', '192.168.0.0/16', '198.18.0.0/15', 'fc00::/7', 'fe80::/10'
]

function pick (next: () => number, weights: ReadonlyArray<readonly [number, number]>): number {
  const total = weights.reduce((sum, [, weight]) => sum + weight, 0)
  let roll = next() % total
  for (const [value, weight] of weights) {
    if (roll < weight) return value
    roll -= weight
  }
  return weights[0]?.[0] ?? 0
}

function mask (words: readonly number[], prefixLength: number): number[] {
  return words.map((word, index) => {
    const bits = prefixLength - index * 32
    return bits >= 32 ? word >>> 0 : bits <= 0 ? 0 : (word & (0xffffffff << (32 - bits))) >>> 0
  })
}

function makeRule (family: 4 | 6, words: readonly number[], prefixLength: number): Rule {
  const network = mask(words, prefixLength)
  const address = formatIp(family, network)
  return { family, words: network, prefixLength, address, text: prefixLength === (family === 4 ? 32 : 128) ? address : `${address}/${prefixLength}` }
}

function specialRule (text: string): Rule {
  const [address = '', prefix = ''] = text.split('/')
  const family = address.includes(':') ? 6 : 4
  const words = family === 4
    ? [address.split('.').reduce((value, part) => value * 256 + Number(part), 0)]
    : [Number.parseInt(address.split(':')[0] ?? '0', 16) << 16 >>> 0, 0, 0, 0]
  return makeRule(family, words, Number(prefix))
}

function randomPublicIpv4 (next: () => number): number {
  // Stay clear of the special ranges, so that random rules do not sit inside them.
  for (;;) {
    const value = next()
    const first = value >>> 24
    if (first !== 0 && first !== 10 && first !== 100 && first !== 127 && first !== 169 && first !== 172 && first !== 192 && first !== 198 && first < 224) {
      return value
    }
  }
}

function randomRules (count: number, seed: number): Rule[] {
  const next = seededRandom(seed)
  const rules = SPECIAL_RANGES.slice(0, count).map(specialRule)
  while (rules.length < count) {
    if (next() % 10 < 7) {
      rules.push(makeRule(4, [randomPublicIpv4(next)], pick(next, [[32, 60], [24, 25], [22, 5], [20, 5], [16, 5]])))
    } else {
      const words = [(0x20000000 | (next() & 0x1fffffff)) >>> 0, next(), next(), next()]
      rules.push(makeRule(6, words, pick(next, [[128, 50], [64, 30], [48, 15], [32, 5]])))
    }
  }
  return rules
}

/**
 * A flat copy of a string. Addresses built by concatenation are V8 cons strings, slower to
 * read character by character than the flat strings a socket's `remoteAddress` gives.
 */
function flat (text: string): string {
  return JSON.parse(JSON.stringify(text)) as string
}

/** An address inside a rule: the network with random host bits. */
function addressIn (rule: Rule, next: () => number): string {
  const words = rule.words.map((word, index) => {
    const bits = rule.prefixLength - index * 32
    if (bits >= 32) return word
    const hostMask = bits <= 0 ? 0xffffffff : (0xffffffff >>> bits)
    return (word | (next() & hostMask)) >>> 0
  })
  return formatIp(rule.family, words)
}

/** Addresses inside random rules of the set. */
function hits (rules: readonly Rule[], count: number, seed: number): string[] {
  const next = seededRandom(seed)
  return Array.from({ length: count }, () => flat(addressIn(rules[next() % rules.length] ?? rules[0] as Rule, next)))
}

/** Addresses (70% IPv4, 30% IPv6) that no rule of `gate` matches. */
function misses (gate: DefaultGate, count: number, seed: number): string[] {
  const next = seededRandom(seed)
  const found: string[] = []
  while (found.length < count) {
    const address = next() % 10 < 7
      ? formatIp(4, [randomPublicIpv4(next)])
      : formatIp(6, [(0x20000000 | (next() & 0x1fffffff)) >>> 0, next(), next(), next()])
    if (gate.check(address).allowed) {
      found.push(flat(address))
    }
  }
  return found
}

function denyGate (rules: readonly Rule[]): DefaultGate {
  return createGate({ denyList: rules.map(rule => rule.text) })
}

/** js-libp2p's deny list: one `IpNet` per entry, checked one after the other. */
function netmaskList (rules: readonly Rule[]): IpNet[] {
  return rules.map(rule => new IpNet(rule.address, rule.prefixLength))
}

function blockList (rules: readonly Rule[]): BlockList {
  const list = new BlockList()
  for (const rule of rules) {
    const type = rule.family === 4 ? 'ipv4' : 'ipv6'
    if (rule.prefixLength === (rule.family === 4 ? 32 : 128)) {
      list.addAddress(rule.address, type)
    } else {
      list.addSubnet(rule.address, rule.prefixLength, type)
    }
  }
  return list
}

/** A task that runs `check` over `batch` consecutive inputs, cycling through all of them. */
function cycling (name: string, inputs: readonly string[], batch: number, check: (address: string) => boolean): BenchTask {
  return cyclingTask(name, inputs, batch, check)
}

const DISTINCT_ADDRESSES = 65_536
const GATE_BATCH = 4_096

function gateTasks (label: string, gate: DefaultGate, hitInputs: readonly string[], missInputs: readonly string[]): BenchTask[] {
  return [
    cycling(`@cm/gate, ${label}, miss`, missInputs, GATE_BATCH, address => !gate.check(address).allowed),
    cycling(`@cm/gate, ${label}, hit`, hitInputs, GATE_BATCH, address => !gate.check(address).allowed)
  ]
}

const COMPARISON_RULES = 10_000

/**
 * The check at 10,000 rules against what others do: js-libp2p's linear scan over
 * `@chainsafe/netmask` `IpNet`s, Node's `net.BlockList`, and `cidr-tools`.
 */
export const gateSuite: BenchSuite = {
  name: 'gate',
  description: `check cost at ${COMPARISON_RULES.toLocaleString('en')} rules (mixed IPv4/IPv6), hits and misses, against linear scans`,
  baseline: `js-libp2p: linear IpNet.contains scan (@chainsafe/netmask), ${COMPARISON_RULES.toLocaleString('en')} rules, miss`,
  tasks: () => {
    const rules = randomRules(COMPARISON_RULES, 1)
    const gate = denyGate(rules)
    const hitInputs = hits(rules, DISTINCT_ADDRESSES, 2)
    const missInputs = misses(gate, DISTINCT_ADDRESSES, 3)
    const nets = netmaskList(rules)
    const blocked = blockList(rules)
    const texts = rules.map(rule => rule.text)
    const label = `${COMPARISON_RULES.toLocaleString('en')} rules`
    const netmask = (address: string): boolean => nets.some(net => net.contains(address))
    const blockListCheck = (address: string): boolean => blocked.check(address, address.includes(':') ? 'ipv6' : 'ipv4')
    const cidrTools = (address: string): boolean => containsCidr(texts, address)
    return [
      cycling(`js-libp2p: linear IpNet.contains scan (@chainsafe/netmask), ${label}, miss`, missInputs, 1, netmask),
      cycling(`js-libp2p: linear IpNet.contains scan (@chainsafe/netmask), ${label}, hit`, hitInputs, 1, netmask),
      cycling(`net.BlockList.check, ${label}, miss`, missInputs, 4, blockListCheck),
      cycling(`net.BlockList.check, ${label}, hit`, hitInputs, 4, blockListCheck),
      cycling(`cidr-tools containsCidr, ${label}, miss`, missInputs, 1, cidrTools),
      cycling(`cidr-tools containsCidr, ${label}, hit`, hitInputs, 1, cidrTools),
      ...gateTasks(label, gate, hitInputs, missInputs)
    ]
  },
  targets: [{
    package: '@cm/gate',
    target: `at ${COMPARISON_RULES.toLocaleString('en')} rules, at least 100× faster than the fastest linear baseline`,
    evaluate: ({ rows }) => {
      const label = `${COMPARISON_RULES.toLocaleString('en')} rules`
      const [miss, hit] = (['miss', 'hit'] as const).map(kind => {
        const fastest = Math.min(...['js-libp2p: linear IpNet.contains scan (@chainsafe/netmask)', 'net.BlockList.check', 'cidr-tools containsCidr'].map(name => rowNamed(rows, `${name}, ${label}, ${kind}`).medianNs))
        const ours = rowNamed(rows, `@cm/gate, ${label}, ${kind}`).medianNs
        return { ours, times: fastest / ours }
      }) as [{ ours: number, times: number }, { ours: number, times: number }]
      return {
        measured: `misses ${formatNs(miss.ours)} (${Math.round(miss.times)}× faster), hits ${formatNs(hit.ours)} (${Math.round(hit.times)}×)`,
        met: miss.times >= 100 && hit.times >= 100
      }
    }
  }]
}

const SCALE_SIZES = [10, 1_000, 100_000, 1_000_000] as const

/**
 * How the check's cost grows with the number of rules, from 10 to 1,000,000. Each task
 * cycles through 65,536 distinct addresses, spread over the whole rule set, so that large
 * sets pay their cache misses; one more task at 1,000,000 rules cycles through 1,024
 * addresses only (a warm cache), to separate the memory cost from the lookup's work.
 * `net.BlockList`, the fastest linear baseline, runs beside it up to 100,000 rules; at
 * 1,000,000 rules a linear scan takes milliseconds per check and is left out.
 */
export const gateScaleSuite: BenchSuite = {
  name: 'gate-scale',
  description: 'check cost from 10 to 1,000,000 rules (mixed IPv4/IPv6), hits and misses',
  baseline: '@cm/gate, 10 rules, miss',
  tasks: () => {
    const tasks: BenchTask[] = []
    for (const size of SCALE_SIZES) {
      const rules = randomRules(size, 10 + size)
      const gate = denyGate(rules)
      const missInputs = misses(gate, DISTINCT_ADDRESSES, 20 + size)
      const hitInputs = hits(rules, DISTINCT_ADDRESSES, 30 + size)
      const label = `${size.toLocaleString('en')} rules`
      tasks.push(...gateTasks(label, gate, hitInputs, missInputs))
      if (size === 1_000_000) {
        tasks.push(...gateTasks(`${label}, 1,024 addresses (warm cache)`, gate, hitInputs.slice(0, 1_024), missInputs.slice(0, 1_024)))
        tasks.push(memoryReadFloor())
      } else {
        const blocked = blockList(rules)
        tasks.push(cycling(`net.BlockList.check, ${label}, miss`, missInputs, Math.max(1, Math.floor(4_096 / size)), address => blocked.check(address, address.includes(':') ? 'ipv6' : 'ipv4')))
      }
    }
    return tasks
  },
  targets: [{
    package: '@cm/gate',
    target: 'median check under 300 ns at 100,000 rules',
    evaluate: ({ rows }) => {
      const miss = rowNamed(rows, '@cm/gate, 100,000 rules, miss').medianNs
      const hit = rowNamed(rows, '@cm/gate, 100,000 rules, hit').medianNs
      return { measured: `misses ${formatNs(miss)}, hits ${formatNs(hit)}`, met: miss < 300 && hit < 300 }
    }
  }]
}

const FLOOR_TABLE_BYTES = 64 * 1024 * 1024

/**
 * The floor for any lookup that must read one word nothing has cached: one read from memory.
 * Reads follow a random cycle through a 64 MiB `Int32Array` (larger than the caches, about
 * the size of the million-rule gate's hash tables), each address taken from the word read
 * before, so reads cannot overlap and each costs the full latency of the memory.
 */
function memoryReadFloor (): BenchTask {
  const length = FLOOR_TABLE_BYTES / 4
  const next = new Int32Array(length)
  for (let index = 0; index < length; index++) next[index] = index
  // Sattolo's shuffle: one cycle through every word, so the walk never settles in a cache.
  const draw = seededRandom(99)
  for (let index = length - 1; index > 0; index--) {
    const other = draw() % index
    const swap = next[index] ?? 0
    next[index] = next[other] ?? 0
    next[other] = swap
  }
  let cursor = 0
  return {
    name: 'floor: one read from memory (a random word of a 64 MiB table, each read waiting on the one before)',
    batch: GATE_BATCH,
    fn: () => {
      for (let index = 0; index < GATE_BATCH; index++) cursor = next[cursor] ?? 0
      return cursor
    }
  }
}

/** A garbage collector: `global.gc` under --expose-gc, or one exposed through V8 flags. */
function collector (): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (exposed !== undefined) return exposed
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/** Memory in use, after a collection, while the gate `build` makes is alive. */
function measureWith (gc: () => void, build: () => DefaultGate): { bytes: number, rules: number } {
  const gate = build()
  gc()
  return { bytes: usedBytes(), rules: gate.size() }
}

const BUILD_RULES = 10_000

/**
 * Building a gate (parsing and validating every entry, then filling the tables) against
 * building a `net.BlockList` and js-libp2p's `IpNet` list. The report adds the build time
 * for 100,000 rules (median of three) and the memory per rule (V8 heap and array buffers,
 * after a full collection) at 10,000, 100,000 and 1,000,000 rules.
 */
export const gateBuildSuite: BenchSuite = {
  name: 'gate-build',
  description: `building a gate of ${BUILD_RULES.toLocaleString('en')} rules against building the baselines; build time at 100,000 rules and memory per rule`,
  baseline: `net.BlockList, ${BUILD_RULES.toLocaleString('en')} rules`,
  tasks: () => {
    const rules = randomRules(BUILD_RULES, 100)
    const texts = rules.map(rule => rule.text)
    return [
      { name: `net.BlockList, ${BUILD_RULES.toLocaleString('en')} rules`, fn: () => blockList(rules) },
      { name: `js-libp2p: IpNet per entry (@chainsafe/netmask), ${BUILD_RULES.toLocaleString('en')} rules`, fn: () => netmaskList(rules) },
      { name: `createGate({ denyList }), ${BUILD_RULES.toLocaleString('en')} rules`, fn: () => createGate({ denyList: texts }) }
    ]
  },
  report: () => {
    const gc = collector()
    const lines: string[] = ['']
    let bytesPerRule = Number.NaN
    const texts = randomRules(100_000, 200).map(rule => rule.text)
    const times = [0, 1, 2].map(() => {
      const start = performance.now()
      createGate({ denyList: texts })
      return performance.now() - start
    })
    const buildMs = median(times)
    lines.push(`Build of 100,000 rules (createGate({ denyList })): median ${buildMs.toFixed(0)} ms of ${times.map(time => time.toFixed(0)).join(', ')} ms.`)
    for (const size of [10_000, 100_000, 1_000_000]) {
      const sizeTexts = randomRules(size, 300 + size).map(rule => rule.text)
      // The memory freed when the gate goes, so that the input list (which building
      // flattens in place) is the same on both sides. The gate lives only inside
      // `measureWith`, whose frame is gone when the second reading is taken.
      const { bytes: withGate, rules } = measureWith(gc, () => createGate({ denyList: sizeTexts }))
      gc()
      const bytes = withGate - usedBytes()
      lines.push(`Memory at ${size.toLocaleString('en')} rules: ${(bytes / rules).toFixed(0)} bytes per rule (${(bytes / 2 ** 20).toFixed(1)} MiB for ${rules.toLocaleString('en')} distinct rules).`)
      bytesPerRule = bytes / rules
    }
    return { lines, figures: { buildMs, bytesPerRule } }
  },
  targets: [{
    package: '@cm/gate',
    target: 'building 100,000 rules under 500 ms',
    evaluate: ({ figures }) => ({ measured: `${(figures['buildMs'] ?? Number.NaN).toFixed(0)} ms (median of three)`, met: (figures['buildMs'] ?? Number.POSITIVE_INFINITY) < 500 })
  }, {
    package: '@cm/gate',
    target: 'memory per rule reported',
    evaluate: ({ figures }) => ({ measured: `${(figures['bytesPerRule'] ?? Number.NaN).toFixed(0)} bytes per rule at 1,000,000 rules`, met: Number.isFinite(figures['bytesPerRule']) })
  }]
}

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const MEGABYTE = 1024 * 1024

/**
 * Hostile input against a normal one: a megabyte of multiaddr, of IP text and of peer ID.
 * Every parser checks the length first, so each costs no more than a normal check (target:
 * within 10 µs). A 40,000-character peer ID once took 1.7-1.9 s (base58 decoding is
 * quadratic).
 */
export const gateHostileSuite: BenchSuite = {
  name: 'gate-hostile',
  description: 'check() on 1 MB hostile inputs against a normal multiaddr, 1,000 rules',
  baseline: 'normal multiaddr with a peer ID',
  tasks: () => {
    const gate = createGate({ denyList: [...randomRules(998, 7).map(rule => rule.text), PEER, '/ip4/198.51.100.0/ipcidr/24'] })
    const task = (name: string, address: string, peer?: string): BenchTask => cycling(name, [address], 64, input => gate.check(input, peer === undefined ? undefined : { peer }).allowed)
    return [
      task('normal multiaddr with a peer ID', `/ip4/192.0.2.7/tcp/4001/p2p/${PEER}`),
      task('1 MB multiaddr (a peer ID of 1 MB)', `/ip4/192.0.2.7/tcp/4001/p2p/${'1'.repeat(MEGABYTE)}`),
      task('40,000-character peer ID in a multiaddr', `/ip4/192.0.2.7/tcp/4001/p2p/${'1'.repeat(40_000)}`),
      task('1 MB IP address text', `192.0.2.7${'0'.repeat(MEGABYTE)}`),
      task('IP address with a 1 MB peer option', '192.0.2.7', `1${'2'.repeat(MEGABYTE)}`)
    ]
  },
  targets: [{
    package: '@cm/gate',
    target: 'check() on a 1 MB hostile input within 10 µs',
    evaluate: ({ rows }) => {
      const hostile = rows.filter(row => !row.isBaseline)
      const slowest = hostile.reduce<BenchRow | undefined>((worst, row) => worst === undefined || row.medianNs > worst.medianNs ? row : worst, undefined)
      return { measured: `slowest: ${slowest?.task ?? 'none'}, ${formatNs(slowest?.medianNs ?? Number.NaN)}`, met: hostile.length > 0 && hostile.every(row => row.medianNs < 10_000) }
    }
  }]
}
