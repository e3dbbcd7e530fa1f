import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { silentLogger } from "../../src/observability/logger.js";
import { DEFAULT_SPILL } from "../../src/store/append-encoding.js";
import { LEGACY_APPEND_SCRIPT, legacyCounterAppend } from "../../src/store/legacy-layout.js";
import { KeyLayout } from "../../src/store/redis-keys.js";
import { RedisStore } from "../../src/store/redis-store.js";
import type { AppendRequest, DedupRecord, EntityKey } from "../../src/store/state-store.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

const withRedis = redisAvailable();
const SERVICE = "layout";
const layout = new KeyLayout("ks", SERVICE);
const counter = (entityId: string): EntityKey => ({ entityType: "counter", entityId });

const append = (
  key: EntityKey,
  expectedVersion: number,
  more: Partial<AppendRequest> = {},
): AppendRequest => ({
  key,
  expectedVersion,
  events: [{ type: "changed", data: { by: expectedVersion + 1 } }],
  logEvents: true,
  checkDedup: [],
  writeDedup: [],
  dedupTtlMs: 60_000,
  ...more,
});

describe.skipIf(!withRedis)("the Redis layout", () => {
  let redis: RedisServer;
  let store: RedisStore;
  let client: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    store = await RedisStore.connect(
      loadConfig({ KNSTATE_STORE: "redis", REDIS_URL: redis.url, K_SERVICE: SERVICE }),
      silentLogger,
    );
    client = new Redis(redis.port, "127.0.0.1");
  });
  afterAll(async () => {
    client?.disconnect();
    await store?.close();
    await redis?.stop();
  });

  it("keeps a small entity, its events and its dedup records in one compact hash", async () => {
    const key = counter("small");
    const record: DedupRecord = {
      version: 1,
      reply: { value: 1 },
      replyId: "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b",
    };
    const id = "https://example.com/sources/orders\u0000a5c1e0a4-0d1c-4e4b-9d8f-1f2e3d4c5b6a";
    expect(await store.append(append(key, 0, { checkDedup: [id], writeDedup: [[id, record]] }))).toEqual({
      kind: "ok",
      version: 1,
    });
    const k = layout.entity(key);
    expect(await client.exists(k.events, k.dedup(id))).toBe(0);
    expect(await client.object("ENCODING", k.meta)).toBe("listpack");
    const loaded = await store.load(key, [id]);
    expect(loaded.events).toEqual([{ type: "changed", data: { by: 1 } }]);
    expect(loaded.duplicates.get(id)).toEqual(record);
  });

  it("keeps only the latest state of a value entity: no history structure", async () => {
    const key = { entityType: "profile", entityId: "v1" };
    for (let v = 0; v < 40; v++) {
      const state = { name: `n${v + 1}` };
      await store.append(append(key, v, { logEvents: false, snapshot: { version: v + 1, state } }));
    }
    const k = layout.entity(key);
    expect(await client.exists(k.events)).toBe(0);
    expect((await client.hkeys(k.meta)).sort()).toEqual(["s", "sv", "v"]);
    const loaded = await store.load(key, []);
    expect(loaded).toMatchObject({
      version: 40,
      snapshot: { version: 40, state: { name: "n40" } },
      events: [],
    });
  });

  it("loads an entity growing from 1 to 5,000 events across the move to the stream, at every step", async () => {
    const key = counter("growing");
    const k = layout.entity(key);
    const snapshotEvery = 128;
    let sum = 0;
    for (let v = 0; v < 5_000; v++) {
      const next = v + 1;
      sum += next;
      const snapshot = next % snapshotEvery === 0 ? { version: next, state: { sum } } : undefined;
      expect((await store.append(append(key, v, { snapshot }))).kind).toBe("ok");
      if (next > 200 && next % 97 !== 0 && next !== 5_000) continue;
      const loaded = await store.load(key, []);
      const base = (loaded.snapshot?.state as { sum: number } | undefined)?.sum ?? 0;
      const replayed = loaded.events.reduce((s, e) => s + (e.data as { by: number }).by, 0);
      expect(loaded.version, `version ${next}`).toBe(next);
      expect(base + replayed, `state at ${next}`).toBe(sum);
      // Snapshots bound the replay, wherever the events are.
      expect(loaded.events.length).toBeLessThan(snapshotEvery);
      expect(await client.hlen(k.meta)).toBeLessThanOrEqual(DEFAULT_SPILL + 4);
    }
    const all = await store.readEvents(key, 1);
    expect(all.map((e) => e.version)).toEqual(Array.from({ length: 5_000 }, (_, i) => i + 1));
    expect(all.every((e) => (e.data as { by: number }).by === e.version)).toBe(true);
    expect(await client.xlen(k.events)).toBeGreaterThan(4_900);
    const middle = await store.readEvents(key, 4_990, 4_995);
    expect(middle.map((e) => e.version)).toEqual([4_990, 4_991, 4_992, 4_993, 4_994, 4_995]);
  });

  it("loads data written by the former layout, and appends to it", async () => {
    const sha = (await client.script("LOAD", LEGACY_APPEND_SCRIPT)) as string;
    const old = (expectedVersion: number, dedupId: string) => {
      const call = legacyCounterAppend({ service: SERVICE, entityId: "legacy", expectedVersion, dedupId });
      return client.evalsha(sha, call.keys.length, ...call.keys, ...call.args);
    };
    for (let v = 0; v < 3; v++) expect(await old(v, `ce-${v}`)).toEqual(["ok", v + 1]);
    const key = counter("legacy");
    const k = layout.entity(key);
    expect(await client.type(k.dedup("ce-2"))).toBe("string");

    const loaded = await store.load(key, ["ce-2", "ce-9"]);
    expect(loaded.version).toBe(3);
    expect(loaded.events).toEqual(Array.from({ length: 3 }, () => ({ type: "changed", data: { by: 1 } })));
    expect([...loaded.duplicates.keys()]).toEqual(["ce-2"]);
    expect(loaded.duplicates.get("ce-2")).toMatchObject({ version: 3, reply: { value: 3 } });
    // A redelivery of a CloudEvent recorded by the former layout is still answered from its record.
    const again = await store.append(append(key, 3, { checkDedup: ["ce-1"] }));
    expect(again.kind).toBe("duplicate");
    expect((await store.check(key, ["ce-0"])).duplicates.get("ce-0")).toMatchObject({ version: 1 });

    for (let v = 3; v < 3 + DEFAULT_SPILL + 5; v++)
      expect((await store.append(append(key, v))).kind).toBe("ok");
    const all = await store.readEvents(key, 1);
    expect(all.map((e) => e.version)).toEqual(Array.from({ length: 3 + DEFAULT_SPILL + 5 }, (_, i) => i + 1));
    expect(all.slice(0, 3).every((e) => e.type === "changed" && (e.data as { by: number }).by === 1)).toBe(
      true,
    );
    expect(all.slice(3).every((e) => (e.data as { by: number }).by === e.version)).toBe(true);
    const reloaded = await store.load(key, []);
    expect(reloaded.version).toBe(3 + DEFAULT_SPILL + 5);
    expect(reloaded.events).toHaveLength(3 + DEFAULT_SPILL + 5);
  });

  it("answers a redelivery inside the window with the first reply, and applies it again after", async () => {
    const key = counter("window");
    const k = layout.entity(key);
    const id = "/source\u0000event-1";
    const first: DedupRecord = { version: 1, reply: { value: 1 }, replyId: "reply-1" };
    const deliver = (version: number, record: DedupRecord) =>
      store.append(append(key, version, { checkDedup: [id], writeDedup: [[id, record]], dedupTtlMs: 300 }));
    expect(await deliver(0, first)).toEqual({ kind: "ok", version: 1 });
    const inside = await deliver(1, { ...first, version: 2, replyId: "reply-2" });
    expect(inside).toEqual({ kind: "duplicate", duplicates: new Map([[id, first]]) });
    await sleep(500);
    expect((await store.load(key, [id])).duplicates.size).toBe(0);
    // After the window the same CloudEvent is a new command: applied again, with a new record.
    expect(await deliver(1, { ...first, version: 2, replyId: "reply-2" })).toEqual({
      kind: "ok",
      version: 2,
    });
    // Writing swept the expired record; only the new one is left.
    const records = (await client.hkeys(k.meta)).filter((f) => f.startsWith("r") || f.startsWith("#"));
    expect(records).toHaveLength(1);
    // An append after the window with no record of its own leaves none behind.
    await sleep(500);
    expect((await store.append(append(key, 2))).kind).toBe("ok");
    const fields = await client.hkeys(k.meta);
    expect(fields.filter((f) => f.startsWith("r") || f.startsWith("#") || f.startsWith("t"))).toEqual([]);
  });

  it("sweeps the expired records of an entity with many, a bounded number of fields per append", async () => {
    const key = counter("busy");
    const k = layout.entity(key);
    const record = (v: number): DedupRecord => ({ version: v, reply: { value: v }, replyId: `reply-${v}` });
    // One append writes them all, so that all are alive when counted; a long reply makes the
    // hash a hash table, which HSCAN walks a part at a time.
    const records: Array<readonly [string, DedupRecord]> = Array.from({ length: 300 }, (_, i) => [
      `/busy\u0000${i}`,
      record(1),
    ]);
    records.push(["/busy\u0000long", { ...record(1), reply: "x".repeat(100) }]);
    await store.append(append(key, 0, { writeDedup: records, dedupTtlMs: 300 }));
    let version = 1;
    const dedupFields = async () =>
      (await client.hkeys(k.meta)).filter((f) => f.startsWith("r") || f.startsWith("#")).length;
    expect(await dedupFields()).toBe(301);
    expect(await client.object("ENCODING", k.meta)).toBe("hashtable");
    await sleep(500);
    const left: number[] = [];
    for (let i = 0; i < 30; i++, version++) {
      await store.append(append(key, version));
      left.push(await dedupFields());
    }
    // Each append deletes part of them, never all 300 at once, and all are gone in the end.
    expect(left[0]).toBeGreaterThan(0);
    expect(left.at(-1)).toBe(0);
    expect((await client.hkeys(k.meta)).filter((f) => f.startsWith("t"))).toEqual([]);
    expect((await store.load(key, [])).version).toBe(version);
  });
});
