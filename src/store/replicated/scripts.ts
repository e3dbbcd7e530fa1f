import { LUA_COMMON, LUA_WRITE_RECORDS } from "./lua-dedup.js";
import { LUA_APPLY_OPS } from "./lua-ops.js";

export { REPLICATED_LOAD_SCRIPT } from "./lua-dedup.js";

/**
 * The Lua scripts of replicated entities. An entity's values are one hash of cells (see
 * src/entity/replicated/cells.ts); the apply script is `applyOps` of
 * src/entity/replicated/apply.ts in Lua, rule for rule, plus the dedup check and record. Both
 * read the clock from Redis `TIME`, so every replica of a service shares one clock.
 */

/**
 * KEYS: the values hash, the dedup hash, and the entity's outbox stream when some command of
 *       the batch publishes.
 * ARGV: nCommands, withAll (1|0: also return every cell after the batch), dedup TTL ms, with
 *       an outbox stream the head of its messages' JSON (up to the sequence in the id), then
 *       for each command: nArgs (the arguments of its operations), observed sequence ("": the
 *       one it is applied to), dedup id ("": none) checked and recorded, record ("": none;
 *       else its head, `recordHead` of record.ts: the script puts `<seq>|` before it and,
 *       after a `c` head, the returned cells), nReturn, the operations (see lua-ops.ts),
 *       nReturn cell names or prefixes (ending in `|`) to return, and with an outbox stream
 *       nOut and nOut message tails (the JSON after the version).
 * Reply: {now ms, results, every cell after the batch (or nil)}, results being flat, per
 *        command: 1, sequence, 2n, n name/value pairs (applied) | 2, reason (refused) |
 *        3, record (duplicate) | 4, message (error).
 * The commands of a batch are applied one after the other, each with its own sequence, dedup
 * check, dedup record and returned cells, exactly as if each were its own call; a refused or
 * failed command changes nothing and the others still apply. The changes are computed in
 * memory and written once at the end, so counter increments of a batch cost one HSET.
 * Dedup records are fields `r<id>` of the dedup hash, valued `<expiry ms, hex>|<record>`; an
 * expired one counts as absent, and a sweep (as in the append script: `t` when due, `tc`/`tm`
 * while it goes on, 100 fields per batch) deletes them.
 * The messages of an applied command are XADDed to the outbox stream (field `m`, as the append
 * script writes them) with the id `<entity>/<id>/<sequence>`, and `/<n>` (1, 2, …) after it
 * when the command publishes several; a duplicate, refused or failed command publishes nothing.
 */
export const REPLICATED_APPLY_SCRIPT = `#!lua
${LUA_COMMON}local nCmds, ttl = count(ARGV[1]), count(ARGV[3])
if nCmds == nil or ttl == nil then return fail('bad counts') end

if #KEYS ~= 2 and #KEYS ~= 3 then return fail('wrong number of keys') end
local H, D, O = KEYS[1], KEYS[2], KEYS[3]
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
local seq0 = seq
${LUA_APPLY_OPS}
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

local res, outbox = {}, {}
local a, idHead = 4, nil
if O ~= nil then idHead = ARGV[4]; a = 5 end

-- The stored records of the batch's dedup ids, read with one HMGET (a bad layout fails below).
local prior = {}
do
  local ids, fields, at = {}, {}, a
  for _ = 1, nCmds do
    local nArgs, id, nReturn = count(ARGV[at]), ARGV[at + 2], count(ARGV[at + 4])
    if nArgs == nil or nReturn == nil or id == nil then break end
    if id ~= '' then ids[#ids + 1] = id; fields[#fields + 1] = 'r' .. id end
    at = at + 5 + nArgs + nReturn
    if O ~= nil then at = at + 1 + (count(ARGV[at]) or 0) end
  end
  if #ids > 0 then
    local values = redis.call('HMGET', D, unpack(fields))
    for i, id in ipairs(ids) do prior[id] = values[i] end
  end
end
local written, records = {}, {}
-- The live dedup record of an id (written earlier in this batch, or stored and not expired).
local function record(id)
  local w = written[id]
  if w ~= nil then return w end
  local v = prior[id]
  if not v then return nil end
  local bar = string.find(v, '|', 1, true)
  if bar == nil or tonumber(string.sub(v, 1, bar - 1), 16) <= nowMs then return nil end
  return string.sub(v, bar + 1)
end
for n = 1, nCmds do
  local nArgs, observed, id, rec, nReturn = count(ARGV[a]), ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], count(ARGV[a + 4])
  if nArgs == nil or nReturn == nil or id == nil or rec == nil then return fail('bad counts') end
  if observed == '' then observed = MAX else observed = count(observed) end
  if observed == nil then return fail('bad counts') end
  local opsAt = a + 5
  local returnAt = opsAt + nArgs
  a = returnAt + nReturn
  local nOut, outAt = 0, a + 1
  if O ~= nil then
    nOut = count(ARGV[a])
    if nOut == nil then return fail('bad counts') end
    a = outAt + nOut
  end
  if #ARGV < a - 1 then return fail('wrong number of arguments') end
  if rec ~= '' and (id == '' or ttl < 1) then return fail('bad dedup record') end
  local found = nil
  if id ~= '' then found = record(id) end
  if found ~= nil then
    res[#res + 1] = 3; res[#res + 1] = found
  else
    cmd = {}
    local outcome = nil
    if nArgs > 0 then outcome = apply(nArgs, observed, opsAt) end
    if outcome ~= nil then
      if outcome[1] == 'refused' then res[#res + 1] = 2 else res[#res + 1] = 4 end
      res[#res + 1] = outcome[2]
    else
      -- cmd now equals its part of pend, so collect may still read it; '#' is written once, below.
      if nArgs > 0 then
        seq = seq + 1
        for name, v in pairs(cmd) do pend[name] = v end
      end
      local out = collect(returnAt, nReturn)
      if rec ~= '' then
        -- 'c': the record keeps the returned cells; 'r': the reply is in the record's head.
        local kept = int(seq) .. '|' .. rec
        if string.byte(rec, 1) == 99 then
          if #out == 0 then kept = kept .. '[]' else kept = kept .. cjson.encode(out) end
        end
        if written[id] == nil then records[#records + 1] = id end
        written[id] = kept
      end
      res[#res + 1] = 1; res[#res + 1] = seq; res[#res + 1] = #out
      for k = 1, #out do res[#res + 1] = out[k] end
      -- Only a command that applied operations has a sequence of its own to publish under.
      if nArgs == 0 then nOut = 0 end
      for i = 0, nOut - 1 do
        local mid = int(seq)
        if nOut > 1 then mid = mid .. '/' .. int(i + 1) end
        outbox[#outbox + 1] = idHead .. mid .. '","version":' .. int(seq) .. ARGV[outAt + i]
      end
    end
  end
end
cmd = {}
if a ~= #ARGV + 1 then return fail('wrong number of arguments') end
if seq ~= seq0 then pend['#'] = int(seq) end

local set = {}
for name, v in pairs(pend) do
  if v == false then redis.call('HDEL', H, name) else set[#set + 1] = name; set[#set + 1] = v end
end
for i = 1, #set, 1000 do redis.call('HSET', H, unpack(set, i, math.min(i + 999, #set))) end
${LUA_WRITE_RECORDS}
for _, m in ipairs(outbox) do redis.call('XADD', O, '*', 'm', m) end
local all = false
if ARGV[2] == '1' then all = redis.call('HGETALL', H) end
return {nowMs, res, all}
`;
