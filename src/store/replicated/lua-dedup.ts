/**
 * What both write scripts of replicated entities (scripts.ts, predicted.ts) start with: `MAX`
 * (the largest safe integer), `fail(message)` (an error reply) and `count(value)` (a
 * non-negative safe integer argument, or nil).
 */
export const LUA_COMMON = `local MAX = 9007199254740991
local function fail(message) return redis.error_reply('ERR knstate replicated: ' .. message) end
local function count(value)
  local n = tonumber(value)
  if n == nil or n < 0 or n ~= math.floor(n) or n > MAX then return nil end
  return n
end
`;

/**
 * Writing the dedup records of an apply batch, and the sweep of expired ones (as in the append
 * script: `t` when due, `tc`/`tm` while it goes on, 100 fields per batch). Part of the apply
 * script (scripts.ts), which defines `D` (the dedup hash), `records`, `written`, `ttl`,
 * `nowMs` and `int`.
 */
export const LUA_WRITE_RECORDS = `if #records > 0 then
  local expiry = nowMs + ttl
  local prefix = string.format('%x|', expiry)
  local put = {}
  for _, id in ipairs(records) do put[#put + 1] = 'r' .. id; put[#put + 1] = prefix .. written[id] end
  -- The sweep of expired records, as in the append script.
  local meta = redis.call('HMGET', D, 't', 'tc', 'tm')
  local sweepAt = tonumber(meta[1] or '')
  if sweepAt ~= nil and sweepAt <= nowMs then
    local low = tonumber(meta[3] or '')
    local scan = redis.call('HSCAN', D, meta[2] or '0', 'MATCH', 'r*', 'COUNT', 100)
    local dead = {}
    local fields = scan[2]
    for i = 1, #fields, 2 do
      local at = tonumber(string.match(fields[i + 1], '^(%x+)|') or '0', 16)
      if at <= nowMs then dead[#dead + 1] = fields[i]
      elseif low == nil or at < low then low = at end
    end
    if #dead > 0 then redis.call('HDEL', D, unpack(dead)) end
    if low == nil or expiry < low then low = expiry end
    if scan[1] == '0' then
      -- The next pass no sooner than a tenth of the window: a hot entity sweeps 10% of the time.
      redis.call('HDEL', D, 'tc', 'tm')
      put[#put + 1] = 't'; put[#put + 1] = int(math.max(low, nowMs + math.floor(ttl / 10)))
    else
      put[#put + 1] = 'tc'; put[#put + 1] = scan[1]
      put[#put + 1] = 'tm'; put[#put + 1] = int(low)
    end
  elseif sweepAt == nil or expiry < sweepAt then
    put[#put + 1] = 't'; put[#put + 1] = int(expiry)
  end
  for i = 1, #put, 1000 do redis.call('HSET', D, unpack(put, i, math.min(i + 999, #put))) end
end
`;

/**
 * The merged values: KEYS: the values hash, the dedup hash; ARGV: dedup ids. Reply: {now ms,
 * {name, value, ...}, {live record or false per dedup id}}.
 */
export const REPLICATED_LOAD_SCRIPT = `#!lua flags=no-writes
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local dedup = {}
for i = 1, #ARGV do
  local v = redis.call('HGET', KEYS[2], 'r' .. ARGV[i])
  local found = false
  if v then
    local bar = string.find(v, '|', 1, true)
    if bar ~= nil and tonumber(string.sub(v, 1, bar - 1), 16) > nowMs then found = string.sub(v, bar + 1) end
  end
  dedup[i] = found
end
return {nowMs, redis.call('HGETALL', KEYS[1]), dedup}
`;
