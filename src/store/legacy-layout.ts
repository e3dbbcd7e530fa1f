import { KeyLayout } from "./redis-keys.js";
import type { ScriptCall, SyntheticAppend } from "./redis-scripts.js";

/**
 * The append script of the layout before entities became one hash, kept so that its data can be
 * written in tests (the store still reads it: events in the stream `:e`, dedup records as string
 * keys `:d:<id>`) and its memory footprint measured beside the current one (`npm run bench`).
 * The host never runs it.
 *
 * KEYS: meta hash, event stream, `nCheck` dedup keys to check, `nWrite` dedup keys to write.
 * ARGV: expectedVersion, nEvents, logEvents (1|0), snapshotVersion ("" for none), snapshot
 *       JSON, dedup TTL in ms, nCheck, nWrite, then (type, data JSON) per event, then one
 *       DedupRecord JSON per dedup key to write.
 */
export const LEGACY_APPEND_SCRIPT = `#!lua
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
 * KEYS and ARGV of the former append script for one counter increment (one event, one dedup id
 * checked and written with its own key, no snapshot).
 */
export function legacyCounterAppend(options: SyntheticAppend = {}): ScriptCall {
  const layout = new KeyLayout(options.keyPrefix ?? "ks", options.service ?? "bench");
  const keys = layout.entity({ entityType: "counter", entityId: options.entityId ?? "c1" });
  const dedupId = options.dedupId === undefined ? "/bench\u0000e1" : options.dedupId;
  const version = options.expectedVersion ?? 0;
  const replyId = options.replyId ?? "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b";
  const record = JSON.stringify({ version: version + 1, reply: { value: version + 1 }, replyId });
  const ids = dedupId === null ? [] : [dedupId];
  return {
    keys: [keys.meta, keys.events, ...ids.map(keys.dedup), ...ids.map(keys.dedup)],
    args: [
      String(version),
      "1",
      options.logEvents === false ? "0" : "1",
      "",
      "",
      String(options.dedupTtlMs ?? 86_400_000),
      String(ids.length),
      String(ids.length),
      "changed",
      '{"by":1}',
      ...ids.map(() => record),
    ],
  };
}
