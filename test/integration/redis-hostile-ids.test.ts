import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeHeaderValue } from "../../src/cloudevents/header-value.js";
import { loadConfig } from "../../src/config/load-config.js";
import { silentLogger } from "../../src/observability/logger.js";
import { RedisStore } from "../../src/store/redis-store.js";
import { postEvent, startHost, type RunningHost } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

/**
 * Entity ids come from CloudEvent subjects and URL paths, so anyone can choose them: ids full
 * of key separators, braces, percent signs, dots, unicode or 10 KB long each reach their own
 * entity and nothing else.
 */

const withRedis = redisAvailable();

const HOSTILE = [
  "a}b",
  "{x}",
  "x}",
  "{",
  "..",
  "../other",
  "a:b",
  "counter:{a}:m",
  "a%7Db",
  "%7Bx%7D",
  "a b",
  "ключ",
  "🔑",
  "k".repeat(10_240),
  "k".repeat(10_239),
];

describe.skipIf(!withRedis)("hostile entity ids on Redis", () => {
  let redis: RedisServer;
  let running: RunningHost;

  beforeAll(async () => {
    redis = await startRedis();
    const store = await RedisStore.connect(
      loadConfig({ KNSTATE_STORE: "redis", REDIS_URL: redis.url }),
      silentLogger,
    );
    running = await startHost({ store });
  });
  afterAll(async () => {
    await running?.close();
    await redis?.stop();
  });

  it("keeps every id's counter to itself", async () => {
    // Plain ids that a hostile id might alias: they must stay at 0.
    const bystanders = ["a", "b", "x", "ab", "other", "m", "a%257Db", "k"];
    for (const [i, id] of HOSTILE.entries()) {
      for (let n = 0; n <= i; n++) {
        const res = await postEvent(`${running.url}/`, {
          id: `hostile-${i}-${n}`,
          type: "com.example.counter.increment",
          subject: encodeHeaderValue(id),
          data: { by: 1 },
        });
        expect(res.status, JSON.stringify(id.slice(0, 20))).toBe(200);
        expect(await res.json()).toEqual({ value: n + 1 });
      }
    }
    const store = running.host.store;
    for (const [i, id] of HOSTILE.entries()) {
      const loaded = await store.load({ entityType: "counter", entityId: id }, []);
      expect(loaded.version, JSON.stringify(id.slice(0, 20))).toBe(i + 1);
      const events = await store.readEvents({ entityType: "counter", entityId: id }, 1);
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: i + 1 }, (_, v) => v + 1));
    }
    for (const id of bystanders) {
      expect((await store.load({ entityType: "counter", entityId: id }, [])).version, id).toBe(0);
    }
    // Each id has exactly one key, its hash, holding its events and one dedup record per event.
    // (Besides them: the type's entity index, and the outbox streams of the publishing counter.)
    const keys = (await redis.cli("--scan", "--pattern", "ks:*")).split("\n").filter((k) => k.includes(":{"));
    expect(keys).toHaveLength(HOSTILE.length);
    const records = HOSTILE.reduce((sum, _, i) => sum + (i + 1), 0);
    let found = 0;
    for (const key of keys) {
      const fields = (await redis.cli("--raw", "HKEYS", key)).split("\n");
      found += fields.filter((f) => f.startsWith("r") || f.startsWith("#")).length;
    }
    expect(found).toBe(records);
  });
});
