/**
 * The Lua scripts of replicated entities. An entity's values are one hash of cells (see
 * src/entity/replicated/cells.ts); the apply script is `applyOps` of
 * src/entity/replicated/apply.ts in Lua, rule for rule, plus the dedup check and record. Both
 * read the clock from Redis `TIME`, so every replica of a service shares one clock.
 */

/**
 * KEYS: the values hash, the dedup hash.
 * ARGV: nCommands, withAll (1|0: also return every cell after the batch), dedup TTL ms, then
 *       for each command: nOps, observed sequence, nCheck, nWrite (0 or 1), dedup record head
 *       (JSON without its closing brace), withCells (1|0: the record keeps the returned
 *       cells), nReturn, nCheck dedup ids to check, nWrite dedup id to write, six arguments
 *       per operation (code, cell, a, b, c, entry), and nReturn cell names or prefixes (ending
 *       in `|`) to return.
 * Reply: {now ms, {result per command}, every cell after the batch (or nil)}, a result being
 *        {"applied", sequence, {name, value, ...}} | {"refused", reason} |
 *        {"duplicate", {index, record, ...}} | {"error", message}.
 * The commands of a batch are applied one after the other, each with its own sequence, dedup
 * check, dedup record and returned cells, exactly as if each were its own call; a refused or
 * failed command changes nothing and the others still apply. The changes are computed in
 * memory and written once at the end, so counter increments of a batch cost one HSET.
 * Dedup records are fields `r<id>` of the dedup hash, valued `<expiry ms, hex>|<record>`; an
 * expired one counts as absent, and a sweep (as in the append script: `t` when due, `tc`/`tm`
 * while it goes on, 100 fields per batch) deletes them.
 */
