import { parseAddressEntry } from '@cm/config/address'
import { finiteNumberRule, ProblemCollector } from '@cm/config/validation'
import { ErrorReply } from '@redis/client'
import { FleetUnavailableError } from './errors.ts'
import { resolveAdminOptions } from './options.ts'
import { isChange, readHashRule } from './records.ts'
import { connectRedis, evalScript } from './redis.ts'
import { fleetKeys, WRITE_SCRIPT } from './scripts.ts'
import type { FleetRedisOptions, ResolvedRedisOptions } from './options.ts'
import type { FleetRule } from './records.ts'
import type { RedisLink } from './redis.ts'
import type { FleetKeys } from './scripts.ts'
import type { AbortOptions } from '@cm/config'
import type { GateList } from '@cm/gate'

/**
 * Options of {@link createFleetAdmin}.
 *
 * @example
 * ```ts
 * import type { FleetAdminInit } from '@cm/fleet'
 *
 * const init: FleetAdminInit = { redis: { url: 'redis://127.0.0.1:6379' }, prefix: 'cm:fleet:relays:', name: 'ops-alice' }
 * ```
 */
export interface FleetAdminInit {
  /** How to reach Redis, as for a node. @default `{ url: 'redis://127.0.0.1:6379' }` */
  readonly redis?: FleetRedisOptions | undefined
  /** The fleet's key prefix, as its nodes use it. @default 'cm:fleet:' */
  readonly prefix?: string | undefined
  /** The name recorded with the rules written (1 to 64 printable ASCII characters). @default 'admin' */
  readonly name?: string | undefined
  /** About how many changes the rule log keeps, as the nodes' `logLength`. @default 100000 */
  readonly logLength?: number | undefined
}

const TTL_RULE = finiteNumberRule({ min: 0, exclusiveMin: true, max: 100 * 365 * 86_400_000 })
const LISTS: readonly GateList[] = ['deny', 'allow', 'trusted']
const ACCEPT_ALL: readonly GateList[] = LISTS
const WIDEST_ANY = { ipv4PrefixLength: 0, ipv6PrefixLength: 0 }

/**
 * Writes and reads a fleet's rules without being a node of it: for operators and scripts
 * (the `cm-fleet` command is built on it). Writes reach every node through the log, as a
 * node's do; nothing is enforced here. It connects on first use; `close()` disconnects.
 *
 * @example
 * ```ts
 * import { createFleetAdmin } from '@cm/fleet'
 *
 * const admin = createFleetAdmin({ redis: { url: 'redis://127.0.0.1:6379' }, name: 'ops-alice' })
 * await admin.deny('203.0.113.0/24', { ttl: 24 * 60 * 60_000 })
 * await admin.remove('deny', '198.51.100.7')
 * console.log(await admin.rules('deny'))
 * admin.close()
 * ```
 */
export class FleetAdmin {
  readonly #keys: FleetKeys
  readonly #name: string
  readonly #logLength: number
  readonly #redis: ResolvedRedisOptions
  #link: Promise<RedisLink> | undefined

  /**
   * @param init - how to reach Redis, the prefix, the writer's name
   * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
   */
  constructor (init: FleetAdminInit = {}) {
    const options = resolveAdminOptions(init)
    this.#keys = fleetKeys(options.prefix)
    this.#redis = options.redis
    this.#name = options.name
    this.#logLength = options.logLength
  }

  /**
   * Bans an entry on every node.
   *
   * @param entry - an IP address, CIDR range, multiaddr or peer ID
   * @param options - `ttl` (ms), `signal`
   * @returns the rule as written
   * @throws `InvalidAddressError` or `InvalidConfigError` (from `@cm/config`),
   *   {@link FleetUnavailableError}, or `signal.reason` (as rejections)
   */
  async deny (entry: string, options: AbortOptions & { ttl?: number | undefined } = {}): Promise<FleetRule> {
    return await this.#set('deny', entry, options)
  }

  /**
   * Adds an allow rule on every node.
   *
   * @param entry - an IP address, CIDR range, multiaddr or peer ID
   * @param options - `ttl` (ms), `signal`
   * @returns the rule as written
   * @throws as {@link FleetAdmin.deny}
   */
  async allow (entry: string, options: AbortOptions & { ttl?: number | undefined } = {}): Promise<FleetRule> {
    return await this.#set('allow', entry, options)
  }

  /**
   * Adds a trusted rule on every node.
   *
   * @param entry - an IP address, CIDR range, multiaddr or peer ID
   * @param options - `ttl` (ms), `signal`
   * @returns the rule as written
   * @throws as {@link FleetAdmin.deny}
   */
  async trust (entry: string, options: AbortOptions & { ttl?: number | undefined } = {}): Promise<FleetRule> {
    return await this.#set('trusted', entry, options)
  }

