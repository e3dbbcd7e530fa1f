import { createHash } from "node:crypto";
import { KeyLayout } from "./redis-keys.js";

/**
 * The Lua scripts of the Redis store. They receive everything through KEYS and ARGV (nothing is
 * ever concatenated into the source), so each is loaded once and then called by its SHA-1.
 * The `#!lua` shebang (Redis 7+) makes Redis check the keys against the cluster slot and refuse
 * a writing script up front when out of memory, instead of failing half way.
 */

/**
 * Conditional append, atomic and in one round trip.
 *
 * KEYS: meta hash, event stream, `nCheck` dedup keys to check, `nWrite` dedup keys to write.
 * ARGV: expectedVersion, nEvents, logEvents (1|0), snapshotVersion ("" for none), snapshot
 *       JSON, dedup TTL in ms, nCheck, nWrite, then (type, data JSON) per event, then one
 *       DedupRecord JSON per dedup key to write.
 * Reply: {"ok", version} | {"conflict", actualVersion} | {"duplicate", {index, record, ...}}
 *        where index is the 1-based position among the checked dedup keys.
 *
 * Every argument and the stream's position are validated before the first write, so an error
 * reply means nothing was written.
 */
export const APPEND_SCRIPT = `#!lua
local function fail(message)
  return redis.error_reply('ERR knstate append: ' .. message)
end
local function count(value)
  local n = tonumber(value)
  if n == nil or n < 0 or n ~= math.floor(n) or n > 9007199254740991 then return nil end
  return n
end
local expected, n, nCheck, nWrite = count(ARGV[1]), count(ARGV[2]), count(ARGV[7]), count(ARGV[8])
if expected == nil or n == nil or nCheck == nil or nWrite == nil then return fail('bad counts') end
local log = ARGV[3] == '1'
if not log and ARGV[3] ~= '0' then return fail('bad logEvents flag') end
local snapshotVersion = nil
if ARGV[4] ~= '' then
  snapshotVersion = count(ARGV[4])
  if snapshotVersion == nil or snapshotVersion > expected + n then return fail('bad snapshot version') end
end
if #KEYS ~= 2 + nCheck + nWrite then return fail('wrong number of keys') end
if #ARGV ~= 8 + 2 * n + nWrite then return fail('wrong number of arguments') end
local ttl = count(ARGV[6])
if nWrite > 0 and (ttl == nil or ttl < 1) then return fail('bad dedup TTL') end

local hits = {}
for i = 1, nCheck do
  local record = redis.call('GET', KEYS[2 + i])
  if record then
    hits[#hits + 1] = i
    hits[#hits + 1] = record
  end
end
if #hits > 0 then return {'duplicate', hits} end

local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if version ~= expected then return {'conflict', version} end
if n == 0 then return {'ok', version} end

if log then
  -- The first write. Event ids are <version>-1, so XADD itself refuses a stream that is already
  -- ahead of the version (its id would not be greater than the last one) and nothing is written.
  local first = redis.pcall('XADD', KEYS[2], string.format('%d-1', version + 1), 't', ARGV[9], 'd', ARGV[10])
  if type(first) == 'table' and first.err then
    if string.find(first.err, 'equal or smaller', 1, true) then
      return fail('the event stream is ahead of version ' .. string.format('%d', version))
    end
    return fail(first.err)
  end
  for i = 2, n do
    redis.call('XADD', KEYS[2], string.format('%d-1', version + i), 't', ARGV[7 + 2 * i], 'd', ARGV[8 + 2 * i])
  end
end
local next = version + n
if snapshotVersion ~= nil then
  redis.call('HSET', KEYS[1], 'v', string.format('%d', next), 'sv', string.format('%d', snapshotVersion), 's', ARGV[5])
else
  redis.call('HSET', KEYS[1], 'v', string.format('%d', next))
end
for i = 1, nWrite do
  redis.call('SET', KEYS[2 + nCheck + i], ARGV[8 + 2 * n + i], 'PX', ttl)
end
return {'ok', next}
`;

/**
 * Load, atomic and in one round trip: the version, the latest snapshot, the events after it
 * and the dedup records asked for.
 *
 * KEYS: meta hash, event stream, dedup keys. Reply: {version, snapshotVersion, snapshot JSON or
 * nil, XRANGE entries after the snapshot, {record or nil per dedup key}}.
 */
export const LOAD_SCRIPT = `#!lua flags=no-writes
local meta = redis.call('HMGET', KEYS[1], 'v', 'sv', 's')
local version = tonumber(meta[1] or '0')
local snapshotVersion = tonumber(meta[2] or '0')
local events = {}
if version > snapshotVersion then
  events = redis.call('XRANGE', KEYS[2], string.format('%d', snapshotVersion + 1), '+')
end
local dedup = {}
for i = 3, #KEYS do dedup[#dedup + 1] = redis.call('GET', KEYS[i]) end
return {version, snapshotVersion, meta[3], events, dedup}
`;

/** The version and the dedup records asked for. KEYS: meta hash, dedup keys. Reply: {version, {record or nil}}. */
export const CHECK_SCRIPT = `#!lua flags=no-writes
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local dedup = {}
for i = 2, #KEYS do dedup[#dedup + 1] = redis.call('GET', KEYS[i]) end
return {version, dedup}
`;

/** The store's scripts by name, each called by its SHA-1 (EVALSHA, EVAL when the server lost it). */
export const SCRIPTS = {
  ksAppend: APPEND_SCRIPT,
  ksLoad: LOAD_SCRIPT,
  ksCheck: CHECK_SCRIPT,
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

/**
 * KEYS and ARGV of the append script for one counter increment, as the host sends it (one
 * event, one dedup id checked and written, no snapshot), to run the script outside the host,
 * e.g. with `redis-benchmark` (see docs/redis.md).
 */
export function syntheticCounterAppend(
  options: {
    keyPrefix?: string;
    service?: string;
    entityId?: string;
    dedupId?: string;
    expectedVersion?: number;
    dedupTtlMs?: number;
  } = {},
): ScriptCall {
  const layout = new KeyLayout(options.keyPrefix ?? "ks", options.service ?? "bench");
  const keys = layout.entity({ entityType: "counter", entityId: options.entityId ?? "c1" });
  const dedupId = options.dedupId ?? "/bench\u0000e1";
  const version = options.expectedVersion ?? 0;
  const record = JSON.stringify({ version: version + 1, reply: { value: version + 1 }, replyId: "r1" });
  return {
    keys: [keys.meta, keys.events, keys.dedup(dedupId), keys.dedup(dedupId)],
    args: [
      String(version),
      "1",
      "1",
      "",
      "",
      String(options.dedupTtlMs ?? 86_400_000),
      "1",
      "1",
      "changed",
      '{"by":1}',
      record,
    ],
  };
}
