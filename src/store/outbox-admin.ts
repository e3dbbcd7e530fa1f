import type { Cluster, Redis } from "ioredis";
import type { MemoryOutbox } from "./memory-outbox.js";
import { OUTBOX_SHARDS, outboxShard, type OutboxKeys } from "./outbox-keys.js";
import { scanKeys } from "./redis-erase.js";
import type { EntityKey } from "./state-store.js";

/** A message the relay gave up on (the sink refused it for good), kept in the dead-letter list. */
export interface DeadLetter {
  /** Its id in the dead-letter list (a stream id on Redis). */
  readonly id: string;
  /** When it was dead-lettered (ms since the epoch). */
  readonly at: number;
  readonly reason: string;
  /** The outbox message (JSON parsed; the raw text when it does not parse). */
  readonly message: unknown;
}

/** What the admin shows of the outbox. */
export interface OutboxView {
  /** Messages waiting to be relayed, all shards. */
  readonly length: number;
  /** When the oldest waiting message was committed (ms since the epoch). */
  readonly oldest: number | undefined;
  /** The oldest waiting message itself. */
  readonly oldestMessage: unknown;
  readonly deadLetters: readonly DeadLetter[];
  readonly deadCount: number;
}

/**
 * The outbox as an operator sees it: its backlog and its dead letters, each of which can be
 * sent again ("retry": back into its entity's shard, so it is relayed in that entity's order
 * from now) or dropped. Both answer false when the dead letter is not there (any more).
 */
export interface OutboxAdmin {
  info(deadLimit: number): Promise<OutboxView>;
  retry(id: string): Promise<boolean>;
  drop(id: string): Promise<boolean>;
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The entity an outbox message belongs to, when it names one. */
function entityOf(message: unknown): EntityKey | undefined {
  const m = message as { entityType?: unknown; entityId?: unknown } | null;
  if (typeof m?.entityType !== "string" || typeof m.entityId !== "string") return undefined;
  return { entityType: m.entityType, entityId: m.entityId };
}

/** The shard a dead letter goes back to: its entity's, or shard 0 for an unreadable message. */
function shardOf(message: unknown): number {
  const key = entityOf(message);
  return key === undefined ? 0 : outboxShard(key);
}

export function memoryOutboxAdmin(outbox: MemoryOutbox): OutboxAdmin {
  const find = (id: string) => outbox.dead.findIndex((d) => d.id === id);
  return {
    info(deadLimit) {
      let oldestMessage: unknown;
      for (let s = 0; s < outbox.shards && oldestMessage === undefined; s++) {
        const first = outbox.oldestOf(s);
        if (first !== undefined && first.addedAt === outbox.oldest) oldestMessage = parsed(first.message);
      }
      return Promise.resolve({
        length: outbox.length,
        oldest: outbox.oldest,
        oldestMessage: oldestMessage ?? null,
        deadLetters: outbox.dead.slice(0, deadLimit).map((d) => ({
          id: d.id,
          at: d.deadAt,
          reason: d.reason,
          message: parsed(d.message),
        })),
        deadCount: outbox.dead.length,
      });
    },
    retry(id) {
      const i = find(id);
      if (i < 0) return Promise.resolve(false);
      const [entry] = outbox.dead.splice(i, 1);
      outbox.add(shardOf(parsed(entry!.message)), entry!.message);
      return Promise.resolve(true);
    },
    drop(id) {
      const i = find(id);
      if (i >= 0) outbox.dead.splice(i, 1);
      return Promise.resolve(i >= 0);
    },
  };
}

type StreamEntry = [id: string, fields: string[] | null];

function field(fields: readonly string[] | null, name: string): string | undefined {
  if (fields === null) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** A dead-letter stream id as the admin API passes it: `<ms>-<seq>`, nothing else. */
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/**
 * The Redis outbox (`OutboxKeys`): the streams' length and first entries (the shards, or on Redis
 * Cluster the slot streams found by a SCAN of each master: an operator's view, not a hot path),
 * the dead-letter stream newest first. A retry adds the message to its entity's stream
 * (`streamOf`), then deletes the dead letter: two calls (the streams may be in different slots),
 * so a crash in between leaves the message both relayed and still dead-lettered, never lost;
 * consumers deduplicate on its `source` + `id`.
 */
export function redisOutboxAdmin(
  client: Redis | Cluster,
  keys: OutboxKeys,
  streamOf: (key: EntityKey) => string,
): OutboxAdmin {
  const deadEntry = async (id: string) => {
    if (!STREAM_ID.test(id)) return undefined;
    const found = (await client.xrange(keys.dead, id, id)) as StreamEntry[];
    return found[0];
  };
  return {
    async info(deadLimit) {
      const streams = keys.isCluster
        ? await scanKeys(client, keys.slotStreamPattern)
        : Array.from({ length: OUTBOX_SHARDS }, (_, s) => keys.stream(s));
      const firsts = await Promise.all(
        streams.map(async (stream) => {
          const [length, first] = await Promise.all([
            client.xlen(stream),
            client.xrange(stream, "-", "+", "COUNT", 1) as Promise<StreamEntry[]>,
          ]);
          return { length, first: first[0] };
        }),
      );
      let oldest: number | undefined;
      let oldestMessage: unknown = null;
      for (const { first } of firsts) {
        if (first === undefined) continue;
        const ms = Number(first[0].split("-")[0]);
        if (oldest !== undefined && ms >= oldest) continue;
        oldest = ms;
        oldestMessage = parsed(field(first[1], "m") ?? "");
      }
      const [dead, deadCount] = await Promise.all([
        client.xrevrange(keys.dead, "+", "-", "COUNT", deadLimit) as Promise<StreamEntry[]>,
        client.xlen(keys.dead),
      ]);
      return {
        length: firsts.reduce((sum, s) => sum + s.length, 0),
        oldest,
        oldestMessage,
        deadLetters: dead.map(([id, fields]) => ({
          id,
          at: Number(id.split("-")[0]),
          reason: field(fields, "reason") ?? "",
          message: parsed(field(fields, "m") ?? ""),
        })),
        deadCount,
      };
    },
    async retry(id) {
      const entry = await deadEntry(id);
      const text = entry === undefined ? undefined : field(entry[1], "m");
      if (text === undefined) return false;
      const key = entityOf(parsed(text));
      const stream = key !== undefined ? streamOf(key) : keys.isCluster ? keys.slotStream(0) : keys.stream(0);
      await client.xadd(stream, "*", "m", text);
      await client.xdel(keys.dead, id);
      return true;
    },
    async drop(id) {
      if (!STREAM_ID.test(id)) return false;
      return (await client.xdel(keys.dead, id)) > 0;
    },
  };
}
