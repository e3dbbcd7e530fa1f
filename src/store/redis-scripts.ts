import { createHash } from "node:crypto";
import { encodeAppend } from "./append-encoding.js";
import { KeyLayout } from "./redis-keys.js";
import { APPEND_SCRIPT } from "./redis-append-script.js";
import { CHECK_SCRIPT, EVENTS_SCRIPT, LOAD_SCRIPT } from "./redis-read-scripts.js";
import { TRIM_SCRIPT } from "./redis-retention.js";
import { REPLICATED_PREDICTED_SCRIPT } from "./replicated/predicted.js";
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
 *
 * The append script, the longest, has a file of its own (redis-append-script.ts), as have the
 * read-only ones (redis-read-scripts.ts) and the trim (redis-retention.ts).
 */

/**
 * Erasure of one entity, atomic: deletes its hash, its stream, its timer hash and the
 * older-layout dedup keys passed, then leaves a tombstone hash holding only `v` = the former
 * version + 1, so that the entity loads as its initial state and a writer that decided on the
 * erased state conflicts. The names of the timers it deleted come back, for the caller to
 * remove their members from the service's due index (another slot on a cluster).
 * With the entity index (standalone and Sentinel only), it also removes the entity's member and
 * marks the tombstone `i`, so that the first append after it adds the entity again (see
 * redis-append-script.ts): an entity is listed exactly when it exists, across erasures.
 *
 * KEYS: entity hash, event stream, timer hash, older-layout dedup keys (all under the entity's
 * hash tag), then the type's entity index when ARGV[1] is given. ARGV: [the entity's index
 * member]. Reply: {tombstone version, or 0 when nothing was stored; {timer name, ...}}.
 */
export const DELETE_SCRIPT = `#!lua
local n = #KEYS
if ARGV[1] ~= nil then n = n - 1 end
local own = {unpack(KEYS, 1, n)}
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if redis.call('EXISTS', unpack(own)) == 0 then return {0, {}} end
local timers = redis.call('HKEYS', KEYS[3])
redis.call('DEL', unpack(own))
local tombstone = {KEYS[1], 'v', string.format('%d', version + 1)}
if ARGV[1] ~= nil then
  redis.call('ZREM', KEYS[n + 1], ARGV[1])
  tombstone[#tombstone + 1] = 'i'
  tombstone[#tombstone + 1] = '1'
end
redis.call('HSET', unpack(tombstone))
return {version + 1, timers}
`;

export { APPEND_SCRIPT, CHECK_SCRIPT, EVENTS_SCRIPT, LOAD_SCRIPT };

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
  ksReplicatedPredicted: REPLICATED_PREDICTED_SCRIPT,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

const NAMES = new Map<string, ScriptName>(
  Object.entries(SCRIPTS).map(([name, lua]) => [lua, name as ScriptName]),
);

/** The name of one of `SCRIPTS` from its source. */
export function scriptNameOf(lua: string): ScriptName {
  const name = NAMES.get(lua);
  if (name === undefined) throw new Error("knstate: not one of the store's scripts");
  return name;
}

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
  /** Add the entity to its type's index (on version 0 only; default false). */
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
    options.index === true && version === 0,
  );
  const index = options.index === true && version === 0 ? [layout.entityIndex(key.entityType)] : [];
  return { keys: [keys.meta, keys.events, ...ids.map(keys.dedup), ...index], args };
}
