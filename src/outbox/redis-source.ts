import type { Redis } from "ioredis";
import { OUTBOX_SHARDS, OutboxKeys } from "../store/outbox-keys.js";
import { RedisStreams } from "./redis-streams.js";
import type { OutboxEntry, OutboxSource } from "./source.js";

type StreamEntry = [id: string, fields: string[] | null];

/**
 * The outbox streams on standalone Redis or behind Sentinel (docs/outbox.md): `OUTBOX_SHARDS`
 * streams, each with a consumer group and a lease so that one pod relays a shard at a time
 * (per-entity order); a new holder claims what the previous one left pending (XAUTOCLAIM).
 */
export class RedisOutboxSource implements OutboxSource {
  readonly shards = OUTBOX_SHARDS;
  readonly #client: Redis;
  readonly #keys: OutboxKeys;
  readonly #streams: RedisStreams;

  constructor(client: Redis, prefix: string, service: string) {
    this.#client = client;
    this.#keys = new OutboxKeys(prefix, service);
    this.#streams = new RedisStreams(client);
  }

  get keys(): OutboxKeys {
    return this.#keys;
  }

  async acquire(shard: number, consumer: string, ttlMs: number): Promise<boolean> {
    if (!(await this.#streams.lease(this.#keys.lease(shard), consumer, ttlMs))) return false;
    await this.#streams.group(this.#keys.stream(shard));
    return true;
  }

  release(shard: number, consumer: string): Promise<void> {
    return this.#streams.release(this.#keys.lease(shard), consumer);
  }

  streams(shard: number): Promise<readonly string[]> {
    return Promise.resolve([this.#keys.stream(shard)]);
  }

  claim(shard: number, stream: string, consumer: string): Promise<OutboxEntry[]> {
    return this.#streams.claim(shard, stream, consumer);
  }

  read(shard: number, stream: string, consumer: string, count: number): Promise<OutboxEntry[]> {
    return this.#streams.read(shard, stream, consumer, count);
  }

  ack(stream: string, ids: readonly string[]): Promise<void> {
    return this.#streams.ack(stream, ids);
  }

  deadLetter(entry: OutboxEntry, reason: string): Promise<void> {
    return this.#streams.deadLetter(this.#keys.dead, entry, reason, true);
  }

  async backlog(): Promise<{ length: number; oldest: number | undefined }> {
    const pipeline = this.#client.pipeline();
    for (let s = 0; s < this.shards; s++) {
      pipeline.xlen(this.#keys.stream(s));
      pipeline.xrange(this.#keys.stream(s), "-", "+", "COUNT", 1);
    }
    const results = (await pipeline.exec()) ?? [];
    let length = 0;
    let oldest: number | undefined;
    for (let s = 0; s < this.shards; s++) {
      length += Number(results[2 * s]?.[1] ?? 0);
      const first = (results[2 * s + 1]?.[1] as StreamEntry[] | undefined)?.[0];
      if (first === undefined) continue;
      const ms = Number(first[0].split("-")[0]);
      if (oldest === undefined || ms < oldest) oldest = ms;
    }
    return { length, oldest };
  }
}
