import { afterEach, describe, expect, it } from "vitest";
import { createLogger, silentLogger } from "../../src/observability/logger.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { RedisStore } from "../../src/store/redis-store.js";
import { loadConfig } from "../../src/config/load-config.js";
import { postEvent, startHost, type RunningHost } from "../support/host.js";
import { redisAvailable, startRedis } from "../support/redis.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A host in this process (the examples: the counter and the cart publish), its log lines. */
async function hostWith(env: Record<string, string>, store = new MemoryStore()) {
  const lines: string[] = [];
  const logger = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
  const running: RunningHost = await startHost({ env, store, logger });
  cleanups.push(() => running.close());
  for (let i = 0; i < 3; i++) {
    const res = await postEvent(running.url, {
      id: `p${i}`,
      type: "com.example.counter.increment",
      subject: "c1",
      data: { by: 1 },
    });
    expect(res.status).toBe(200);
  }
  return { lines, store };
}

describe("a host built without K_SINK", () => {
  it("writes no outbox entries and says once that publishing is off", async () => {
    const { lines, store } = await hostWith({});
    expect(store.outbox.length).toBe(0);
    const said = lines.filter((l) => l.includes("publishing is off"));
    expect(said).toHaveLength(1);
    expect(JSON.parse(said[0]!)).toMatchObject({ level: "info", entities: ["counter", "cart"] });
  });

  it("writes them with K_SINK set (the relay is the caller's to start)", async () => {
    const { lines, store } = await hostWith({ K_SINK: "http://127.0.0.1:9/" });
    expect(store.outbox.length).toBe(3);
    expect(lines.some((l) => l.includes("publishing is off"))).toBe(false);
  });

  it.runIf(redisAvailable())("leaves no outbox stream in Redis", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const env = { KNSTATE_STORE: "redis", REDIS_URL: redis.url, K_SERVICE: "off" };
    const store = await RedisStore.connect(loadConfig(env), silentLogger);
    const lines: string[] = [];
    const running = await startHost({
      env,
      store,
      logger: createLogger({ level: "info", format: "json", write: (l) => lines.push(l) }),
    });
    cleanups.push(() => running.close());
    const res = await postEvent(running.url, {
      id: "r1",
      type: "com.example.counter.increment",
      subject: "c1",
      data: { by: 1 },
    });
    expect(res.status).toBe(200);
    const keys = await redis.cli("KEYS", "ks:off:*");
    expect(keys).toContain("ks:off:counter:{c1}:m");
    expect(keys).not.toContain("_outbox");
    expect(lines.filter((l) => l.includes("publishing is off"))).toHaveLength(1);
  });
});
