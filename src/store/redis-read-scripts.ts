/**
 * The read-only scripts of the Redis store (the layout is described in redis-scripts.ts).
 * Events of an entity are in its stream up to version `x` and in its hash (`e<version>`) after
 * it; a hash without `x` holds none (all are in the stream, the layout before events moved into
 * the hash). A dedup record is live while its expiry prefix is in the future; a field not in the
 * hash falls back to the string key of the older layout (KEYS after the stream).
 */

/** Shared Lua: the events of the hash with versions in [from, to]. */
const HASH_EVENTS = `
local function hashEvents(from, to)
  if to < from then return {} end
  local names = {}
  for v = from, to do names[#names + 1] = string.format('e%d', v) end
  return redis.call('HMGET', KEYS[1], unpack(names))
end
`;

/** Shared Lua: the server's time in ms, live dedup records by field, events of the hash. */
const HELPERS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local function live(values, offset, keyOffset, n)
  local out = {}
  for i = 1, n do
    local record = values[offset + i]
    if record then
      if tonumber(string.match(record, '^(%x+)|') or '0', 16) <= now then record = false end
    else
      record = redis.call('GET', KEYS[keyOffset + i])
    end
    out[i] = record
  end
  return out
end
${HASH_EVENTS}`;

/**
 * Load, atomic and in one round trip: the version, the latest snapshot, the events after it
 * and the dedup records asked for.
 *
 * KEYS: hash, stream, one older-layout dedup key per field. ARGV: dedup fields.
 * Reply: {version, snapshotVersion, snapshot JSON or nil, stream entries after the snapshot,
 * first version in the hash part, hash events from it (nil where none), {record or nil per field}}.
 */
export const LOAD_SCRIPT = `#!lua flags=no-writes
${HELPERS}
local ask = {KEYS[1], 'v', 'sv', 's', 'x'}
for i = 1, #ARGV do ask[#ask + 1] = ARGV[i] end
local meta = redis.call('HMGET', unpack(ask))
local version = tonumber(meta[1] or '0')
local snapshotVersion = tonumber(meta[2] or '0')
local x = tonumber(meta[4] or '') or version
local stream = {}
if x > snapshotVersion then
  stream = redis.call('XRANGE', KEYS[2], string.format('%d', snapshotVersion + 1), string.format('%d', x))
end
local from = math.max(x, snapshotVersion) + 1
local events = hashEvents(from, version)
return {version, snapshotVersion, meta[3], stream, from, events, live(meta, 4, 2, #ARGV)}
`;

/** The version and the dedup records asked for. KEYS/ARGV as load. Reply: {version, {record or nil}}. */
export const CHECK_SCRIPT = `#!lua flags=no-writes
${HELPERS}
local ask = {KEYS[1], 'v'}
for i = 1, #ARGV do ask[#ask + 1] = ARGV[i] end
local meta = redis.call('HMGET', unpack(ask))
return {tonumber(meta[1] or '0'), live(meta, 1, 2, #ARGV)}
`;

/**
 * Events with versions in [from, to] ('' for to: up to the latest), in order.
 * KEYS: hash, stream. Reply: {stream entries, first version of the hash part, hash events}.
 */
export const EVENTS_SCRIPT = `#!lua flags=no-writes
${HASH_EVENTS}local meta = redis.call('HMGET', KEYS[1], 'v', 'x')
local version = tonumber(meta[1] or '0')
local x = tonumber(meta[2] or '') or version
local from = tonumber(ARGV[1])
local to = version
if ARGV[2] ~= '' then to = math.min(tonumber(ARGV[2]), version) end
local stream = {}
if from <= x then
  stream = redis.call('XRANGE', KEYS[2], string.format('%d', from), string.format('%d', math.min(to, x)))
end
local first = math.max(from, x + 1)
return {stream, first, hashEvents(first, to)}
`;
