import type { MemoryOutbox } from "../store/memory-outbox.js";
import { entryOf, type OutboxEntry, type OutboxSource } from "./source.js";

/** The memory store's outbox as the relay reads it: one process, so leases always succeed. */
export class MemoryOutboxSource implements OutboxSource {
  readonly #outbox: MemoryOutbox;

  constructor(outbox: MemoryOutbox) {
    this.#outbox = outbox;
  }

  get shards(): number {
    return this.#outbox.shards;
  }

  acquire(): Promise<boolean> {
    return Promise.resolve(true);
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  /** One stream per shard, named by its number. */
  streams(shard: number): Promise<readonly string[]> {
    return Promise.resolve([String(shard)]);
  }

  claim(shard: number, stream: string): Promise<OutboxEntry[]> {
    return Promise.resolve(this.#outbox.pending(shard).map((e) => entryOf(shard, stream, e.id, e.message)));
  }

  read(shard: number, stream: string, _consumer: string, count: number): Promise<OutboxEntry[]> {
    return Promise.resolve(
      this.#outbox.read(shard, count).map((e) => entryOf(shard, stream, e.id, e.message)),
    );
  }

  ack(stream: string, ids: readonly string[]): Promise<void> {
    this.#outbox.ack(Number(stream), ids);
    return Promise.resolve();
  }

  deadLetter(entry: OutboxEntry, reason: string): Promise<void> {
    const stored = this.#outbox.pending(entry.shard).find((e) => e.id === entry.id);
    if (stored !== undefined) this.#outbox.deadLetter(stored, reason);
    return Promise.resolve();
  }

  backlog(): Promise<{ length: number; oldest: number | undefined }> {
    return Promise.resolve({ length: this.#outbox.length, oldest: this.#outbox.oldest });
  }
}