  /**
   * Removes a rule from every node.
   *
   * @param list - `'deny'`, `'allow'` or `'trusted'`
   * @param entry - the entry, in any spelling
   * @param options - `signal`
   * @returns whether the fleet had the rule
   * @throws as {@link FleetAdmin.deny}
   */
  async remove (list: GateList, entry: string, options: AbortOptions = {}): Promise<boolean> {
    this.#checkList(list)
    const text = parseAddressEntry(entry).text
    const existed = await this.#run('remove', options.signal, async link => await link.sendCommand(['HEXISTS', this.#keys.rules, `${list} ${text}`]))
    await this.#run('remove', options.signal, async link => await evalScript(link, WRITE_SCRIPT, this.#writeKeys(), ['del', list, text, 0, this.#name, this.#logLength, 'admin', 0]))
    return existed === 1 || existed === '1'
  }

  /**
   * The fleet's rules as Redis holds them (lapsed ones left out), sorted by list and
   * entry. Malformed records are left out too.
   *
   * @param list - one list, or all three
   * @param options - `signal`
   * @throws {@link FleetUnavailableError}, or `signal.reason` (as rejections)
   */
  async rules (list?: GateList, options: AbortOptions = {}): Promise<FleetRule[]> {
    if (list !== undefined) this.#checkList(list)
    return await this.#run('rules', options.signal, async link => {
      const rules: FleetRule[] = []
      const now = Date.now()
      let cursor = '0'
      do {
        const page = await link.sendCommand(['HSCAN', this.#keys.rules, cursor, 'COUNT', '1000'])
        if (!Array.isArray(page) || typeof page[0] !== 'string' || !Array.isArray(page[1])) throw new Error('Unexpected reply to HSCAN')
        cursor = page[0]
        const pairs = page[1] as unknown[]
        for (let index = 0; index + 1 < pairs.length; index += 2) {
          const read = readHashRule(pairs[index], pairs[index + 1], ACCEPT_ALL, WIDEST_ANY)
          if (!isChange(read) || (list !== undefined && read.list !== list)) continue
          if (read.expiresAt !== 0 && read.expiresAt <= now) continue
          rules.push(read.expiresAt === 0
            ? { list: read.list, entry: read.entry, seq: read.seq, by: read.by }
            : { list: read.list, entry: read.entry, expiresAt: read.expiresAt, seq: read.seq, by: read.by })
        }
      } while (cursor !== '0')
      return rules.sort((a, b) => a.list === b.list ? (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0) : LISTS.indexOf(a.list) - LISTS.indexOf(b.list))
    })
  }

  /** Disconnects from Redis. Idempotent; the next operation connects again. */
  close (): void {
    const link = this.#link
    this.#link = undefined
    void link?.then(connected => { connected.destroy() }, () => {})
  }

  async #set (list: GateList, entry: string, options: AbortOptions & { ttl?: number | undefined }): Promise<FleetRule> {
    const text = parseAddressEntry(entry).text
    const problems = new ProblemCollector()
    if (options.ttl !== undefined) TTL_RULE.check(options.ttl, 'ttl', problems)
    problems.throwIfAny()
    const ttl = options.ttl === undefined ? 0 : Math.ceil(options.ttl)
    const reply = await this.#run(list === 'trusted' ? 'trust' : list, options.signal, async link => await evalScript(link, WRITE_SCRIPT, this.#writeKeys(), ['set', list, text, ttl, this.#name, this.#logLength, 'admin', 0]))
    const values = Array.isArray(reply) ? reply as unknown[] : []
    const seq = Number(values[0])
    const expiresAt = Number(values[1])
    return expiresAt > 0 ? { list, entry: text, expiresAt, seq, by: this.#name } : { list, entry: text, seq, by: this.#name }
  }

  #checkList (list: unknown): void {
    if (!LISTS.includes(list as GateList)) {
      const problems = new ProblemCollector()
      problems.add('list', 'one of "deny", "allow", "trusted"', list)
      problems.throwIfAny()
    }
  }

  #writeKeys (): string[] {
    return [this.#keys.rules, this.#keys.log, this.#keys.meta, this.#keys.expiry]
  }

  async #run<T> (operation: string, signal: AbortSignal | undefined, command: (link: RedisLink) => Promise<T>): Promise<T> {
    signal?.throwIfAborted()
    const work = (async () => {
      this.#link ??= connectRedis(this.#redis, `cm-fleet-admin:${this.#name}`, () => { this.close() })
      const pending = this.#link
      try {
        return await command(await pending)
      } catch (error) {
        if (!(error instanceof ErrorReply) && this.#link === pending) this.close()
        throw new FleetUnavailableError(operation, error)
      }
    })()
    if (signal === undefined) return await work
    work.catch(() => {})
    return await new Promise<T>((resolve, reject) => {
      const onAbort = (): void => { reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
      work.then(
        value => { signal.removeEventListener('abort', onAbort); resolve(value) },
        (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error) }
      )
    })
  }
}

/**
 * Creates a {@link FleetAdmin}, to write and read a fleet's rules from outside the fleet.
 *
 * @param init - how to reach Redis, the prefix, the writer's name
 * @throws `InvalidConfigError` (from `@cm/config`) listing every problem with the options
 *
 * @example
 * ```ts
 * import { createFleetAdmin } from '@cm/fleet'
 *
 * const admin = createFleetAdmin({ prefix: 'cm:fleet:relays:' })
 * admin.close()
 * ```
 */
export function createFleetAdmin (init?: FleetAdminInit): FleetAdmin {
  return new FleetAdmin(init)
}
