import { encodeSegment } from "./redis-keys.js";
import { keySlot, SLOT_COUNT, slotTag } from "./slot-tags.js";
import type { EntityKey } from "./state-store.js";

/**
 * Where the outbox lives in Redis (see docs/outbox.md). One entity's messages always go to one
 * stream, in commit order, so that streams can be relayed by different pods.
 *
 * Standalone Redis and Sentinel: one of `OUTBOX_SHARDS` streams, chosen by a hash of the
 * entity's type and id, each relayed by the holder of its lease:
 *
 * ```
 * <prefix>:<service>:_outbox:<shard>         stream: messages to publish (field `m`, JSON)
 * <prefix>:<service>:_outbox:<shard>:lease   string: the pod relaying the shard (PX lease)
 * ```
 *
 * Redis Cluster: a stream per hash slot, in the slot of the entities it serves (its hash tag is
 * the slot's tag, see slot-tags.ts), so the append that commits the events writes it in the same
 * script. The slots are relayed in `CLUSTER_OUTBOX_GROUPS` ranges, one lease each:
 *
 * ```
 * <prefix>:<service>:_outbox:{<slot tag>}     stream: messages of the slot's entities
 * <prefix>:<service>:_outbox:g<group>:lease   string: the pod relaying the group's slots
 * ```
 *
 * Both: `<prefix>:<service>:_outbox:dead`, a stream of the messages the sink refused for good, and
 * `<prefix>:<service>:_outbox:relays`, a sorted set of the live relays (the leases are spread
 * over them, see src/outbox/shard-balance.ts).
 * `_outbox` cannot be an entity type (entity names start with a letter).
 */
export const OUTBOX_SHARDS = 4;

/** Lease units on Redis Cluster: consecutive ranges of `SLOT_COUNT / CLUSTER_OUTBOX_GROUPS` slots. */
export const CLUSTER_OUTBOX_GROUPS = 16;

/** The consumer group of every outbox stream. */
export const OUTBOX_GROUP = "knstate-relay";

export class OutboxKeys {
  readonly #base: string;
  readonly #cluster: boolean;

  /** `cluster`: per-slot streams (Redis Cluster); otherwise `OUTBOX_SHARDS` streams. */
  constructor(prefix: string, service: string, cluster = false) {
    this.#base = `${prefix}:${encodeSegment(service)}:_outbox:`;
    this.#cluster = cluster;
  }

  stream(shard: number): string {
    return `${this.#base}${shard}`;
  }

  lease(shard: number): string {
    return `${this.#base}${shard}:lease`;
  }

  /** Redis Cluster: the outbox stream of one slot. */
  slotStream(slot: number): string {
    return `${this.#base}{${slotTag(slot)}}`;
  }

  /** Redis Cluster: the lease of a group of slots. */
  groupLease(group: number): string {
    return `${this.#base}g${group}:lease`;
  }

  /** Whether the streams are per slot (Redis Cluster). */
  get isCluster(): boolean {
    return this.#cluster;
  }

  /** Redis Cluster: a SCAN pattern that matches every slot stream and nothing else. */
  get slotStreamPattern(): string {
    return `${this.#base.replace(/[*?[\]\\]/g, "\\$&")}{*}`;
  }

  /** The stream an entity's messages go to; `entityKey` is one of its keys (for its slot). */
  streamOf(key: EntityKey, entityKey: string): string {
    return this.#cluster ? this.slotStream(keySlot(entityKey)) : this.stream(outboxShard(key));
  }

  get dead(): string {
    return `${this.#base}dead`;
  }

  /** The relays of this outbox that announced themselves (sorted set, score: expiry time). */
  get relays(): string {
    return `${this.#base}relays`;
  }
}

/** The slots of a group (Redis Cluster), as `[first, last]`. */
export function groupSlots(group: number): readonly [number, number] {
  const size = SLOT_COUNT / CLUSTER_OUTBOX_GROUPS;
  return [group * size, (group + 1) * size - 1];
}

/** The group a slot belongs to (Redis Cluster). */
export function slotGroup(slot: number): number {
  return Math.floor((slot * CLUSTER_OUTBOX_GROUPS) / SLOT_COUNT);
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
