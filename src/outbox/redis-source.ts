import type { Redis } from "ioredis";
import { OUTBOX_GROUP, OUTBOX_SHARDS, OutboxKeys } from "../store/outbox-keys.js";
import { entryOf, type OutboxEntry, type OutboxSource } from "./source.js";

const LEASE = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

type StreamEntry = [id: string, fields: string[] | null];

/**
 * The outbox streams on standalone Redis or behind Sentinel (docs/outbox.md): a consumer group
 * per shard stream, and a lease per shard so that one pod relays a shard at a time (per-entity
 * order); a new holder claims what the previous one left pending (XAUTOCLAIM).
 */
export class RedisOutboxSource implements OutboxSource {
  readonly shards = OUTBOX_SHARDS;
  readonly #client: Redis;
  readonly #keys: OutboxKeys;
  readonly #groups = new Set<number>();

  constructor(client: Redis, prefix: string, service: string) {
    this.#client = client;
    this.#keys = new OutboxKeys(prefix, service);
  }

  get keys(): OutboxKeys {
    return this.#keys;
  }

  async acquire(shard: number, consumer: string, ttlMs: number): Promise<boolean> {
    const got = await this.#client.eval(LEASE, 1, this.#keys.lease(shard), consumer, String(ttlMs));
    if (got !== 1) return false;
    await this.#group(shard);
    return true;
  }

  async release(shard: number, consumer: string): Promise<void> {
    await this.#client.eval(RELEASE, 1, this.#keys.lease(shard), consumer);
  }

  async claim(shard: number, consumer: string): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = [];
    let start = "0-0";
    do {
      const [next, entries] = (await this.#client.xautoclaim(
        this.#keys.stream(shard),
        OUTBOX_GROUP,
        consumer,
        0,
        start,
        "COUNT",
        500,
      )) as [string, StreamEntry[]];
      out.push(...this.#entries(shard, entries));
      start = next;
    } while (start !== "0-0");
    return out;
  }

  async read(shard: number, consumer: string, count: number): Promise<OutboxEntry[]> {
    const reply = (await this.#client.xreadgroup(
      "GROUP",
      OUTBOX_GROUP,
      consumer,
      "COUNT",
      count,
      "STREAMS",
      this.#keys.stream(shard),
      ">",
    )) as Array<[string, StreamEntry[]]> | null;
    return reply === null ? [] : this.#entries(shard, reply[0]![1]);
  }

  async ack(shard: number, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const key = this.#keys.stream(shard);
    await this.#client
      .multi()
      .xack(key, OUTBOX_GROUP, ...ids)
      .xdel(key, ...ids)
      .exec();
  }

  async deadLetter(entry: OutboxEntry, reason: string): Promise<void> {
    const key = this.#keys.stream(entry.shard);
    await this.#client
      .multi()
      .xadd(this.#keys.dead, "*", "m", JSON.stringify(entry.message), "reason", reason, "from", entry.id)
      .xack(key, OUTBOX_GROUP, entry.id)
      .xdel(key, entry.id)
      .exec();
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

  async #group(shard: number): Promise<void> {
    if (this.#groups.has(shard)) return;
    try {
      await this.#client.xgroup("CREATE", this.#keys.stream(shard), OUTBOX_GROUP, "0", "MKSTREAM");
    } catch (error) {
      if (!String((error as Error).message).includes("BUSYGROUP")) throw error;
    }
    this.#groups.add(shard);
  }

  #entries(shard: number, entries: readonly StreamEntry[]): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    for (const [id, fields] of entries) {
      if (fields === null) continue;
      const i = fields.indexOf("m");
      out.push(entryOf(shard, id, i >= 0 ? (fields[i + 1] ?? "") : ""));
    }
    return out;
  }
}
