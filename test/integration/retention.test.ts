import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import counterEntity from "../../functions/counter/index.js";
import type { Component } from "../../src/entity/define.js";
import { toModel } from "../../src/entity/model.js";
import { HostError } from "../../src/errors/host-error.js";
import { silentLogger } from "../../src/observability/logger.js";
import { foldLoaded } from "../../src/pipeline/evolve.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { RedisStore } from "../../src/store/redis-store.js";
import { parseRetention, type Retention } from "../../src/store/retention.js";
import type { EntityKey, StateStore } from "../../src/store/state-store.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { registerAfterCommitMetrics } from "../../src/observability/after-commit-metrics.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

const counter = toModel(counterEntity as unknown as Component);

/** `count` appends of one event each, from version 0; a snapshot at every multiple of `every`. */
async function write(store: StateStore, key: EntityKey, count: number, every: number, fingerprint = "other") {
  await writeFrom(store, key, 0, count, every, fingerprint);
  // The Redis store trims after the reply.
  if (store instanceof RedisStore) await store.afterCommit.idle();
}

/** `write` after version `from`, without waiting for the trims. */
async function writeFrom(
  store: StateStore,
  key: EntityKey,
  from: number,
  count: number,
  every: number,
  fingerprint = "other",
) {
  for (let v = from; v < from + count; v++) {
    const version = v + 1;
    const result = await store.append({
      key,
      expectedVersion: v,
      events: [{ type: "changed", data: { by: 1 } }],
      logEvents: true,
      checkDedup: [],
      writeDedup: [],
      dedupTtlMs: 60_000,
      ...(version % every === 0
        ? { snapshot: { version, state: { value: version }, schemaVersion: 1, fingerprint } }
        : {}),
    });
    expect(result).toEqual({ kind: "ok", version });
  }
}

const versions = async (store: StateStore, key: EntityKey) =>
  (await store.readEvents(key, 1)).map((e) => e.version);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function retentionSuite(open: (retention: Retention) => Promise<StateStore>) {
  let store: StateStore;
  let n = 0;
  const key = (entityType = "counter"): EntityKey => ({ entityType, entityId: `r${++n}` });
  beforeAll(async () => {
    store = await open(parseRetention(["counter=5"]));
  });
  afterAll(async () => {
    await store?.close();
  });

  it("deletes the events older than the snapshot but the last n, in the hash and the stream", async () => {
    const k = key();
    await write(store, k, 70, 20);
    // Snapshot at 60: events up to 55 are gone, 56..70 remain.
    expect(await versions(store, k)).toEqual(range(56, 70));
    expect(await store.trimmedThrough!(k)).toBe(55);
    const loaded = await store.load(k, []);
    expect(loaded).toMatchObject({ version: 70, snapshot: { version: 60, state: { value: 60 } } });
    expect(loaded.events).toHaveLength(10);
  });

  it("keeps every event of kinds without retention, and before the first snapshot", async () => {
    const other = key("account");
    await write(store, other, 45, 20);
    expect(await versions(store, other)).toEqual(range(1, 45));
    expect(await store.trimmedThrough!(other)).toBe(0);
    const young = key();
    await write(store, young, 4, 100);
    expect(await versions(store, young)).toEqual(range(1, 4));
  });

  it("refuses to rebuild a trimmed entity whose snapshot the definition does not accept", async () => {
    const k = key();
    await write(store, k, 30, 10);
    const loaded = await store.load(k, []);
    const refused = await foldLoaded(store, counter, k, loaded).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HostError);
    expect((refused as HostError).problem.status).toBe(503);
    expect((refused as HostError).message).toContain("KNSTATE_RETAIN_EVENTS");
  });

  it("still rebuilds an entity that kept its history when the snapshot is not accepted", async () => {
    const k = key("account");
    await write(store, k, 30, 10);
    const folded = await foldLoaded(store, counter, k, await store.load(k, []));
    expect(folded).toEqual({ state: { value: 30 }, rewriteSnapshot: true });
  });
}

describe("event retention in the memory store", () => {
  retentionSuite((retention) => Promise.resolve(new MemoryStore({ retention })));
});

