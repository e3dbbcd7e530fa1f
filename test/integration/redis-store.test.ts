import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisStore } from "../../src/store/redis-store.js";
import { APPEND_SCRIPT, syntheticCounterAppend } from "../../src/store/redis-scripts.js";
import type { EntityKey } from "../../src/store/state-store.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";
import { connectRedisStore as connect, increments } from "../support/redis-store.js";

const withRedis = redisAvailable();

describe.skipIf(!withRedis)("the Redis store", () => {
  let redis: RedisServer;
  let store: RedisStore;

  beforeAll(async () => {
    redis = await startRedis();
    store = await connect({ REDIS_URL: redis.url, K_SERVICE: "store" });
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  it("keeps hostile entity ids apart, each entity's keys under one hash tag", async () => {
    const ids = [
      "a}b",
      "{x}",
      "}{",
      "..",
      ".",
      "",
      "x".repeat(10_240),
      "x".repeat(10_241),
      "a:b:c:{d}:m",
      "a",
      "a%7Db",
      "%",
      "ключ-🔑",
      "\ud800",
      "\udc00",
      "\u0000",
    ];
    const key = (entityId: string): EntityKey => ({ entityType: "counter", entityId });
    for (const [i, id] of ids.entries()) {
      expect(await store.append(increments(key(id), 0, i + 1))).toEqual({ kind: "ok", version: i + 1 });
    }
    for (const [i, id] of ids.entries()) {
      const loaded = await store.load(key(id), []);
      expect(loaded.version, JSON.stringify(id.slice(0, 20))).toBe(i + 1);
      expect(loaded.events).toHaveLength(i + 1);
    }
    const all = (await redis.cli("--scan", "--pattern", "ks:store:*")).split("\n");
    // Besides the entities: the type's entity index (KNSTATE_ENTITY_INDEX), one sorted set.
    expect(all.filter((k) => k.endsWith(":i"))).toEqual(["ks:store:counter:i"]);
    expect(Number(await redis.cli("ZCARD", "ks:store:counter:i"))).toBe(ids.length);
    const listed = await store.listEntities("counter", { prefix: "", limit: 1000, cursor: undefined });
    expect([...listed.ids].sort()).toEqual([...ids].sort());
    const keys = all.filter((k) => !k.endsWith(":i"));
    const tags = new Set<string>();
    for (const k of keys) {
      const tag = /\{([^{}]+)\}:(?:m|e)$/.exec(k)?.[1];
      expect(tag, k).toBeDefined();
      tags.add(tag!);
    }
    // Fewer events than the spill threshold: each entity is its hash alone.
    expect(keys).toHaveLength(ids.length);
    expect(tags.size).toBe(ids.length);
    expect(Math.max(...keys.map((k) => k.length))).toBeLessThan(300);
  });

  it("loads a 20,000-event entity from its snapshot, replaying fewer than snapshotEvery events", async () => {
    // Snapshots every 128 versions, written with the append that crosses a multiple (as the
    // host does): 32 events follow the last snapshot at 19,968.
    const snapshotEvery = 128;
    const build = async (id: string, total: number) => {
      const key: EntityKey = { entityType: "counter", entityId: id };
      for (let version = 0; version < total;) {
        const next = Math.min(total, version + 64);
        const crosses = Math.floor(next / snapshotEvery) > Math.floor(version / snapshotEvery);
        const request = increments(key, version, next - version);
        const result = await store.append(
          crosses ? { ...request, snapshot: { version: next, state: { value: next } } } : request,
        );
        expect(result).toEqual({ kind: "ok", version: next });
        version = next;
      }
      return key;
    };
    const big = await build("history-20000", 20_000);
    const small = await build("history-100", 100);
    const time = async (key: EntityKey) => {
      const samples: number[] = [];
      for (let i = 0; i < 30; i++) {
        const started = performance.now();
        await store.load(key, ["some-dedup-id"]);
        samples.push(performance.now() - started);
      }
      return samples.sort((a, b) => a - b)[15]!;
    };
    const loaded = await store.load(big, []);
    expect(loaded.version).toBe(20_000);
    expect(loaded.events.length).toBeLessThan(snapshotEvery);
    expect(loaded.events.length).toBe(32);
    const state = loaded.snapshot!.state as { value: number };
    expect(state.value + loaded.events.length).toBe(20_000);
    expect(loaded.snapshot!.version + loaded.events.length).toBe(20_000);
    const [bigMs, smallMs] = [await time(big), await time(small)];
    console.log(
      `median load: 20,000-event entity ${bigMs.toFixed(3)} ms (${loaded.events.length} events replayed), 100-event entity ${smallMs.toFixed(3)} ms`,
    );
    expect((await store.readEvents(big, 19_990)).map((e) => e.version)).toEqual(
      Array.from({ length: 11 }, (_, i) => 19_990 + i),
    );
  });

  it("runs the scripts again as EVAL after Redis lost them (SCRIPT FLUSH, a restart)", async () => {
    const admin = new Redis(redis.url);
    try {
      const k: EntityKey = { entityType: "counter", entityId: "flushed" };
      expect(await store.append(increments(k, 0, 1))).toEqual({ kind: "ok", version: 1 });
      await admin.script("FLUSH");
      expect((await store.load(k, [])).version).toBe(1);
      await admin.script("FLUSH");
      expect(await store.append(increments(k, 1, 1))).toEqual({ kind: "ok", version: 2 });
      await admin.script("FLUSH");
      expect((await store.check(k, ["none"])).version).toBe(2);
    } finally {
      admin.disconnect();
    }
  });

  it("sends the commands of one event-loop turn in one write", async () => {
    // Write system calls of this process (Linux), around 50 appends started in one turn.
    const writes = () => Number(/syscw: (\d+)/.exec(readFileSync("/proc/self/io", "utf8"))![1]);
    const before = writes();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.append(increments({ entityType: "counter", entityId: `turn-${i}` }, 0, 1)),
      ),
    );
    const after = writes();
    expect(results.every((r) => r.kind === "ok")).toBe(true);
    expect(after - before).toBeLessThan(10);
  });

  it("refuses malformed script calls and a stream ahead of the version, writing nothing", async () => {
    const client = new Redis(redis.port, "127.0.0.1");
    try {
      // spill 0: events go straight to the stream, so the first write is an XADD.
      const call = syntheticCounterAppend({ service: "scripts", entityId: "bad", spill: 0 });
      const [meta, events, legacy] = call.keys;
      const args = [...call.args];
      await expect(
        client.eval(APPEND_SCRIPT, 3, meta!, events!, legacy!, ...args.slice(0, -1)),
      ).rejects.toThrow(/knstate append: wrong number of arguments/);
      await expect(
        client.eval(APPEND_SCRIPT, 3, meta!, events!, legacy!, args[0]!, "x", ...args.slice(2)),
      ).rejects.toThrow(/knstate append: bad counts/);
      await expect(
        client.eval(APPEND_SCRIPT, 3, meta!, events!, legacy!, "2", ...args.slice(1)),
      ).rejects.toThrow(/knstate append: unknown encoding/);
      await client.xadd(events!, "5-1", "t", "changed", "d", "{}");
      await expect(client.eval(APPEND_SCRIPT, 3, meta!, events!, legacy!, ...args)).rejects.toThrow(
        /stream is ahead/,
      );
      expect(await client.exists(meta!, legacy!)).toBe(0);
      expect(await client.xlen(events!)).toBe(1);
      // Anything else in the way of the first write is reported as it is, still writing nothing.
      await client.del(events!);
      await client.set(events!, "not a stream");
      await expect(client.eval(APPEND_SCRIPT, 3, meta!, events!, legacy!, ...args)).rejects.toThrow(
        /knstate append: WRONGTYPE/,
      );
      expect(await client.exists(meta!, legacy!)).toBe(0);

      const good = syntheticCounterAppend({ service: "scripts", entityId: "good" });
      const run = () => client.eval(APPEND_SCRIPT, good.keys.length, ...good.keys, ...good.args);
      expect(await run()).toEqual(["ok", 1]);
      const again = (await run()) as [string, unknown[]];
      expect(again[0]).toBe("duplicate");
    } finally {
      client.disconnect();
    }
  });
});
