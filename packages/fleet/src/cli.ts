#!/usr/bin/env node
/**
 * `cm-fleet`: writes and lists a fleet's rules from a shell, with {@link FleetAdmin}.
 *
 * @example
 * ```sh
 * cm-fleet --url redis://127.0.0.1:6379 --prefix cm:fleet:relays: deny 203.0.113.0/24 --ttl 1h
 * cm-fleet list deny
 * ```
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { createFleetAdmin } from './admin.ts'
import type { GateList } from '@cm/gate'

const USAGE = `Usage: cm-fleet [options] <command>

Commands:
  deny <entry> [--ttl <duration>]    ban an IP, CIDR range, multiaddr or peer ID on every node
  allow <entry> [--ttl <duration>]   add an allow rule (an allow list is exclusive)
  trust <entry> [--ttl <duration>]   add a trusted rule (exempt from limits)
  remove <deny|allow|trusted> <entry>
  list [deny|allow|trusted]          the fleet's rules, one per line

Options:
  --url <url>         redis:// or rediss:// URL (env CM_FLEET_URL; default redis://127.0.0.1:6379)
  --prefix <prefix>   the fleet's key prefix (env CM_FLEET_PREFIX; default cm:fleet:)
  --user <name>       ACL user (env CM_FLEET_USER)
                      the password is read from the env CM_FLEET_PASSWORD, never from the command line
  --tls               connect with TLS (also implied by rediss://)
  --name <name>       the writer's name recorded with the rules (default: $USER or admin)
  --ttl <duration>    e.g. 90s, 10m, 1h, 7d, or milliseconds
  -h, --help          this text`

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Milliseconds from `90s`, `10m`, `1h`, `7d` or a plain number of milliseconds. */
function parseDuration (text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)?$/.exec(text)
  if (match === null) throw new Error(`--ttl wants a duration such as 90s, 10m, 1h or 7d, got ${JSON.stringify(text)}`)
  return Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1)
}

function listName (text: string | undefined): GateList {
  if (text === 'deny' || text === 'allow' || text === 'trusted') return text
  throw new Error(`expected deny, allow or trusted, got ${JSON.stringify(text ?? '')}`)
}

async function main (argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      prefix: { type: 'string' },
      user: { type: 'string' },
      tls: { type: 'boolean' },
      name: { type: 'string' },
      ttl: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  const [command, ...rest] = positionals
  if (values.help === true || command === undefined) {
    console.log(USAGE)
    return command === undefined && values.help !== true ? 2 : 0
  }
  const env = process.env
  const user = values.user ?? env['CM_FLEET_USER']
  const password = env['CM_FLEET_PASSWORD']
  const admin = createFleetAdmin({
    redis: {
      url: values.url ?? env['CM_FLEET_URL'] ?? 'redis://127.0.0.1:6379',
      ...(user === undefined ? {} : { username: user }),
      ...(password === undefined ? {} : { password }),
      ...(values.tls === true ? { tls: true } : {})
    },
    prefix: values.prefix ?? env['CM_FLEET_PREFIX'] ?? 'cm:fleet:',
    name: values.name ?? (env['USER'] !== undefined && /^[\x21-\x7e]{1,64}$/.test(env['USER']) ? env['USER'] : 'admin')
  })
  const signal = AbortSignal.timeout(15_000)
  try {
    const ttl = values.ttl === undefined ? undefined : parseDuration(values.ttl)
    switch (command) {
      case 'deny':
      case 'allow':
      case 'trust': {
        const entry = rest[0]
        if (entry === undefined) throw new Error(`${command} wants an entry`)
        const rule = await admin[command](entry, { ttl, signal })
        console.log(`${rule.list} ${rule.entry}${rule.expiresAt === undefined ? '' : ` until ${new Date(rule.expiresAt).toISOString()}`} (change #${rule.seq})`)
        return 0
      }
      case 'remove': {
        const list = listName(rest[0])
        const entry = rest[1]
        if (entry === undefined) throw new Error('remove wants a list and an entry')
        const existed = await admin.remove(list, entry, { signal })
        console.log(existed ? `removed ${list} ${entry}` : `${list} ${entry} was not a rule of the fleet (the removal is recorded anyway)`)
        return 0
      }
      case 'list': {
        const rules = await admin.rules(rest[0] === undefined ? undefined : listName(rest[0]), { signal })
        for (const rule of rules) {
          console.log(`${rule.list}\t${rule.entry}\t${rule.expiresAt === undefined ? 'permanent' : new Date(rule.expiresAt).toISOString()}\t${rule.by}`)
        }
        return 0
      }
      default:
        console.error(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`)
        return 2
    }
  } finally {
    admin.close()
  }
}

main(process.argv.slice(2)).then(
  code => { process.exitCode = code },
  (error: unknown) => {
    console.error(`cm-fleet: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  }
)
