/**
 * Trims the events of one entity that its retention no longer needs (see retention.ts), read
 * against what is stored when it runs, so it never deletes an event after the latest snapshot
 * minus `keep`, whatever was appended or snapshotted meanwhile; running it twice is harmless.
 * Events up to version `x` are in the stream (ids `<version>-1`), later ones in the hash
 * (`e<version>`); the hash's `f` records the last version trimmed, so that a load that cannot
 * use the snapshot knows the history is incomplete.
 *
 * KEYS: entity hash, event stream (same hash tag). ARGV: events to keep before the snapshot.
 * Reply: the last version trimmed (0: nothing to trim).
 */
export const TRIM_SCRIPT = `#!lua
local meta = redis.call('HMGET', KEYS[1], 'v', 'sv', 'x', 'f')
local version = tonumber(meta[1] or '0')
local upto = tonumber(meta[2] or '0') - tonumber(ARGV[1])
local done = tonumber(meta[4] or '0')
if upto <= done then return 0 end
local x = tonumber(meta[3] or '') or version
redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d', upto + 1))
if upto > x then
  local names = {}
  for v = x + 1, upto do names[#names + 1] = string.format('e%d', v) end
  redis.call('HDEL', KEYS[1], unpack(names))
end
redis.call('HSET', KEYS[1], 'f', string.format('%d', upto))
return upto
`;
