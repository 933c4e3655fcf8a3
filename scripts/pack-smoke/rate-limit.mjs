// Smoke test of @cm/rate-limit installed alone: valid as ESM JavaScript and as TypeScript.
import { InvalidConfigError } from '@cm/config'
import { createRateLimiter, RateLimiter } from '@cm/rate-limit'

let now = 0
const limiter = new RateLimiter({ threshold: 2, clock: { now: () => now } })
const decisions = ['10.0.0.1', '::ffff:10.0.0.1', '10.0.0.1'].map(ip => limiter.tryAcquire(ip).allowed)
if (decisions.join() !== 'true,true,false') {
  throw new Error(`tryAcquire decided ${decisions.join()} for a burst at threshold 2`)
}
const refused = limiter.tryAcquire('10.0.0.1')
if (refused.allowed || refused.reason !== 'rate-limit' || refused.retryAfterMs !== 500 || refused.tier !== 'host') {
  throw new Error(`unexpected refusal: ${JSON.stringify(refused)}`)
}
now = 500
if (!limiter.tryAcquire('10.0.0.1').allowed) {
  throw new Error('the budget did not refill')
}
if (!limiter.tryAcquire('2001:db8::1').allowed || limiter.tryAcquire('2001:db8::2').allowed !== true) {
  throw new Error('IPv6 /64 keys at threshold 2 misbehaved')
}
if (limiter.tryAcquire('2001:db8::3').allowed) {
  throw new Error('an IPv6 /64 was not counted as one host')
}
if (limiter.stats().admitted !== 5) {
  throw new Error(`stats counted ${limiter.stats().admitted} admitted attempts, not 5`)
}
let invalid = false
try {
  createRateLimiter({ threshold: -1 })
} catch (error) {
  invalid = InvalidConfigError.isInstance(error)
}
if (!invalid) {
  throw new Error('an invalid threshold was not refused')
}
console.log('@cm/rate-limit ok')
