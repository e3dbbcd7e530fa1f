import { encodeSegment } from "./redis-keys.js";
import type { EntityKey } from "./state-store.js";

/**
 * Where the outbox lives in Redis (see docs/outbox.md). An entity's messages go to one of
 * `OUTBOX_SHARDS` streams, chosen by a hash of its type and id, so that one entity's messages
 * stay in one stream, in commit order, and the shards can be relayed by different pods:
 *
 * ```
 * <prefix>:<service>:_outbox:<shard>         stream: messages to publish (field `m`, JSON)
 * <prefix>:<service>:_outbox:<shard>:lease   string: the pod relaying the shard (PX lease)
 * <prefix>:<service>:_outbox:dead            stream: messages the sink refused for good
 * ```
 *
 * `_outbox` cannot be an entity type (entity names start with a letter).
 */
export const OUTBOX_SHARDS = 4;

/** The consumer group of every outbox stream. */
export const OUTBOX_GROUP = "knstate-relay";

export class OutboxKeys {
  readonly #base: string;

  constructor(prefix: string, service: string) {
    this.#base = `${prefix}:${encodeSegment(service)}:_outbox:`;
  }

  stream(shard: number): string {
    return `${this.#base}${shard}`;
  }

  lease(shard: number): string {
    return `${this.#base}${shard}:lease`;
  }

  get dead(): string {
    return `${this.#base}dead`;
  }
}

/** The shard of an entity's messages: FNV-1a of `<type>\0<id>`, modulo the shard count. */
export function outboxShard(key: EntityKey, shards = OUTBOX_SHARDS): number {
  let hash = 0x811c9dc5;
  const text = `${key.entityType}\u0000${key.entityId}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}
