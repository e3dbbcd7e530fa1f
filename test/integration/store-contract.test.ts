import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { silentLogger } from "../../src/observability/logger.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { RedisStore } from "../../src/store/redis-store.js";
import type { AppendRequest, EntityKey, StateStore } from "../../src/store/state-store.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

let redis: RedisServer | undefined;
let seq = 0;

const withRedis = redisAvailable();

beforeAll(async () => {
  if (withRedis) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const stores: Array<[string, () => Promise<StateStore>]> = [
  ["memory", () => Promise.resolve(new MemoryStore())],
];
if (withRedis) {
  stores.push([
    "redis",
    () =>
      RedisStore.connect(
        loadConfig({ KNSTATE_STORE: "redis", REDIS_URL: redis!.url, K_SERVICE: `contract-${++seq}` }),
        silentLogger,
      ),
  ]);
}

const changed = (by: number) => ({ type: "changed", data: { by } });

function request(key: EntityKey, overrides: Partial<AppendRequest> = {}): AppendRequest {
  return {
    key,
    expectedVersion: 0,
    events: [changed(1)],
    logEvents: true,
    checkDedup: [],
    writeDedup: [],
    dedupTtlMs: 60_000,
    ...overrides,
  };
}

describe.each(stores)("the %s store", (_name, open) => {
  let store: StateStore;
  let n = 0;
  const key = (): EntityKey => ({ entityType: "counter", entityId: `e${++n}` });

  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });

  it("loads an entity never written as version 0 with nothing stored", async () => {
    const loaded = await store.load(key(), ["x"]);
    expect(loaded).toEqual({ version: 0, snapshot: undefined, events: [], duplicates: new Map() });
    expect(await store.check(key(), ["x"])).toEqual({ version: 0, duplicates: new Map() });
  });

  it("appends events in order and advances the version by their count", async () => {
    const k = key();
    expect(await store.append(request(k, { events: [changed(1), changed(2)] }))).toEqual({
      kind: "ok",
      version: 2,
    });
    expect(await store.append(request(k, { expectedVersion: 2, events: [changed(3)] }))).toEqual({
      kind: "ok",
      version: 3,
    });
    const loaded = await store.load(k, []);
    expect(loaded.version).toBe(3);
    expect(loaded.events).toEqual([changed(1), changed(2), changed(3)]);
    expect((await store.check(k, [])).version).toBe(3);
  });

  it("refuses an append at a stale version, reports the actual one and writes nothing", async () => {
    const k = key();
    await store.append(request(k, { events: [changed(1), changed(1)] }));
    const result = await store.append(
      request(k, { expectedVersion: 1, writeDedup: [["d1", { version: 2, reply: null, replyId: "r" }]] }),
    );
    expect(result).toEqual({ kind: "conflict", version: 2 });
    const loaded = await store.load(k, ["d1"]);
    expect(loaded.events).toHaveLength(2);
    expect(loaded.duplicates.size).toBe(0);
  });

  it("answers a repeated dedup id with the stored record and appends nothing", async () => {
    const k = key();
    const record = { version: 1, reply: { value: 1 }, replyId: "reply-1" };
    await store.append(
      request(k, { checkDedup: ["src\u0000id-1"], writeDedup: [["src\u0000id-1", record]] }),
    );
    const again = await store.append(
      request(k, { expectedVersion: 1, checkDedup: ["other", "src\u0000id-1"], writeDedup: [] }),
    );
    expect(again).toEqual({ kind: "duplicate", duplicates: new Map([["src\u0000id-1", record]]) });
    // The dedup check comes before the version check.
    const stale = await store.append(request(k, { expectedVersion: 0, checkDedup: ["src\u0000id-1"] }));
    expect(stale.kind).toBe("duplicate");
    expect((await store.load(k, ["src\u0000id-1"])).duplicates.get("src\u0000id-1")).toEqual(record);
    expect((await store.check(k, ["src\u0000id-1", "nope"])).duplicates).toEqual(
      new Map([["src\u0000id-1", record]]),
    );
    expect((await store.load(k, [])).version).toBe(1);
  });

  it("loads the latest snapshot and only the events after it", async () => {
    const k = key();
    await store.append(request(k, { events: [changed(1), changed(2)] }));
    await store.append(
      request(k, { expectedVersion: 2, events: [changed(3)], snapshot: { version: 3, state: { value: 6 } } }),
    );
    await store.append(request(k, { expectedVersion: 3, events: [changed(4), changed(5)] }));
    const loaded = await store.load(k, []);
    expect(loaded.version).toBe(5);
    expect(loaded.snapshot).toEqual({ version: 3, state: { value: 6 } });
    expect(loaded.events).toEqual([changed(4), changed(5)]);
    expect((await store.readEvents(k, 1)).map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
  });

  it("reports the size of the snapshot and of the events a load read", async () => {
    const k = key();
    expect((await store.load(k, [])).stored).toBeUndefined();
    await store.append(request(k, { events: [changed(1)] }));
    const events = (await store.load(k, [])).stored!;
    expect(events.snapshot).toBe(0);
    expect(events.events).toBeGreaterThanOrEqual('changed{"by":1}'.length);
    await store.append(
      request(k, { expectedVersion: 1, events: [changed(2)], snapshot: { version: 2, state: { value: 3 } } }),
    );
    expect((await store.load(k, [])).stored).toEqual({ snapshot: '{"value":3}'.length, events: 0 });
  });

  it("keeps only the snapshot and the version of a value entity", async () => {
    const k = key();
    const set = (state: unknown, expectedVersion: number) =>
      store.append(
        request(k, {
          expectedVersion,
          logEvents: false,
          events: [{ type: "$state", data: state }],
          snapshot: { version: expectedVersion + 1, state },
        }),
      );
    await set({ name: "a" }, 0);
    expect(await set({ name: "b" }, 1)).toEqual({ kind: "ok", version: 2 });
    const loaded = await store.load(k, []);
    expect(loaded).toMatchObject({ version: 2, snapshot: { version: 2, state: { name: "b" } }, events: [] });
    expect(await store.readEvents(k, 1)).toEqual([]);
  });

  it("reads stored events by version range, in order", async () => {
    const k = key();
    await store.append(request(k, { events: [1, 2, 3, 4, 5, 6].map(changed) }));
    const events = await store.readEvents(k, 2, 4);
    expect(events).toEqual([2, 3, 4].map((by) => ({ ...changed(by), version: by })));
    expect(await store.readEvents(k, 7)).toEqual([]);
    expect((await store.readEvents(k, 5)).map((e) => e.version)).toEqual([5, 6]);
  });

  it("forgets dedup records after their TTL", async () => {
    const k = key();
    const record = { version: 1, reply: null, replyId: "r" };
    await store.append(request(k, { writeDedup: [["short", record]], dedupTtlMs: 700 }));
    expect((await store.check(k, ["short"])).duplicates.size).toBe(1);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await store.check(k, ["short"])).duplicates.size).toBe(0);
    expect((await store.load(k, ["short"])).duplicates.size).toBe(0);
  });

  it("writes nothing for an append of zero events", async () => {
    const k = key();
    const result = await store.append(
      request(k, {
        events: [],
        snapshot: { version: 0, state: { value: 9 } },
        writeDedup: [["z", { version: 0, reply: null, replyId: "r" }]],
      }),
    );
    expect(result).toEqual({ kind: "ok", version: 0 });
    expect(await store.load(k, ["z"])).toEqual({
      version: 0,
      snapshot: undefined,
      events: [],
      duplicates: new Map(),
    });
  });

  it("writes nothing at all when a value in the append cannot be stored", async () => {
    const k = key();
    await store.append(request(k));
    const bad = request(k, {
      expectedVersion: 1,
      events: [changed(2), { type: "changed", data: { by: 10n } }],
      snapshot: { version: 3, state: { value: 3 } },
      writeDedup: [["p", { version: 3, reply: null, replyId: "r" }]],
    });
    await expect((async () => store.append(bad))()).rejects.toThrow();
    const loaded = await store.load(k, ["p"]);
    expect(loaded.version).toBe(1);
    expect(loaded.events).toEqual([changed(1)]);
    expect(loaded.snapshot).toBeUndefined();
    expect(loaded.duplicates.size).toBe(0);
  });

  it("keeps entities with the same id but different types apart", async () => {
    const a: EntityKey = { entityType: "counter", entityId: "same" };
    const b: EntityKey = { entityType: "cart", entityId: "same" };
    await store.append(request(a, { events: [changed(1), changed(1)] }));
    expect((await store.load(b, [])).version).toBe(0);
  });
});
