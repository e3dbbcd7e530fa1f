import type { AfterCommitWork } from "./after-commit.js";
import type { RedisClient } from "./redis-connection.js";
import { eraseOutside, globEscape, scanKeys, type OutsideKeys } from "./redis-erase.js";
import { encodeSegment, type EntityKeys } from "./redis-keys.js";
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
 * same script, as is the entity's member of the type's index (`entityIndex`, when appends keep
 * one: a standalone server, where the script may name it). What lives outside the entity's hash
 * tag on a cluster (due-index members, outbox messages) goes right after (`eraseOutside`, with the
 * keys `outside` names then).
 */
export async function deleteEntity(
  client: RedisClient,
  run: RunScript,
  key: EntityKey,
  k: EntityKeys,
  entityIndex: string | undefined,
  outside: () => Omit<OutsideKeys, "timers">,
): Promise<number> {
  const index = entityIndex === undefined ? [] : [entityIndex];
  const member = entityIndex === undefined ? [] : [encodeSegment(key.entityId)];
  const [version, timers] = (await callRedis("delete", key, async () => {
    const legacy = await scanKeys(client, `${globEscape(k.meta.slice(0, -1))}d:*`);
    return run("ksDelete", [k.meta, k.events, k.timers, ...legacy, ...index], member);
  })) as [number, string[]];
  if (version === 0) return version;
  await callRedis("delete", key, () => eraseOutside(client, key, version, { ...outside(), timers }));
  return version;
}

/**
 * After an append that wrote a snapshot: the work that deletes the events its kind's retention
 * no longer keeps (TRIM_SCRIPT), or undefined when the kind keeps them all. The append has
 * committed and the trim reads what is stored when it runs: it runs after the reply (see
 * after-commit.ts), a failed trim fails nothing, and the next snapshot trims what it left.
 */
export function trimRetained(
  run: RunScript,
  retention: Retention | undefined,
  key: EntityKey,
  k: EntityKeys,
): AfterCommitWork | undefined {
  const keep = retention?.(key.entityType);
  if (keep === undefined) return undefined;
  return () => run("ksTrim", [k.meta, k.events], [String(keep)]);
}
