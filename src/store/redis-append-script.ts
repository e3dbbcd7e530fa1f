/**
 * Conditional append, atomic and in one round trip.
 *
 * KEYS: entity hash, event stream, then per checked dedup field the key of an older record
 * (a string key, the layout before records moved into the hash), then the type's entity index
 * when the index section is not empty (a sorted set: id by creation time, ms). ARGV: see append-encoding.ts.
 * The service's outbox stream follows when the outbox section is not empty (see src/outbox/).
 * Reply: {"ok", version} | {"conflict", actualVersion} | {"duplicate", {index, record, ...}}
 *        where index is the 1-based position among the checked dedup fields
 *        | {"unindexed", version}: nothing written, the entity is an erasure's tombstone marked `i`
 *        (see DELETE_SCRIPT) and the index key was not passed; send it again with the index section.
 *
 * Every argument is validated before the first write, so an error reply means nothing was written.
 */
export const APPEND_SCRIPT = `#!lua
local function fail(message)
  return redis.error_reply('ERR knstate append: ' .. message)
end
local function count(value)
  local n = value and tonumber(value)
  if n == nil or n < 0 or n ~= math.floor(n) or n > 9007199254740991 then return nil end
  return n
end
local pos = 6
local short = false
local function section(width)
  if ARGV[pos] == nil then short = true; return 0, pos end
  local n = count(ARGV[pos])
  if n == nil then return nil, 0 end
  local start = pos + 1
  pos = start + n * width
  return n, start
end
if ARGV[1] ~= '1' then return fail('unknown encoding') end
local expected, ttl, spill = count(ARGV[2]), count(ARGV[4]), count(ARGV[5])
local n, ev = section(1)
local nSnap, sn = section(2)
local nCheck, ck = section(1)
local nWrite, wr = section(2)
local nTimers, tm = section(4)
local nIndex, ix = section(1)
local nOut, ob = section(1)
if short then return fail('wrong number of arguments') end
if expected == nil or ttl == nil or spill == nil or n == nil or nSnap == nil or nCheck == nil or nWrite == nil or nSnap > 1
  or nTimers == nil or nIndex == nil or nIndex > 1 or nOut == nil then
  return fail('bad counts')
end
if pos - 1 ~= #ARGV then return fail('wrong number of arguments') end
-- Keys after the dedup keys: the type's index when nIndex is 1, the service's outbox stream when
-- there is something to publish, then (timers) the entity's timer hash and the service's due
-- index, the last two keys.
local outboxKeys = 0
if nOut > 0 then outboxKeys = 1 end
local timerKeys = 0
if nTimers > 0 then timerKeys = 2 end
if #KEYS ~= 2 + nCheck + nIndex + outboxKeys + timerKeys then return fail('wrong number of keys') end
for i = 0, nTimers - 1 do
  local due = ARGV[tm + 4 * i + 1]
  if due ~= '' and count(due) == nil then return fail('bad timer due time') end
end
local log = ARGV[3] == '1'
if not log and ARGV[3] ~= '0' then return fail('bad logEvents flag') end
local snapshotVersion = nil
if nSnap == 1 then
  snapshotVersion = count(ARGV[sn])
  if snapshotVersion == nil or snapshotVersion > expected + n then return fail('bad snapshot version') end
end
if nWrite > 0 and ttl < 1 then return fail('bad dedup TTL') end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local ask = {KEYS[1], 'v', 'x', 't', 'i'}
for i = 0, nCheck - 1 do ask[#ask + 1] = ARGV[ck + i] end
local meta = redis.call('HMGET', unpack(ask))
local hits = {}
for i = 1, nCheck do
  local record = meta[4 + i]
  if record then
    if tonumber(string.match(record, '^(%x+)|') or '0', 16) <= now then record = nil end
  else
    record = redis.call('GET', KEYS[2 + i])
  end
  if record then
    hits[#hits + 1] = i
    hits[#hits + 1] = record
  end
end
if #hits > 0 then return {'duplicate', hits} end

local version = tonumber(meta[1] or '0')
if version ~= expected then return {'conflict', version} end
if n == 0 and nTimers == 0 then return {'ok', version} end
-- An erasure's tombstone marked 'i': its first append re-enters the entity in the index. Other
-- appends pay one more field of the HMGET above for it, nothing else.
local reindex = meta[4] ~= false
if reindex and nIndex == 0 then return {'unindexed', version} end
local nextVersion = version + n
local set = {KEYS[1], 'v', string.format('%d', nextVersion)}

if log then
  local x = tonumber(meta[2] or '') or version
  if nextVersion - x > spill then
    -- The hash's events and these go to the stream, ids <version>-1. The first XADD is the first
    -- write and refuses by itself a stream already ahead (its id would not be the greatest).
    local moved = {}
    local stored = {}
    if version > x then
      local names = {}
      for v = x + 1, version do names[#names + 1] = string.format('e%d', v) end
      stored = redis.call('HMGET', KEYS[1], unpack(names))
      moved = names
    end
    local first = true
    for v = x + 1, nextVersion do
      local value
      if v <= version then value = stored[v - x] else value = ARGV[ev + v - version - 1] end
      if value then
        local id = string.format('%d-1', v)
        if first then
          local added = redis.pcall('XADD', KEYS[2], id, 'e', value)
          if type(added) == 'table' and added.err then
            if string.find(added.err, 'equal or smaller', 1, true) then
              return fail('the event stream is ahead of version ' .. string.format('%d', v - 1))
            end
            return fail(added.err)
          end
          first = false
        else
          redis.call('XADD', KEYS[2], id, 'e', value)
        end
      end
    end
    if #moved > 0 then redis.call('HDEL', KEYS[1], unpack(moved)) end
    set[#set + 1] = 'x'
    set[#set + 1] = string.format('%d', nextVersion)
  else
    for i = 1, n do
      set[#set + 1] = string.format('e%d', version + i)
      set[#set + 1] = ARGV[ev + i - 1]
    end
    if meta[2] == false then
      set[#set + 1] = 'x'
      set[#set + 1] = string.format('%d', x)
    end
  end
end
if snapshotVersion ~= nil then
  set[#set + 1] = 'sv'
  set[#set + 1] = string.format('%d', snapshotVersion)
  set[#set + 1] = 's'
  set[#set + 1] = ARGV[sn + 1]
end

-- Dedup records expire: a sweep due at t drops the expired ones, 100 fields per append at most,
-- resuming at the next append until the hash has been scanned once.
local expiry = now + ttl
local sweepAt = tonumber(meta[3] or '')
if sweepAt ~= nil and sweepAt <= now then
  local state = redis.call('HMGET', KEYS[1], 'tc', 'tm')
  local low = tonumber(state[2] or '')
  local scan = redis.call('HSCAN', KEYS[1], state[1] or '0', 'MATCH', '[r#]*', 'COUNT', 100)
  local dead = {KEYS[1]}
  local fields = scan[2]
  for i = 1, #fields, 2 do
    local at = tonumber(string.match(fields[i + 1], '^(%x+)|') or '0', 16)
    if at <= now then dead[#dead + 1] = fields[i]
    elseif low == nil or at < low then low = at end
  end
  if #dead > 1 then redis.call('HDEL', unpack(dead)) end
  if nWrite > 0 and (low == nil or expiry < low) then low = expiry end
  if scan[1] == '0' then
    -- The next pass no sooner than a tenth of the window: a hot entity sweeps 10% of the time.
    if low ~= nil then low = math.max(low, now + math.floor(ttl / 10)) end
    redis.call('HDEL', KEYS[1], 'tc', 'tm')
    if low == nil then redis.call('HDEL', KEYS[1], 't')
    else set[#set + 1] = 't'; set[#set + 1] = string.format('%d', low) end
  else
    set[#set + 1] = 'tc'; set[#set + 1] = scan[1]
    if low ~= nil then set[#set + 1] = 'tm'; set[#set + 1] = string.format('%d', low) end
  end
elseif nWrite > 0 and (sweepAt == nil or expiry < sweepAt) then
  set[#set + 1] = 't'
  set[#set + 1] = string.format('%d', expiry)
end
local prefix = string.format('%x|', expiry)
for i = 0, nWrite - 1 do
  set[#set + 1] = ARGV[wr + 2 * i]
  set[#set + 1] = prefix .. ARGV[wr + 2 * i + 1]
end
redis.call('HSET', unpack(set))
for i = 0, nTimers - 1 do
  local at = tm + 4 * i
  if ARGV[at + 1] == '' then
    redis.call('HDEL', KEYS[#KEYS - 1], ARGV[at])
    redis.call('ZREM', KEYS[#KEYS], ARGV[at + 3])
  else
    redis.call('HSET', KEYS[#KEYS - 1], ARGV[at], ARGV[at + 2])
    redis.call('ZADD', KEYS[#KEYS], ARGV[at + 1], ARGV[at + 3])
  end
end
if nIndex == 1 and (version == 0 or reindex) then redis.call('ZADD', KEYS[3 + nCheck], 'NX', now, ARGV[ix]) end
if reindex then redis.call('HDEL', KEYS[1], 'i') end
for i = 0, nOut - 1 do
  redis.call('XADD', KEYS[3 + nCheck + nIndex], '*', 'm', ARGV[ob + i])
end
return {'ok', nextVersion}
`;
