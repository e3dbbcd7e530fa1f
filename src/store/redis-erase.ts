import { Cluster } from "ioredis";
import { timerMember } from "./append-encoding.js";
import { erasedMessage } from "./erase-scope.js";
import { OUTBOX_GROUP } from "./outbox-keys.js";
import type { RedisClient } from "./redis-connection.js";
import type { StreamEntry } from "./redis-replies.js";
import type { EntityKey } from "./state-store.js";

/**
 * Every key matching `pattern`, by SCAN on the server (on every master of a cluster). For rare
 * operator work such as erasure, never on the path of a command.
 */
export async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  const found: string[] = [];
  const servers = client instanceof Cluster ? client.nodes("master") : [client];
  for (const server of servers) {
    let cursor = "0";
    do {
      const [next, keys] = await server.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
  }
  return found;
}

/** `text` matched literally by a SCAN pattern. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/** Where an entity has entries outside its hash tag, for `eraseOutside`. */
export interface OutsideKeys {
  /** The service's sorted set of due timers. */
  readonly dueIndex: string;
  /** Names of the timers the erasure deleted. */
  readonly timers: readonly string[];
  /** The outbox stream of the entity's shard, and the dead-letter stream. */
  readonly outbox: string;
  readonly dead: string;
}

/** Stream entries read per XRANGE while sweeping the outbox. */
const SWEEP_PAGE = 1000;

/**
 * The part of an erasure outside the entity's hash tag, after its tombstone was written: the
 * due-index members of its deleted timers and its outbox messages of the erased life (versions
 * below the tombstone), waiting, handed to a relay (XACK as well) or dead-lettered. Not atomic
 * with the tombstone, and need not be: a due member whose timer is gone is dropped by the next
 * claim, and no message of the erased life can be added once the tombstone is there (its append
 * would conflict).
 */
export async function eraseOutside(
  client: RedisClient,
  key: EntityKey,
  tombstone: number,
  keys: OutsideKeys,
): Promise<void> {
  if (keys.timers.length > 0)
    await client.zrem(
      keys.dueIndex,
      ...keys.timers.map((name) => timerMember(key.entityType, key.entityId, name)),
    );
  const matches = erasedMessage(key, tombstone);
  await sweepStream(client, keys.outbox, matches, OUTBOX_GROUP);
  await sweepStream(client, keys.dead, matches, undefined);
}

/** Deletes the entries of `stream` whose field `m` `matches`, acknowledging them in `group`. */
async function sweepStream(
  client: RedisClient,
  stream: string,
  matches: (json: string) => boolean,
  group: string | undefined,
): Promise<void> {
  let start = "-";
  for (;;) {
    const entries = (await client.xrange(stream, start, "+", "COUNT", SWEEP_PAGE)) as StreamEntry[];
    const ids = entries.filter(([, fields]) => matches(fieldOf(fields, "m") ?? "")).map(([id]) => id);
    if (ids.length > 0) {
      const tx = client.multi();
      // A stream nobody relayed yet has no group: XACK then fails alone, XDEL still runs.
      if (group !== undefined) tx.xack(stream, group, ...ids);
      await tx.xdel(stream, ...ids).exec();
    }
    if (entries.length < SWEEP_PAGE) return;
    start = `(${entries[entries.length - 1]![0]}`;
  }
}

function fieldOf(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
