import type { RedisClient } from "./redis-connection.js";
import { eraseOutside, globEscape, scanKeys, type OutsideKeys } from "./redis-erase.js";
import type { EntityKeys } from "./redis-keys.js";
import { callRedis, type RunScript } from "./redis-script-runner.js";
import type { Retention } from "./retention.js";
import type { EntityKey } from "./state-store.js";

/**
 * What the Redis store deletes: an entity, when it is erased, and the events its kind's
 * retention no longer keeps, after an append that wrote a snapshot.
 */

/**
 * Erases the entity in one script (see DELETE_SCRIPT) and resolves with the tombstone's version
 * (0: nothing was stored). Dedup records of the older layout are separate string keys: they are
 * found first by a SCAN of the entity's keys (on every master of a cluster), then deleted by the
 * same script. What lives outside the entity's hash tag (due-index members, the index entry,
 * outbox messages) goes right after (`eraseOutside`, with the keys `outside` names then).
 */
export async function deleteEntity(
  client: RedisClient,
  run: RunScript,
  key: EntityKey,
  k: EntityKeys,
  outside: () => Omit<OutsideKeys, "timers">,
): Promise<number> {
  const [version, timers] = (await callRedis("delete", key, async () => {
    const legacy = await scanKeys(client, `${globEscape(k.meta.slice(0, -1))}d:*`);
    return run("ksDelete", [k.meta, k.events, k.timers, ...legacy], []);
  })) as [number, string[]];
  if (version === 0) return version;
  await callRedis("delete", key, () => eraseOutside(client, key, version, { ...outside(), timers }));
  return version;
}

/**
 * After an append that wrote a snapshot: deletes the events its kind's retention no longer
 * keeps (TRIM_SCRIPT). The append has committed: a failed trim fails nothing, and the next
 * snapshot trims what this one left.
 */
export async function trimRetained(
  run: RunScript,
  retention: Retention | undefined,
  key: EntityKey,
  k: EntityKeys,
): Promise<void> {
  const keep = retention?.(key.entityType);
  if (keep === undefined) return;
  try {
    await run("ksTrim", [k.meta, k.events], [String(keep)]);
  } catch {
    // Nothing to undo: the events stay until the next snapshot's trim.
  }
}
