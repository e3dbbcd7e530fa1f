import { afterEach, describe, expect, it } from "vitest";
import { spawnHost } from "../support/host.js";
import { incrementCounters, outboxLength as redisOutboxLength } from "../support/outbox-load.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";
import { inEntityOrder, startSink, type Sink } from "../support/sink.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Fast settings so that takeovers and retries happen within a test's time. */
const FAST = {
  KNSTATE_OUTBOX_POLL: "50ms",
  KNSTATE_OUTBOX_LEASE: "1s",
  KNSTATE_OUTBOX_BACKOFF: "20ms",
  KNSTATE_OUTBOX_BACKOFF_MAX: "200ms",
  KNSTATE_SINK_FLUSH_TIMEOUT: "1s",
};

async function host(sink: Sink, redis: RedisServer | undefined, env: Record<string, string> = {}) {
  const running = await spawnHost({
    functions: ["counter"],
    env: {
      K_SINK: sink.url,
      K_SERVICE: "outbox-test",
      ...FAST,
      ...(redis ? { KNSTATE_STORE: "redis", REDIS_URL: redis.url } : {}),
      ...env,
    },
  });
  cleanups.push(() => running.stop("SIGKILL"));
  return running;
}

const load = incrementCounters;
const outboxLength = (redis: RedisServer) => redisOutboxLength(redis, "outbox-test");

describe.runIf(redisAvailable())("the outbox on Redis", () => {
  it("publishes every committed event after a kill -9 under load, in per-entity order", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    // A slow sink: the host dies with entries read and not yet acknowledged, and unread ones.
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const first = await host(sink, redis);
    const committed = await load([first], 20, 10, "k");
    await first.stop("SIGKILL");
    const second = await host(sink, redis);
    await sink.until(() => committed.every((id) => sink.acceptedIds().includes(id)));
    const published = new Set(sink.acceptedIds());
    expect(published).toEqual(new Set(committed));
    expect(inEntityOrder(sink.acceptedIds())).toBe(true);
    await expect.poll(() => outboxLength(redis)).toBe(0);
    expect(await second.stop()).toBe(0);
  });

  it("loses nothing while the sink answers 503, then drains the outbox", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const sink = await startSink(() => 503);
    cleanups.push(() => sink.close());
    const running = await host(sink, redis);
    const committed = await load([running], 5, 6, "u");
    // The backlog builds up while the sink refuses (2 s here; 20 s under load in test/faults/outbox.test.ts).
    await sink.until(() => sink.received.length >= 10);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await outboxLength(redis)).toBe(committed.length);
    expect(sink.acceptedIds()).toEqual([]);
    sink.answerWith(() => 202);
    await sink.until(() => new Set(sink.acceptedIds()).size === committed.length);
    expect(new Set(sink.acceptedIds())).toEqual(new Set(committed));
    expect(inEntityOrder(sink.acceptedIds())).toBe(true);
    await expect.poll(() => outboxLength(redis)).toBe(0);
  });

  it("relays a backlog larger than its read-ahead without waiting for the next poll", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const sink = await startSink(() => 503);
    cleanups.push(() => sink.close());
    // 20 entries read ahead, and a poll far beyond the test's timeout: only reading on as the
    // read-ahead runs down relays the 160 events in time.
    const running = await host(sink, redis, { KNSTATE_SINK_QUEUE: "20", KNSTATE_OUTBOX_POLL: "300s" });
    const committed = await load([running], 40, 4, "ra");
    await sink.until(() => sink.received.length >= 5);
    sink.answerWith(() => 202);
    await sink.until(() => new Set(sink.acceptedIds()).size === committed.length);
    expect(new Set(sink.acceptedIds())).toEqual(new Set(committed));
    expect(inEntityOrder(sink.acceptedIds())).toBe(true);
    await expect.poll(() => outboxLength(redis)).toBe(0);
  });

  it("dead-letters an event the sink refuses after N attempts without holding up other entities", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const sink = await startSink((h) => (h["ce-subject"] === "bad0" ? 400 : 202));
    cleanups.push(() => sink.close());
    const running = await host(sink, redis, { KNSTATE_OUTBOX_MAX_ATTEMPTS: "3" });
    const bad = await load([running], 1, 1, "bad");
    const good = await load([running], 8, 3, "ok");
    await sink.until(() => new Set(sink.acceptedIds()).size === good.length);
    await expect.poll(() => redis.cli("XLEN", "ks:outbox-test:_outbox:dead")).toBe("1");
    const refused = sink.received.filter((r) => r.headers["ce-subject"] === "bad0");
    expect(refused.map((r) => r.status)).toEqual([400, 400, 400]);
    const dead = await redis.cli("XRANGE", "ks:outbox-test:_outbox:dead", "-", "+");
    expect(dead).toContain(bad[0]!);
    expect(dead).toContain("K_SINK answered 400");
    expect(running.output()).toContain("dead-letter");
    await expect.poll(() => outboxLength(redis)).toBe(0);
  });

  it("relays one outbox from three hosts, each event posted once in the normal case", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const sink = await startSink();
    cleanups.push(() => sink.close());
    // Leases long enough that no busy host loses one while it is alive (the normal case).
    const env = { KNSTATE_OUTBOX_LEASE: "5s" };
    const hosts = [await host(sink, redis, env), await host(sink, redis, env), await host(sink, redis, env)];
    const committed = await load(hosts, 12, 5, "t");
    await sink.until(() => new Set(sink.acceptedIds()).size === committed.length);
    expect(sink.acceptedIds().sort()).toEqual([...committed].sort());
    expect(inEntityOrder(sink.acceptedIds())).toBe(true);
    // A host that dies: the others take its shards over and publish what comes next.
    await hosts[0]!.stop("SIGKILL");
    const more = await load(hosts.slice(1), 12, 2, "t");
    await sink.until(() => more.every((id) => sink.acceptedIds().includes(id)));
    expect(inEntityOrder(sink.acceptedIds())).toBe(true);
  });
});

describe("the outbox on the memory store", () => {
  it("publishes after a 503 window and dead-letters a refused event", async () => {
    const sink = await startSink((h) => (h["ce-subject"] === "bad0" ? 400 : 503));
    cleanups.push(() => sink.close());
    const running = await host(sink, undefined, { KNSTATE_OUTBOX_MAX_ATTEMPTS: "2" });
    await load([running], 1, 1, "bad");
    const committed = await load([running], 4, 5, "m");
    await sink.until(() => sink.received.length >= 10);
    sink.answerWith((h) => (h["ce-subject"] === "bad0" ? 400 : 202));
    await sink.until(() => new Set(sink.acceptedIds()).size === committed.length);
    expect(new Set(sink.acceptedIds())).toEqual(new Set(committed));
    expect(inEntityOrder(sink.acceptedIds())).toBe(true);
    await sink.until(() => running.output().includes("dead-letter"));
    expect(sink.received.filter((r) => r.headers["ce-subject"] === "bad0")).toHaveLength(2);
  });
});
