import { OUTBOX_SHARDS } from "./outbox-keys.js";

/** One message in the memory store's outbox: its sequence id and JSON. */
export interface MemoryOutboxEntry {
  readonly id: string;
  readonly shard: number;
  readonly message: string;
  readonly addedAt: number;
}

/**
 * The memory store's outbox: what the Redis store writes to its outbox streams, in process.
 * Messages are added in the same step as the append that commits them; the relay reads them
 * (each once until released), acknowledges (deletes) or dead-letters them.
 */
export class MemoryOutbox {
  readonly shards = OUTBOX_SHARDS;
  readonly #entries = Array.from({ length: OUTBOX_SHARDS }, () => new Map<string, MemoryOutboxEntry>());
  readonly #delivered = new Set<string>();
  readonly dead: Array<MemoryOutboxEntry & { readonly reason: string; readonly deadAt: number }> = [];
  #seq = 0;

  add(shard: number, message: string): void {
    const id = String(++this.#seq);
    this.#entries[shard]!.set(id, { id, shard, message, addedAt: Date.now() });
  }

  /** Up to `count` messages of `shard` not handed out yet, oldest first. */
  read(shard: number, count: number): MemoryOutboxEntry[] {
    const out: MemoryOutboxEntry[] = [];
    for (const entry of this.#entries[shard]!.values()) {
      if (out.length >= count) break;
      if (this.#delivered.has(entry.id)) continue;
      this.#delivered.add(entry.id);
      out.push(entry);
    }
    return out;
  }

  /** Every message of `shard` handed out and not acknowledged, oldest first. */
  pending(shard: number): MemoryOutboxEntry[] {
    return [...this.#entries[shard]!.values()].filter((e) => this.#delivered.has(e.id));
  }

  ack(shard: number, ids: readonly string[]): void {
    for (const id of ids) {
      this.#entries[shard]!.delete(id);
      this.#delivered.delete(id);
    }
  }

  deadLetter(entry: MemoryOutboxEntry, reason: string): void {
    this.dead.push({ ...entry, reason, deadAt: Date.now() });
    this.ack(entry.shard, [entry.id]);
  }

  /**
   * Removes the messages of `shard` (and dead letters of any shard) that `matches` picks,
   * whether handed out or not (erasure); returns how many.
   */
  remove(shard: number, matches: (message: string) => boolean): number {
    let removed = 0;
    for (const entry of [...this.#entries[shard]!.values()]) {
      if (!matches(entry.message)) continue;
      this.ack(shard, [entry.id]);
      removed++;
    }
    for (let i = this.dead.length - 1; i >= 0; i--)
      if (matches(this.dead[i]!.message)) {
        this.dead.splice(i, 1);
        removed++;
      }
    return removed;
  }

  get length(): number {
    return this.#entries.reduce((sum, m) => sum + m.size, 0);
  }

  /** The oldest message waiting in `shard`, if any. */
  oldestOf(shard: number): MemoryOutboxEntry | undefined {
    return this.#entries[shard]!.values().next().value;
  }

  /** When the oldest message waiting was added (ms since the epoch), if any. */
  get oldest(): number | undefined {
    let min: number | undefined;
    for (const m of this.#entries) {
      const first = m.values().next();
      if (!first.done && (min === undefined || first.value.addedAt < min)) min = first.value.addedAt;
    }
    return min;
  }
}
