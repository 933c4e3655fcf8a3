import { createHash } from 'node:crypto'

/**
 * The Redis keys of one fleet, all under its prefix:
 * - `rules`: a hash, `list entry` → `seq expiresAt writer writtenAt` (the snapshot);
 * - `log`: a stream of every change (`seq op list entry exp by at`), trimmed to about
 *   `logLength` entries;
 * - `meta`: a hash with the last `seq`, the last log `id` and the store's `epoch`;
 * - `expiry`: a sorted set of timed rules by expiry, to delete lapsed ones from `rules`;
 * - `nodes`: a sorted set of the live nodes by their last heartbeat;
 * - `budget:<tier>:<window>`: a hash per budget tier and window, key → fleet-wide count.
 */
export interface FleetKeys {
  readonly rules: string
  readonly log: string
  readonly meta: string
  readonly expiry: string
  readonly nodes: string
  readonly budget: string
}

/** The keys of the fleet with this prefix. */
export function fleetKeys (prefix: string): FleetKeys {
  return {
    rules: `${prefix}rules`,
    log: `${prefix}log`,
    meta: `${prefix}meta`,
    expiry: `${prefix}expiry`,
    nodes: `${prefix}nodes`,
    budget: `${prefix}budget:`
  }
}

/** A Lua script and its SHA-1 (for EVALSHA). */
export interface Script {
  readonly source: string
  readonly sha: string
}

function script (source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

/**
 * Shared by the scripts: Redis's time in milliseconds, and one change written atomically
 * to the log, the snapshot hash and the expiry set. KEYS: rules, log, meta, expiry.
 */
const COMMON = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function write(op, list, entry, exp, by, now, maxlen)
  local seq = redis.call('HINCRBY', KEYS[3], 'seq', 1)
  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'seq', seq, 'op', op, 'list', list, 'entry', entry, 'exp', exp, 'by', by, 'at', now)
  redis.call('HSET', KEYS[3], 'id', id)
  local field = list .. ' ' .. entry
  if op == 'set' then
    redis.call('HSET', KEYS[1], field, seq .. ' ' .. exp .. ' ' .. by .. ' ' .. now)
    if exp ~= 0 then
      redis.call('ZADD', KEYS[4], exp, field)
    else
      redis.call('ZREM', KEYS[4], field)
    end
  else
    redis.call('HDEL', KEYS[1], field)
    redis.call('ZREM', KEYS[4], field)
  end
  return seq
end
`

/**
 * Writes one rule change. KEYS: rules, log, meta, expiry. ARGV: op (`set`, `del` or
 * `restore`: a set only if the rule is absent), list, entry, ttl in ms (0: none), writer,
 * log length, epoch candidate, absolute expiry in ms (0: none; used by `restore`).
 * Returns `{seq, expiresAt, now, epoch}` (`seq` 0 when a restore found the rule there).
 */
export const WRITE_SCRIPT = script(`${COMMON}
local now = now_ms()
redis.call('HSETNX', KEYS[3], 'epoch', ARGV[7])
local op = ARGV[1]
local exp = 0
if tonumber(ARGV[4]) > 0 then exp = now + tonumber(ARGV[4]) end
if op == 'restore' then
  if redis.call('HEXISTS', KEYS[1], ARGV[2] .. ' ' .. ARGV[3]) == 1 then
    return {0, 0, now, redis.call('HGET', KEYS[3], 'epoch')}
  end
  op = 'set'
  exp = tonumber(ARGV[8])
  if exp ~= 0 and exp <= now then
    return {0, 0, now, redis.call('HGET', KEYS[3], 'epoch')}
  end
end
local seq = write(op, ARGV[2], ARGV[3], exp, ARGV[5], now, ARGV[6])
return {seq, exp, now, redis.call('HGET', KEYS[3], 'epoch')}
`)

/**
 * The snapshot's position: the last seq and log id, and the store's epoch (set to the
 * candidate if the store has none), read atomically. KEYS: meta. ARGV: epoch candidate.
 * Returns `{seq, id, epoch, now}`.
 */
export const POSITION_SCRIPT = script(`
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1])
local meta = redis.call('HMGET', KEYS[1], 'seq', 'id', 'epoch')
local t = redis.call('TIME')
return {meta[1] or '0', meta[2] or '0-0', meta[3], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}
`)

/**
 * One sync of a node: heartbeat, lapsed rules deleted from the snapshot, and the node's
 * attempt counts added to the fleet's. A key whose fleet-wide count reaches its tier's
 * limit in this call gets a deny rule until the window ends (unless a longer or permanent
 * one is there), written to the log like any rule, so every node enforces it.
 * KEYS: rules, log, meta, expiry, nodes. ARGV: node, node TTL ms, log length, epoch
 * candidate, budget key prefix, tier count k, then k pairs (limit, windowMs), then
 * quadruples (tier index from 0, window index, key, count): the count goes to the window
 * the node counted it in, if that is Redis's current window or one next to it. Returns
 * `{now, live nodes, epoch, totals…}` with one total per quadruple.
 */
export const SYNC_SCRIPT = script(`${COMMON}
local now = now_ms()
redis.call('HSETNX', KEYS[3], 'epoch', ARGV[4])
redis.call('ZADD', KEYS[5], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - tonumber(ARGV[2]))
local nodes = redis.call('ZCARD', KEYS[5])
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 256)
for _, field in ipairs(lapsed) do
  redis.call('HDEL', KEYS[1], field)
  redis.call('ZREM', KEYS[4], field)
end
local result = {now, nodes, redis.call('HGET', KEYS[3], 'epoch')}
local tiers = tonumber(ARGV[6])
local i = 7 + 2 * tiers
local expiring = {}
while i + 3 <= #ARGV do
  local tier = tonumber(ARGV[i])
  local key = ARGV[i + 2]
  local count = tonumber(ARGV[i + 3])
  local limit = tonumber(ARGV[7 + 2 * tier])
  local window = tonumber(ARGV[8 + 2 * tier])
  local w = math.floor(now / window)
  local given = tonumber(ARGV[i + 1])
  if given == w - 1 or given == w + 1 then w = given end
  local hash = ARGV[5] .. tier .. ':' .. w
  local total = redis.call('HINCRBY', hash, key, count)
  if not expiring[hash] then
    redis.call('PEXPIRE', hash, 2 * window)
    expiring[hash] = true
  end
  if total >= limit and total - count < limit then
    local until_ms = (w + 1) * window
    local current = redis.call('HGET', KEYS[1], 'deny ' .. key)
    local current_exp = nil
    if current then current_exp = tonumber(string.match(current, '^%d+ (%d+) ')) end
    if current_exp == nil or (current_exp ~= 0 and current_exp < until_ms) then
      write('set', 'deny', key, until_ms, 'budget', now, ARGV[3])
    end
  end
  result[#result + 1] = total
  i = i + 4
end
return result
`)
