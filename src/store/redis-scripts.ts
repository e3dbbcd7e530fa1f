import { createHash } from "node:crypto";
import { encodeAppend } from "./append-encoding.js";
import { KeyLayout } from "./redis-keys.js";
import { CHECK_SCRIPT, EVENTS_SCRIPT, LOAD_SCRIPT } from "./redis-read-scripts.js";
import { TRIM_SCRIPT } from "./redis-retention.js";
import { REPLICATED_APPLY_SCRIPT, REPLICATED_LOAD_SCRIPT } from "./replicated/scripts.js";

/**
 * The Lua scripts of the Redis store. They receive everything through KEYS and ARGV (nothing is
 * ever concatenated into the source), so each is loaded once and then called by its SHA-1.
 * The `#!lua` shebang (Redis 7+) makes Redis check the keys against the cluster slot and refuse
 * a writing script up front when out of memory, instead of failing half way.
 *
 * An entity is one hash (see redis-keys.ts): `v` version, `sv`/`s` snapshot, `x` the last
 * version held in the stream, `e<version>` its latest events, `r<id>`/`#<digest>` its dedup
 * records (`<expiry ms, hex>|<record>`), `t` when the next sweep of expired records is due
 * (`tc`/`tm` while a sweep goes on). A hash without `x` was written before events were kept in
 * the hash: all its events are in the stream (`x` = `v`).
 */

/**
 * Conditional append, atomic and in one round trip.
 *
 * KEYS: entity hash, event stream, then per checked dedup field the key of an older record
 * (a string key, the layout before records moved into the hash), then the type's entity index
 * when the index section is not empty (a sorted set: id by creation time, ms). ARGV: see append-encoding.ts.
 * The service's outbox stream follows when the outbox section is not empty (see src/outbox/).
 * Reply: {"ok", version} | {"conflict", actualVersion} | {"duplicate", {index, record, ...}}
 *        where index is the 1-based position among the checked dedup fields.
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

local ask = {KEYS[1], 'v', 'x', 't'}
for i = 0, nCheck - 1 do ask[#ask + 1] = ARGV[ck + i] end
local meta = redis.call('HMGET', unpack(ask))
local hits = {}
for i = 1, nCheck do
  local record = meta[3 + i]
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
if nIndex == 1 and version == 0 then redis.call('ZADD', KEYS[3 + nCheck], 'NX', now, ARGV[ix]) end
for i = 0, nOut - 1 do
  redis.call('XADD', KEYS[3 + nCheck + nIndex], '*', 'm', ARGV[ob + i])
end
return {'ok', nextVersion}
`;

/**
 * Erasure of one entity, atomic: deletes its hash, its stream, its timer hash and the
 * older-layout dedup keys passed, then leaves a tombstone hash holding only `v` = the former
 * version + 1, so that the entity loads as its initial state and a writer that decided on the
 * erased state conflicts. The names of the timers it deleted come back, for the caller to
 * remove their members from the service's due index (another slot on a cluster).
 *
 * KEYS: entity hash, event stream, timer hash, older-layout dedup keys (all under the entity's
 * hash tag). Reply: {tombstone version, or 0 when nothing was stored; {timer name, ...}}.
 */
export const DELETE_SCRIPT = `#!lua
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if redis.call('EXISTS', unpack(KEYS)) == 0 then return {0, {}} end
local timers = redis.call('HKEYS', KEYS[3])
redis.call('DEL', unpack(KEYS))
local tombstone = string.format('%d', version + 1)
redis.call('HSET', KEYS[1], 'v', tombstone)
return {version + 1, timers}
`;

export { CHECK_SCRIPT, EVENTS_SCRIPT, LOAD_SCRIPT };

/** The store's scripts by name, each called by its SHA-1 (EVALSHA, EVAL when the server lost it). */
export const SCRIPTS = {
  ksAppend: APPEND_SCRIPT,
  ksLoad: LOAD_SCRIPT,
  ksCheck: CHECK_SCRIPT,
  ksEvents: EVENTS_SCRIPT,
  ksDelete: DELETE_SCRIPT,
  ksTrim: TRIM_SCRIPT,
  ksReplicatedApply: REPLICATED_APPLY_SCRIPT,
  ksReplicatedLoad: REPLICATED_LOAD_SCRIPT,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** SHA-1 of a script, as EVALSHA wants it. */
export function scriptSha(source: string): string {
  return createHash("sha1").update(source).digest("hex");
}

/** What the append script is called with: KEYS then ARGV. */
export interface ScriptCall {
  readonly keys: readonly string[];
  readonly args: readonly string[];
}

/** Options of a synthetic counter increment (see `syntheticCounterAppend`). */
export interface SyntheticAppend {
  keyPrefix?: string;
  service?: string;
  entityId?: string;
  /** The CloudEvent's dedup id; `null` for none (an HTTP command without Idempotency-Key). */
  dedupId?: string | null;
  expectedVersion?: number;
  dedupTtlMs?: number;
  spill?: number;
  /** The reply CloudEvent's id (a UUID by default, as the host makes them). */
  replyId?: string;
  /** `false`: advance the version only, as a value entity does (default true). */
  logEvents?: boolean;
  /** Add the entity to its type's index (written on version 0 only; default false). */
  index?: boolean;
}

/**
 * KEYS and ARGV of the append script for one counter increment, as the host sends it (one
 * event, one dedup id checked and written, no snapshot), to run the script outside the host,
 * e.g. with `redis-benchmark` (see docs/redis.md).
 */
export function syntheticCounterAppend(options: SyntheticAppend = {}): ScriptCall {
  const layout = new KeyLayout(options.keyPrefix ?? "ks", options.service ?? "bench");
  const key = { entityType: "counter", entityId: options.entityId ?? "c1" };
  const keys = layout.entity(key);
  const dedupId = options.dedupId === undefined ? "/bench\u0000e1" : options.dedupId;
  const version = options.expectedVersion ?? 0;
  const record = {
    version: version + 1,
    reply: { value: version + 1 },
    replyId: options.replyId ?? "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b",
  };
  const ids = dedupId === null ? [] : [dedupId];
  const args = encodeAppend(
    {
      key,
      expectedVersion: version,
      events: [{ type: "changed", data: { by: 1 } }],
      logEvents: options.logEvents ?? true,
      checkDedup: ids,
      writeDedup: ids.map((id) => [id, record] as const),
      dedupTtlMs: options.dedupTtlMs ?? 600_000,
    },
    options.spill,
    options.index ?? false,
  );
  const index = options.index && version === 0 ? [layout.entityIndex(key.entityType)] : [];
  return { keys: [keys.meta, keys.events, ...ids.map(keys.dedup), ...index], args };
}
