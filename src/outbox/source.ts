import type { EntityKey, OutboxMessage } from "../store/state-store.js";

/** One message read from the outbox. */
export interface OutboxEntry {
  /** The lease unit its stream belongs to. */
  readonly shard: number;
  /** Its stream: a Redis key, or the shard's number on the memory store. */
  readonly stream: string;
  /** The entry's id in its stream. */
  readonly id: string;
  readonly message: OutboxMessage;
}

/**
 * What the relay sees of the outbox, on Redis (redis-source.ts), Redis Cluster
 * (cluster-source.ts) or in process (memory-source.ts). Streams are relayed by the holder of
 * their shard's lease, so one pod at a time sends an entity's messages.
 */
export interface OutboxSource {
  /** Lease units. */
  readonly shards: number;
  /** Takes or renews the lease of `shard` for `consumer`; false when another pod holds it. */
  acquire(shard: number, consumer: string, ttlMs: number): Promise<boolean>;
  release(shard: number, consumer: string): Promise<void>;
  /**
   * The streams of `shard` that may hold entries not read yet: its one stream, or on a cluster
   * the non-empty slot streams found by the last sweep and those this pod just wrote to.
   */
  streams(shard: number): Promise<readonly string[]>;
  /** Every entry of `stream` read and not acknowledged (by any consumer), now `consumer`'s, oldest first. */
  claim(shard: number, stream: string, consumer: string): Promise<OutboxEntry[]>;
  /** Up to `count` entries of `stream` never read, oldest first. */
  read(shard: number, stream: string, consumer: string, count: number): Promise<OutboxEntry[]>;
  /** Acknowledges and deletes entries of one stream (the outbox stays bounded). */
  ack(stream: string, ids: readonly string[]): Promise<void>;
  /** Moves an entry to the dead-letter stream (and acknowledges it). */
  deadLetter(entry: OutboxEntry, reason: string): Promise<void>;
  /** Entries waiting in all streams, and when the oldest was written (ms since the epoch). */
  backlog(): Promise<{ readonly length: number; readonly oldest: number | undefined }>;
  /** This pod just committed messages of `key` (a cluster source reads its slot's stream at once). */
  committed?(key: EntityKey): void;
}

/** The message of an entry's JSON; `undefined` when it is not one (it is then dead-lettered). */
export function parseMessage(text: string): OutboxMessage | undefined {
  try {
    const m = JSON.parse(text) as Partial<OutboxMessage> | null;
    if (
      m === null ||
      typeof m.id !== "string" ||
      typeof m.entityType !== "string" ||
      typeof m.entityId !== "string" ||
      typeof m.type !== "string"
    ) {
      return undefined;
    }
    return m as OutboxMessage;
  } catch {
    return undefined;
  }
}

const BROKEN: OutboxMessage = {
  id: "",
  entityType: "",
  entityId: "",
  version: 0,
  type: "",
  data: undefined,
  time: "",
};

/** An entry for `text`, a placeholder message when it does not parse. */
export function entryOf(shard: number, stream: string, id: string, text: string): OutboxEntry {
  return {
    shard,
    stream,
    id,
    message: parseMessage(text) ?? { ...BROKEN, id: `unreadable/${id}`, data: text },
  };
}
