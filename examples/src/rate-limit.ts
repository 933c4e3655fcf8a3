/**
 * Example: a host hammering the node, a polite host, one IPv6 /64, and a flood of a million
 * addresses, through @cm/rate-limit on a simulated clock.
 *
 * Run: pnpm --filter @cm/examples rate-limit
 */
import { createRateLimiter } from '@cm/rate-limit'

let now = 0
const limiter = createRateLimiter({
  threshold: 5, // per second per host
  maxKeys: 10_000,
  tiers: [{ name: 'subnet', limit: 20, ipv4PrefixLength: 24, ipv6PrefixLength: 48 }],
  clock: { now: () => now }
})

// One host tries every 50 ms for two seconds; another every 250 ms.
let hammerAdmitted = 0
let politeAdmitted = 0
for (let ms = 0; ms < 2_000; ms += 50) {
  now = ms
  if (limiter.tryAcquire('198.51.100.66').allowed) hammerAdmitted++
  if (ms % 250 === 0 && limiter.tryAcquire('192.0.2.10').allowed) politeAdmitted++
}
console.log(`Hammering host (40 attempts in 2 s): ${hammerAdmitted} admitted: a burst of 5, then one per 200 ms`)
console.log(`Polite host (8 attempts in 2 s): ${politeAdmitted} admitted`)

// Every address of one /64 is one host.
now = 10_000
const sameHost = ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:abcd::9', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::5', '2001:db8:1:2::6']
const verdicts = sameHost.map(ip => limiter.tryAcquire(ip))
console.log(`Six addresses of one IPv6 /64 at once: ${verdicts.filter(verdict => verdict.allowed).length} admitted`)
const last = verdicts.at(-1)
if (last !== undefined && !last.allowed) {
  console.log(`  the sixth: ${JSON.stringify(last)}`)
}

// A flood: a million distinct sources in one second, the polite host still trying every 250 ms.
let politeDuringFlood = 0
for (let index = 0; index < 1_000_000; index++) {
  now = 20_000 + index / 1_000
  limiter.tryAcquire(`10.${index >>> 16}.${(index >>> 8) & 0xff}.${index & 0xff}`)
  if (index % 250_000 === 0 && limiter.tryAcquire('192.0.2.10').allowed) politeDuringFlood++
}
const [host, subnet] = limiter.stats().tiers
console.log(`During a flood of 1,000,000 addresses: the polite host was admitted ${politeDuringFlood} of 4 times`)
console.log(`  host tier: ${host?.trackedKeys} keys held in both families (cap ${host?.maxKeys} per family), ${host?.evictions} evicted`)
console.log(`  subnet tier: ${subnet?.refused} attempts refused (20 per second per /24)`)