export const REPLICATED_APPLY_SCRIPT = `#!lua
local MAX = 9007199254740991
local function fail(message) return redis.error_reply('ERR knstate replicated: ' .. message) end
local function count(value)
  local n = tonumber(value)
  if n == nil or n < 0 or n ~= math.floor(n) or n > MAX then return nil end
  return n
end
local nCmds, ttl = count(ARGV[1]), count(ARGV[3])
if nCmds == nil or ttl == nil then return fail('bad counts') end

if #KEYS ~= 2 then return fail('wrong number of keys') end
local H, D = KEYS[1], KEYS[2]
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

-- pend: the batch's changes so far; cmd: the current command's, over pend (false: deleted).
local pend, cmd = {}, {}
local function get(name)
  local v = cmd[name]
  if v == nil then v = pend[name] end
  if v == false then return nil end
  if v ~= nil then return v end
  v = redis.call('HGET', H, name)
  if v == false then return nil end
  return v
end
local stored = nil
local function names(prefix)
  if stored == nil then stored = redis.call('HKEYS', H) end
  local found = {}
  for _, name in ipairs(stored) do found[name] = true end
  for name in pairs(pend) do found[name] = true end
  for name in pairs(cmd) do found[name] = true end
  local list = {}
  for name in pairs(found) do
    if string.sub(name, 1, #prefix) == prefix and get(name) ~= nil then list[#list + 1] = name end
  end
  return list
end
local function purge(prefix, when)
  for _, name in ipairs(names(prefix)) do
    if when(get(name)) then cmd[name] = false end
  end
end

local seq = tonumber(redis.call('HGET', H, '#') or '0')
-- One command's operations into cmd: nil, or {"refused", reason} / {"error", message}.
local function apply(nOps, observed, at)
  local next = seq + 1
  if observed > seq then observed = seq end
  for i = 0, nOps - 1 do
    local o = at + 6 * i
    local code, cell, a, b, c, entry = ARGV[o], ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4], ARGV[o + 5]
    local current = get(cell)
    if code == 'inc' then
      local by = tonumber(a)
      if by == nil or by ~= math.floor(by) or by > MAX or by < -MAX then return {'error', 'bad increment'} end
      local v = tonumber(current or '0') + by
      if v > MAX or v < -MAX then return {'refused', 'counter would leave the safe integer range'} end
      cmd[cell] = int(v)
    elseif code == 'flag' then
      cmd[cell] = '1'
    elseif code == 'lww' then
      local clock = nil
      if current ~= nil then clock = split(current) end
      if b == '' then
        local at = nowUs
        if clock ~= nil and clock + 1 > at then at = clock + 1 end
        cmd[cell] = int(at) .. ' ' .. a
      else
        local mine = count(b)
        if mine == nil then return {'error', 'bad clock'} end
        if clock == nil or mine > clock then cmd[cell] = b .. ' ' .. a end
      end
    elseif code == 'fww' then
      if current == nil then cmd[cell] = int(nowUs) .. ' ' .. a end
    elseif code == 'sadd' then
      cmd[cell] = int(next)
    elseif code == 'srem' then
      if current ~= nil and tonumber(current) <= observed then cmd[cell] = false end
    elseif code == 'vote' then
      local life = count(b)
      if life == nil then return {'error', 'bad vote TTL'} end
      if life > 0 then
        purge(c, function(v) local e = split(v); return e > 0 and e <= nowMs end)
        cmd[cell] = int(nowMs + life) .. ' ' .. a
      else
        cmd[cell] = '0 ' .. a
      end
    elseif code == 'unvote' then
      cmd[cell] = false
    elseif code == 'mrem' then
      if current ~= nil and tonumber(current) <= observed then
        cmd[cell] = false
        if a ~= '' then cmd[a] = false end
        if b ~= '' then purge(b, function() return true end) end
      end
    elseif code == 'acq' then
      local life = count(b)
      if life == nil or life < 1 or a == '' then return {'error', 'bad lease'} end
      local token, expires, holder = lease(current)
      local live = holder ~= '' and expires > nowMs
      if live and holder == a then cmd[cell] = int(token) .. ' ' .. int(nowMs + life) .. ' ' .. a
      elseif not live then cmd[cell] = int(token + 1) .. ' ' .. int(nowMs + life) .. ' ' .. a end
    elseif code == 'rel' then
      local token, expires, holder = lease(current)
      if holder == a and expires > nowMs then cmd[cell] = int(token) .. ' 0 ' end
    elseif code == 'fence' then
      local token = lease(current)
      if tonumber(a) ~= token then
        return {'refused', 'fencing token ' .. a .. ' is stale (current: ' .. int(token) .. ')'}
      end
    else
      return {'error', 'unknown operation ' .. tostring(code)}
    end
    if entry ~= '' then cmd[entry] = int(next) end
  end
  return nil
end
local function collect(at, n)
  local out = {}
  for i = 0, n - 1 do
    local want = ARGV[at + i]
    if string.sub(want, -1) == '|' then
      for _, name in ipairs(names(want)) do out[#out + 1] = name; out[#out + 1] = get(name) end
    else
      local v = get(want)
      if v ~= nil then out[#out + 1] = want; out[#out + 1] = v end
    end
  end
  return out
end

local written, records = {}, {}
-- The live dedup record of an id (written earlier in this batch, or stored and not expired).
local function record(id)
  local w = written[id]
  if w ~= nil then return w end
  local v = redis.call('HGET', D, 'r' .. id)
  if not v then return nil end
  local bar = string.find(v, '|', 1, true)
  if bar == nil or tonumber(string.sub(v, 1, bar - 1), 16) <= nowMs then return nil end
  return string.sub(v, bar + 1)
end

local results = {}
local a = 4
for n = 1, nCmds do
  local nOps, observed, nCheck, nWrite = count(ARGV[a]), count(ARGV[a + 1]), count(ARGV[a + 2]), count(ARGV[a + 3])
  local head, withCells, nReturn = ARGV[a + 4], ARGV[a + 5] == '1', count(ARGV[a + 6])
  if nOps == nil or observed == nil or nCheck == nil or nWrite == nil or nReturn == nil or nWrite > 1 then
    return fail('bad counts')
  end
  local checkAt = a + 7
  local opsAt = checkAt + nCheck + nWrite
  local returnAt = opsAt + 6 * nOps
  a = returnAt + nReturn
  if #ARGV < a - 1 then return fail('wrong number of arguments') end
  if nWrite > 0 and ttl < 1 then return fail('bad dedup TTL') end
  local hits = {}
  for i = 0, nCheck - 1 do
    local found = record(ARGV[checkAt + i])
    if found ~= nil then hits[#hits + 1] = i + 1; hits[#hits + 1] = found end
  end
  local writeId = ARGV[checkAt + nCheck]
  if #hits > 0 then
    results[n] = {'duplicate', hits}
  else
    cmd = {}
    local outcome = nil
    if nOps > 0 then outcome = apply(nOps, observed, opsAt) end
    if outcome ~= nil then
      results[n] = outcome
    else
      if nOps > 0 then
        seq = seq + 1
        for name, v in pairs(cmd) do pend[name] = v end
        pend['#'] = int(seq)
      end
      cmd = {}
      local out = collect(returnAt, nReturn)
      if nWrite > 0 then
        local kept = head .. ',"seq":' .. int(seq)
        if withCells then
          if #out == 0 then kept = kept .. ',"cells":[]' else kept = kept .. ',"cells":' .. cjson.encode(out) end
        end
        kept = kept .. '}'
        if written[writeId] == nil then records[#records + 1] = writeId end
        written[writeId] = kept
      end
      results[n] = {'applied', seq, out}
    end
  end
end
cmd = {}
if a ~= #ARGV + 1 then return fail('wrong number of arguments') end

local set = {}
for name, v in pairs(pend) do
  if v == false then redis.call('HDEL', H, name) else set[#set + 1] = name; set[#set + 1] = v end
end
for i = 1, #set, 1000 do redis.call('HSET', H, unpack(set, i, math.min(i + 999, #set))) end
if #records > 0 then
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
local all = false
if ARGV[2] == '1' then all = redis.call('HGETALL', H) end
return {nowMs, results, all}
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
