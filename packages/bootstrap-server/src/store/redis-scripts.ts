/**
 * The Lua scripts: each is one atomic step on Redis, so two instances never interleave a check and its
 * write (the per-IP limit, the ownership rules). Entry fields as in records.ts: 3 type, 4 ip,
 * 7 instance, 8 unproven, 9 token hash, 10 ip key. Every key shares the prefix's hash tag (one slot).
 */

const FIELDS = `
local function fields(v)
  local f = {}
  for part in string.gmatch(v, '[^|]+') do f[#f + 1] = part end
  return f
end
`

/**
 * KEYS: entry, ip zset, passive set, simultaneous set. ARGV: entry, ttl, now, max per ip, node id,
 * unproven (0/1), ip, type (p/s), prefix. Returns {verdict, previous instance}.
 */
export const REGISTER = `${FIELDS}
local old = redis.call('GET', KEYS[1])
local prev = ''
if old then
  local f = fields(old)
  if ARGV[6] == '1' and f[8] == '0' then return {'proof', ''} end
  if ARGV[6] == '1' and f[4] ~= ARGV[7] then return {'address', ''} end
  prev = f[7] or ''
  if f[10] and (ARGV[9] .. 'ip:' .. f[10]) ~= KEYS[2] then redis.call('ZREM', ARGV[9] .. 'ip:' .. f[10], ARGV[5]) end
end
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if not redis.call('ZSCORE', KEYS[2], ARGV[5]) and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  return {'per-ip', prev}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[2], 'GT')
if redis.call('TTL', KEYS[2]) == -1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
if ARGV[8] == 'p' then
  redis.call('SADD', KEYS[3], ARGV[5]); redis.call('SREM', KEYS[4], ARGV[5])
else
  redis.call('SADD', KEYS[4], ARGV[5]); redis.call('SREM', KEYS[3], ARGV[5])
end
return {'ok', prev}
`

/**
 * KEYS: passive set, simultaneous set. ARGV: count, with simultaneous (0/1), prefix. Entries found.
 * One MGET per set (not a GET per id: a pool read of hundreds of ids stays a handful of commands).
 */
export const SAMPLE = `
local out = {}
local function take(set, n)
  local ids = redis.call('SRANDMEMBER', set, n)
  if #ids == 0 then return end
  local keys = {}
  for i, id in ipairs(ids) do keys[i] = ARGV[3] .. 'n:' .. id end
  local vals = redis.call('MGET', unpack(keys))
  for i, id in ipairs(ids) do
    local v = vals[i]
    if v then out[#out + 1] = v else redis.call('SREM', set, id) end
  end
end
take(KEYS[1], tonumber(ARGV[1]))
if ARGV[2] == '1' then take(KEYS[2], tonumber(ARGV[1])) end
return out
`

/**
 * KEYS: entry, passive set, simultaneous set. ARGV: token hash, proven (0/1), prefix. A proven entry
 * needs a proven CLEAR; the hashes are compared in Lua (a hash, so timing says nothing of the token).
 */
export const CLEAR = `${FIELDS}
local v = redis.call('GET', KEYS[1])
if not v then return {'none', ''} end
local f = fields(v)
if f[9] == '-' or f[9] ~= ARGV[1] then return {'none', ''} end
if f[8] == '0' and ARGV[2] == '0' then return {'proof', ''} end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], f[2]); redis.call('SREM', KEYS[3], f[2])
if f[10] then redis.call('ZREM', ARGV[3] .. 'ip:' .. f[10], f[2]) end
return {'ok', f[7] or ''}
`

/** KEYS: entry, ip zset, passive set, simultaneous set. ARGV: instance, node id. Only this instance's entry. */
export const UNREGISTER = `${FIELDS}
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local f = fields(v)
if f[7] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('SREM', KEYS[3], ARGV[2]); redis.call('SREM', KEYS[4], ARGV[2])
return 1
`

/**
 * KEYS: entry, ip zset, passive set, simultaneous set. ARGV: entry, ttl, now, node id, type (p/s),
 * instance. Writes the entry again unless another instance holds the id now (republish, refresh).
 */
export const PUT = `${FIELDS}
local v = redis.call('GET', KEYS[1])
if v then
  local f = fields(v)
  if f[7] and f[7] ~= ARGV[6] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[2], 'GT')
if redis.call('TTL', KEYS[2]) == -1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
if ARGV[5] == 'p' then redis.call('SADD', KEYS[3], ARGV[4]) else redis.call('SADD', KEYS[4], ARGV[4]) end
return 1
`