describe.skipIf(!redisAvailable())("event retention in Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  retentionSuite(async (retention) => {
    const config = loadConfig({ KNSTATE_STORE: "redis", REDIS_URL: redis.url, K_SERVICE: "retention" });
    const connected = await RedisStore.connect(config, silentLogger);
    await connected.close();
    const client = new Redis(redis.url);
    return new RedisStore(client, {
      keyPrefix: "ks",
      service: "retention",
      waitReplicas: 0,
      waitTimeoutMs: 0,
      retention,
    });
  });

  it("is read from KNSTATE_RETAIN_EVENTS and leaves the stream holding only the retained events", async () => {
    const config = loadConfig({
      KNSTATE_STORE: "redis",
      REDIS_URL: redis.url,
      K_SERVICE: "retention-config",
      KNSTATE_RETAIN_EVENTS: "*=0",
    });
    const store = await RedisStore.connect(config, silentLogger);
    const client = new Redis(redis.url);
    try {
      const k = { entityType: "cart", entityId: "c" };
      await write(store, k, 50, 40);
      expect(await client.xlen("ks:retention-config:cart:{c}:e")).toBe(0);
      const fields = await client.hkeys("ks:retention-config:cart:{c}:m");
      expect(fields.filter((f) => /^e\d+$/.test(f)).sort()).toEqual(
        range(41, 50)
          .map((v) => `e${v}`)
          .sort(),
      );
      expect(await versions(store, k)).toEqual(range(41, 50));
    } finally {
      client.disconnect();
      await store.close();
    }
  });

  describe("trims after the reply", () => {
    /** A store whose trims wait for `release()`, counting how many started. */
    function heldStore(service: string, lines: string[] = []) {
      let release = () => {};
      let held = new Promise<void>((resolve) => (release = resolve));
      const trims = { started: 0 };
      const store = new RedisStore(new Redis(redis.url), {
        keyPrefix: "ks",
        service,
        waitReplicas: 0,
        waitTimeoutMs: 0,
        retention: parseRetention(["counter=0"]),
        logger: createLogger({ level: "warn", format: "json", write: (line) => lines.push(line) }),
        holdAfterCommit: () => {
          trims.started++;
          return held;
        },
      });
      const open = () => {
        release();
        held = Promise.resolve();
      };
      return { store, trims, open };
    }

    it("answers appends while their trim is held, one trim in flight per entity, then trims", async () => {
      const { store, trims, open } = heldStore("retention-held");
      try {
        const k = { entityType: "counter", entityId: "h" };
        // The reply of the append that wrote the snapshot arrives while its trim has not run.
        await writeFrom(store, k, 0, 10, 10);
        expect(trims.started).toBe(1);
        expect(await store.trimmedThrough(k)).toBe(0);
        expect(await versions(store, k)).toEqual(range(1, 10));
        // Five more snapshots meanwhile make one more trim after it, not five.
        await writeFrom(store, k, 10, 5, 1);
        expect(trims.started).toBe(1);
        open();
        await store.afterCommit.idle();
        expect(trims.started).toBe(2);
        expect(await store.trimmedThrough(k)).toBe(15);
        expect(await versions(store, k)).toEqual([]);
        expect(store.afterCommit.failed).toBe(0);
      } finally {
        open();
        await store.close();
      }
    });

    it("logs and counts a failed trim, and the append still succeeds", async () => {
      const lines: string[] = [];
      const { store, open } = heldStore("retention-failing", lines);
      open();
      const client = new Redis(redis.url);
      const registry = new Registry();
      await registerAfterCommitMetrics(registry, store.afterCommit);
      const failures = async () =>
        (await registry.getSingleMetricAsString("knstate_store_after_commit_failures_total"))
          .split("\n")
          .filter((line) => !line.startsWith("#"));
      try {
        expect(await failures()).toEqual([
          'knstate_store_after_commit_failures_total{work="trim"} 0',
          'knstate_store_after_commit_failures_total{work="timer-slots"} 0',
        ]);
        const k = { entityType: "counter", entityId: "f" };
        // Not a stream: the trim's XTRIM fails, the appends (events in the hash) do not.
        await client.set("ks:retention-failing:counter:{f}:e", "not a stream");
        await writeFrom(store, k, 0, 2, 2);
        await store.afterCommit.idle();
        expect(store.afterCommit.failed).toBe(1);
        expect(await failures()).toEqual([
          'knstate_store_after_commit_failures_total{work="trim"} 1',
          'knstate_store_after_commit_failures_total{work="timer-slots"} 0',
        ]);
        expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
          "trimming retained events after a commit failed; it is repaired later",
        ]);
        expect(await store.trimmedThrough(k)).toBe(0);
      } finally {
        client.disconnect();
        await store.close();
      }
    });
  });
});
