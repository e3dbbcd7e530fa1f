import type { ReplicatedKeys, ScriptCall } from "./codec.js";
import { LUA_COMMON, LUA_WRITE_RECORDS } from "./lua-dedup.js";

/**
 * A batch of commands to one entity whose outcome the host computed itself, from the entity's
 * cells at `expectedSeq` (see src/pipeline/replicated-known.ts): what to write if the entity is
 * still at that sequence and none of the batch's dedup ids has a live record.
 */
export interface PredictedBatch {
  /** The sequence the prediction was made on. */
  readonly expectedSeq: number;
  /** The sequence after the batch. */
  readonly seq: number;
  /** Cells the batch sets (the sequence cell aside), name → value. */
  readonly set: ReadonlyMap<string, string>;
  /** Cells the batch deletes. */
  readonly deleted: readonly string[];
  /** Per command: its dedup id ("" for none) and its record (`encodeRecord` of record.ts; "" for none). */
  readonly commands: ReadonlyArray<{ readonly dedupId: string; readonly record: string }>;
  readonly dedupTtlMs: number;
  /** The JSON of each outbox message to publish with the batch (see codec.ts `messageJson`). */
  readonly messages: readonly string[];
}

/** What the predicted apply did: everything (Redis clock, ms), or nothing. */
export type PredictedResult =
  { readonly kind: "applied"; readonly nowMs: number } | { readonly kind: "stale" };

/**
 * The apply of a predicted batch: the event-sourced append's shape (the state is checked, then
 * written as computed) on the replicated layout (scripts.ts). It writes only when the values
 * hash is at the expected sequence and no dedup id of the batch has a live record; otherwise
 * it writes nothing and answers stale, and the host sends the batch to the apply script, which
 * applies each operation to whatever the entity holds. The cells, the sequence, the dedup
 * records (with the same expiry and sweep as the apply script) and the outbox messages are
 * written together.
 *
 * KEYS: the values hash, the dedup hash, and the entity's outbox stream when messages follow.
 * ARGV: expected sequence, new sequence, dedup TTL ms, nSet, nSet × (name, value), nDel,
 *       nDel × name, nCmds, nCmds × (dedup id or "", record or ""), then the messages.
 * Reply: {1, now ms} (applied) | {0, the sequence found} (stale: nothing written).
 */
export const REPLICATED_PREDICTED_SCRIPT = `#!lua
${LUA_COMMON}if #KEYS ~= 2 and #KEYS ~= 3 then return fail('wrong number of keys') end
local H, D, O = KEYS[1], KEYS[2], KEYS[3]
local expected, newSeq, ttl, nSet = count(ARGV[1]), count(ARGV[2]), count(ARGV[3]), count(ARGV[4])
if expected == nil or newSeq == nil or ttl == nil or nSet == nil then return fail('bad counts') end
local d = 5 + 2 * nSet
local nDel = count(ARGV[d])
if nDel == nil then return fail('bad counts') end
local c = d + 1 + nDel
local nCmds = count(ARGV[c])
if nCmds == nil then return fail('bad counts') end
local m = c + 1 + 2 * nCmds
if m - 1 > #ARGV or (m <= #ARGV and O == nil) then return fail('wrong number of arguments') end

local seq = tonumber(redis.call('HGET', H, '#') or '0')
if seq ~= expected then return {0, seq} end
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local function int(n) return string.format('%d', n) end

-- A live record of any dedup id: the batch is not what the host predicted.
local records, written, fields = {}, {}, {}
for i = 0, nCmds - 1 do
  local id, rec = ARGV[c + 1 + 2 * i], ARGV[c + 2 + 2 * i]
  if id ~= '' then
    fields[#fields + 1] = 'r' .. id
    if rec ~= '' then
      if ttl < 1 then return fail('bad dedup record') end
      records[#records + 1] = id
      written[id] = rec
    end
  end
end
if #fields > 0 then
  local values = redis.call('HMGET', D, unpack(fields))
  for i = 1, #fields do
    local v = values[i]
    if v then
      local bar = string.find(v, '|', 1, true)
      if bar ~= nil and tonumber(string.sub(v, 1, bar - 1), 16) > nowMs then return {0, seq} end
    end
  end
end

if nDel > 0 then redis.call('HDEL', H, unpack(ARGV, d + 1, d + nDel)) end
local set = {'#', int(newSeq)}
for i = 5, d - 1 do set[#set + 1] = ARGV[i] end
for i = 1, #set, 1000 do redis.call('HSET', H, unpack(set, i, math.min(i + 999, #set))) end
${LUA_WRITE_RECORDS}
for i = m, #ARGV do redis.call('XADD', O, '*', 'm', ARGV[i]) end
return {1, nowMs}
`;

/** The call of `REPLICATED_PREDICTED_SCRIPT`; `stream`: the entity's outbox stream, when the batch publishes. */
export function encodePredicted(keys: ReplicatedKeys, batch: PredictedBatch, stream?: string): ScriptCall {
  const args = [
    String(batch.expectedSeq),
    String(batch.seq),
    String(batch.dedupTtlMs),
    String(batch.set.size),
  ];
  for (const [name, value] of batch.set) args.push(name, value);
  args.push(String(batch.deleted.length), ...batch.deleted, String(batch.commands.length));
  for (const { dedupId, record } of batch.commands) args.push(dedupId, record);
  const scriptKeys = [keys.values, keys.dedup];
  if (batch.messages.length > 0) {
    if (stream === undefined)
      throw new Error("knstate replicated: messages to publish without an outbox stream");
    scriptKeys.push(stream);
    args.push(...batch.messages);
  }
  return { keys: scriptKeys, args };
}

export function decodePredicted(reply: unknown): PredictedResult {
  const [applied, value] = reply as [number, number];
  return applied === 1 ? { kind: "applied", nowMs: Number(value) } : { kind: "stale" };
}
