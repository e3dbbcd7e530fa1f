/**
 * The Lua scripts of replicated entities. An entity's values are one hash of cells (see
 * src/entity/replicated/cells.ts); the apply script is `applyOps` of
 * src/entity/replicated/apply.ts in Lua, rule for rule, plus the dedup check and record. Both
 * read the clock from Redis `TIME`, so every replica of a service shares one clock.
 */

/**
 * KEYS: the values hash, `nCheck` dedup keys to check, then `nWrite` (0 or 1) dedup key to write.
 * ARGV: nOps, observed sequence, nCheck, nWrite, dedup TTL ms, dedup record head (JSON without
 *       its closing brace), withCells (1|0: the record keeps the returned cells), nReturn, then
 *       six arguments per operation (code, cell, a, b, c, entry), then nReturn cell names or
 *       prefixes (ending in `|`) to return.
 * Reply: {"duplicate", {index, record, ...}} | {"refused", reason} |
 *        {"applied", sequence, now ms, {name, value, ...}}
 * Everything is checked and computed before the first write, so a refusal or an error reply
 * means nothing was written.
 */
export const REPLICATED_APPLY_SCRIPT = `#!lua
local MAX = 9007199254740991
local function fail(message) return redis.error_reply('ERR knstate replicated: ' .. message) end
local function count(value)
  local n = tonumber(value)
  if n == nil or n < 0 or n ~= math.floor(n) or n > MAX then return nil end
  return n
end
local nOps, observed, nCheck, nWrite = count(ARGV[1]), count(ARGV[2]), count(ARGV[3]), count(ARGV[4])
local nReturn = count(ARGV[8])
if nOps == nil or observed == nil or nCheck == nil or nWrite == nil or nReturn == nil or nWrite > 1 then
  return fail('bad counts')
end
if #KEYS ~= 1 + nCheck + nWrite then return fail('wrong number of keys') end
if #ARGV ~= 8 + 6 * nOps + nReturn then return fail('wrong number of arguments') end
local ttl = count(ARGV[5])
if nWrite > 0 and (ttl == nil or ttl < 1) then return fail('bad dedup TTL') end

local hits = {}
for i = 1, nCheck do
  local record = redis.call('GET', KEYS[1 + i])
  if record then hits[#hits + 1] = i; hits[#hits + 1] = record end
end
if #hits > 0 then return {'duplicate', hits} end

local H = KEYS[1]
local time = redis.call('TIME')
local nowUs = tonumber(time[1]) * 1000000 + tonumber(time[2])
local nowMs = math.floor(nowUs / 1000)
local function int(n) return string.format('%d', n) end
local function split(v)
  local sp = string.find(v, ' ', 1, true)
  if sp == nil then return tonumber(v), '' end
  return tonumber(string.sub(v, 1, sp - 1)), string.sub(v, sp + 1)
end
local function lease(v)
  if v == nil then return 0, 0, '' end
  local token, rest = split(v)
  local expires, holder = split(rest)
  return token, expires, holder
end

local pend = {}
local function get(name)
  local v = pend[name]
  if v == false then return nil end
  if v ~= nil then return v end
  v = redis.call('HGET', H, name)
  if v == false then return nil end
  return v
end
local stored = nil
local function purge(prefix, when)
  if stored == nil then stored = redis.call('HKEYS', H) end
  local names = {}
  for _, name in ipairs(stored) do names[name] = true end
  for name in pairs(pend) do names[name] = true end
  for name in pairs(names) do
    if string.sub(name, 1, #prefix) == prefix then
      local v = get(name)
      if v ~= nil and when(v) then pend[name] = false end
    end
  end
end

local seq0 = tonumber(redis.call('HGET', H, '#') or '0')
local seq = seq0 + 1
if observed > seq0 then observed = seq0 end
for i = 0, nOps - 1 do
  local code, cell, a, b, c, entry = ARGV[9 + 6 * i], ARGV[10 + 6 * i], ARGV[11 + 6 * i], ARGV[12 + 6 * i], ARGV[13 + 6 * i], ARGV[14 + 6 * i]
  local current = get(cell)
  if code == 'inc' then
    local by = tonumber(a)
    if by == nil or by ~= math.floor(by) or by > MAX or by < -MAX then return fail('bad increment') end
    local v = tonumber(current or '0') + by
    if v > MAX or v < -MAX then return {'refused', 'counter would leave the safe integer range'} end
    pend[cell] = int(v)
  elseif code == 'flag' then
    pend[cell] = '1'
  elseif code == 'lww' then
    local clock = nil
    if current ~= nil then clock = split(current) end
    if b == '' then
      local next = nowUs
      if clock ~= nil and clock + 1 > next then next = clock + 1 end
      pend[cell] = int(next) .. ' ' .. a
    else
      local mine = count(b)
      if mine == nil then return fail('bad clock') end
      if clock == nil or mine > clock then pend[cell] = b .. ' ' .. a end
    end
  elseif code == 'fww' then
    if current == nil then pend[cell] = int(nowUs) .. ' ' .. a end
  elseif code == 'sadd' then
    pend[cell] = int(seq)
  elseif code == 'srem' then
    if current ~= nil and tonumber(current) <= observed then pend[cell] = false end
  elseif code == 'vote' then
    local life = count(b)
    if life == nil then return fail('bad vote TTL') end
    if life > 0 then
      purge(c, function(v) local e = split(v); return e > 0 and e <= nowMs end)
      pend[cell] = int(nowMs + life) .. ' ' .. a
    else
      pend[cell] = '0 ' .. a
    end
  elseif code == 'unvote' then
    pend[cell] = false
  elseif code == 'mrem' then
    if current ~= nil and tonumber(current) <= observed then
      pend[cell] = false
      if a ~= '' then pend[a] = false end
      if b ~= '' then purge(b, function() return true end) end
    end
  elseif code == 'acq' then
    local life = count(b)
    if life == nil or life < 1 or a == '' then return fail('bad lease') end
    local token, expires, holder = lease(current)
    local live = holder ~= '' and expires > nowMs
    if live and holder == a then pend[cell] = int(token) .. ' ' .. int(nowMs + life) .. ' ' .. a
    elseif not live then pend[cell] = int(token + 1) .. ' ' .. int(nowMs + life) .. ' ' .. a end
  elseif code == 'rel' then
    local token, expires, holder = lease(current)
    if holder == a and expires > nowMs then pend[cell] = int(token) .. ' 0 ' end
  elseif code == 'fence' then
    local token = lease(current)
    if tonumber(a) ~= token then
      return {'refused', 'fencing token ' .. a .. ' is stale (current: ' .. int(token) .. ')'}
    end
  else
    return fail('unknown operation ' .. tostring(code))
  end
  if entry ~= '' then pend[entry] = int(seq) end
end

if nOps > 0 then
  for name, v in pairs(pend) do
    if v == false then redis.call('HDEL', H, name) else redis.call('HSET', H, name, v) end
  end
  redis.call('HSET', H, '#', int(seq))
else
  seq = seq0
end

local out = {}
local all = nil
for i = 1, nReturn do
  local want = ARGV[8 + 6 * nOps + i]
  if string.sub(want, -1) == '|' then
    if all == nil then all = redis.call('HGETALL', H) end
    for j = 1, #all, 2 do
      if string.sub(all[j], 1, #want) == want then out[#out + 1] = all[j]; out[#out + 1] = all[j + 1] end
    end
  else
    local v = redis.call('HGET', H, want)
    if v then out[#out + 1] = want; out[#out + 1] = v end
  end
end
if nWrite > 0 then
  local record = ARGV[6] .. ',"seq":' .. int(seq)
  if ARGV[7] == '1' then
    if #out == 0 then record = record .. ',"cells":[]' else record = record .. ',"cells":' .. cjson.encode(out) end
  end
  redis.call('SET', KEYS[2 + nCheck], record .. '}', 'PX', ttl)
end
return {'applied', seq, nowMs, out}
`;

/**
 * The merged values: KEYS: the values hash, then dedup keys. Reply: {now ms, {name, value,
 * ...}, {record or false per dedup key}}.
 */
export const REPLICATED_LOAD_SCRIPT = `#!lua flags=no-writes
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local dedup = {}
for i = 2, #KEYS do dedup[#dedup + 1] = redis.call('GET', KEYS[i]) end
return {nowMs, redis.call('HGETALL', KEYS[1]), dedup}
`;
