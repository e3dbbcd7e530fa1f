import type { OutboxMessage } from "../store/state-store.js";

/** One message read from the outbox. */
export interface OutboxEntry {
  readonly shard: number;
  /** The entry's id in its shard (a stream id on Redis). */
  readonly id: string;
  readonly message: OutboxMessage;
}

/** What the relay sees of the outbox, on Redis (redis-source.ts) or in process (memory-source.ts). */
export interface OutboxSource {
  readonly shards: number;
  /** Takes or renews the lease of `shard` for `consumer`; false when another pod holds it. */
  acquire(shard: number, consumer: string, ttlMs: number): Promise<boolean>;
  release(shard: number, consumer: string): Promise<void>;
  /** Every entry of `shard` read and not acknowledged (by any consumer), now `consumer`'s, oldest first. */
  claim(shard: number, consumer: string): Promise<OutboxEntry[]>;
  /** Up to `count` entries of `shard` never read, oldest first. */
  read(shard: number, consumer: string, count: number): Promise<OutboxEntry[]>;
  /** Acknowledges and deletes entries (the outbox stays bounded). */
  ack(shard: number, ids: readonly string[]): Promise<void>;
  /** Moves an entry to the dead-letter stream (and acknowledges it). */
  deadLetter(entry: OutboxEntry, reason: string): Promise<void>;
  /** Entries waiting in all shards, and when the oldest was written (ms since the epoch). */
  backlog(): Promise<{ readonly length: number; readonly oldest: number | undefined }>;
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
export function entryOf(shard: number, id: string, text: string): OutboxEntry {
  return { shard, id, message: parseMessage(text) ?? { ...BROKEN, id: `unreadable/${id}`, data: text } };
}
