/**
 * Example: per-host rate limiting of inbound connections over real sockets. Hosts on
 * distinct loopback addresses (and `::1`) connect faster than `inboundConnectionThreshold`;
 * the example shows who is admitted, who is refused with how long to wait
 * (`retryAfterMs`), and when a refused host is admitted again.
 *
 * The manager's clock is a {@link ManualClock} that the example moves: attempts within one
 * step happen at the same instant for the rate limiter whatever the machine's load, so the
 * figures are the same on every run. Sockets, admission and refusals are real.
 *
 * Run: pnpm --filter @cm/examples rate-limiting
 */
import { ManualClock } from './support/clock.ts'
import { describeVerdict, startServer } from './support/network.ts'
import { Report, until } from './support/report.ts'
import type { Server, Verdict } from './support/network.ts'

const THRESHOLD = 3
const report = new Report('Rate limiting', [
  `A @cm/manager TCP server with inboundConnectionThreshold: ${THRESHOLD} (attempts per second per host; also the`,
  'largest burst). Hosts 127.0.2.1-3 and ::1 connect. The manager reads time from a clock the',
  'example moves (times below are that clock\'s), so every run gives the same figures.'
])

const clock = new ManualClock()
let server: Server | undefined

await report.run(async () => {
  server = await startServer({
    config: { inboundConnectionThreshold: THRESHOLD },
    clock,
    ipv6: true,
    onConnection: connection => { connection.raw.write('welcome\n') }
  })
  const attempt = async (host: string): Promise<Verdict> => (await server!.attempt(host)).verdict
  const at = (): string => `t=${clock.now()} ms`.padEnd(10)

  report.section(`1. A burst at ${at().trim()}: 127.0.2.1 tries 6 times, 127.0.2.2 twice, 127.0.2.3 4 times, ::1 3 times`)
  const burst: Record<string, { attempts: number, admitted: number, refused: number, retryAfterMs: number[] }> = {}
  for (const [host, attempts] of [['127.0.2.1', 6], ['127.0.2.2', 2], ['127.0.2.3', 4], ['::1', 3]] as const) {
    const verdicts: Verdict[] = []
    for (let index = 0; index < attempts; index++) verdicts.push(await attempt(host))
    const refusals = verdicts.filter(verdict => !verdict.admitted)
    burst[host] = {
      attempts,
      admitted: attempts - refusals.length,
      refused: refusals.length,
      retryAfterMs: refusals.map(verdict => verdict.retryAfterMs ?? Number.NaN)
    }
    report.line(`  ${host.padEnd(10)} ${verdicts.map(verdict => verdict.admitted ? 'admitted' : `refused (retry in ${verdict.retryAfterMs} ms)`).join(', ')}`)
  }
  report.check(Object.values(burst).every(figures => figures.admitted === Math.min(figures.attempts, THRESHOLD)), `each host gets at most ${THRESHOLD} at once; the others are unaffected by 127.0.2.1`)
  const retry = burst['127.0.2.1']!.retryAfterMs[0]!
  report.check(retry > 0 && retry <= Math.ceil(1000 / THRESHOLD), `a refusal says when to retry (one token every ${Math.ceil(1000 / THRESHOLD)} ms)`)

  report.section(`2. When is 127.0.2.1 admitted again? It was told: retry in ${retry} ms`)
  clock.advance(retry - 1)
  const early = await attempt('127.0.2.1')
  report.line(`  ${at()} 1 ms early:      ${describeVerdict(early)}`)
  clock.advance(1)
  const onTime = await attempt('127.0.2.1')
  report.line(`  ${at()} on time:         ${describeVerdict(onTime)}`)
  const greedy = await attempt('127.0.2.1')
  report.line(`  ${at()} again at once:   ${describeVerdict(greedy)}`)
  report.check(!early.admitted && onTime.admitted && !greedy.admitted, 'refused 1 ms early, admitted on time, refused again straight after (one token refilled)')
  report.check(!early.admitted && early.retryAfterMs === 1, 'the early attempt is told to wait exactly 1 ms more (refusals use no budget)')

  report.section('3. A steady flood for 2 s: 127.0.2.1 tries every 100 ms, 127.0.2.2 every 400 ms')
  const steady = { '127.0.2.1': { attempts: 0, admitted: 0 }, '127.0.2.2': { attempts: 0, admitted: 0 } }
  const admittedTimes: number[] = []
  const start = clock.now()
  for (let step = 1; step <= 20; step++) {
    clock.advance(100)
    const flood = await attempt('127.0.2.1')
    steady['127.0.2.1'].attempts++
    if (flood.admitted) {
      steady['127.0.2.1'].admitted++
      admittedTimes.push(clock.now() - start)
    }
    if (step % 4 === 0) {
      steady['127.0.2.2'].attempts++
      if ((await attempt('127.0.2.2')).admitted) steady['127.0.2.2'].admitted++
    }
  }
  report.line(`  127.0.2.1: ${steady['127.0.2.1'].admitted} of ${steady['127.0.2.1'].attempts} admitted, at +${admittedTimes.join(', +')} ms: ${THRESHOLD} per second, its rate`)
  report.line(`  127.0.2.2: ${steady['127.0.2.2'].admitted} of ${steady['127.0.2.2'].attempts} admitted: within its rate, never refused`)
  report.check(steady['127.0.2.1'].admitted === 2 * THRESHOLD, 'the flooding host gets exactly its rate: 2 s × 3 per second')
  report.check(steady['127.0.2.2'].admitted === steady['127.0.2.2'].attempts, 'a host within its rate is never refused')

  report.section('4. What the clients saw')
  const clients = server.clients
  await until(() => clients.every(client => client.lines.length > 0 || client.socket.destroyed), 'every client to be welcomed or reset')
  const welcomed = clients.filter(client => client.lines[0] === 'welcome').length
  const reset = clients.filter(client => client.lines.length === 0).length
  const verdicts = server.allVerdicts()
  const admitted = verdicts.filter(entry => entry.verdict.admitted).length
  report.line(`  ${welcomed} clients read the server's "welcome"; ${reset} were reset before reading anything`)
  report.check(welcomed === admitted && reset === verdicts.length - admitted, 'each client saw what the server decided')
  const metrics = server.manager.metrics()
  report.line(`  metrics: ${metrics.refused['rate-limit']} refused by the rate limit; limiter: ${JSON.stringify({ admitted: metrics.rateLimit.admitted, refused: metrics.rateLimit.refused })}`)

  report.finish({
    threshold: THRESHOLD,
    burst,
    again: { retryAfterMs: retry, early: early.admitted, onTime: onTime.admitted, greedy: greedy.admitted, earlyRetryAfterMs: early.admitted ? 0 : early.retryAfterMs },
    steady: { ...steady, admittedAtMs: admittedTimes },
    clients: { welcomed, reset },
    refused: metrics.refused['rate-limit']
  })
}, async () => { await server?.stop() })
