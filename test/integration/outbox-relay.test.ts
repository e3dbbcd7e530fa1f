import { afterEach, describe, expect, it } from "vitest";
import { spawnHost } from "../support/host.js";
import { incrementCounters, outboxLength } from "../support/outbox-load.js";
import { redisAvailable, startRedis } from "../support/redis.js";
import { inEntityOrder, startSink } from "../support/sink.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const SERVICE = "outbox-relay-test";

describe.runIf(redisAvailable())("knstate relay beside hosts with KNSTATE_OUTBOX_RELAY=false", () => {
  it("publishes nothing from the host, then every event once, in per-entity order, from the relay", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const env = {
      K_SINK: sink.url,
      K_SERVICE: SERVICE,
      KNSTATE_STORE: "redis",
      REDIS_URL: redis.url,
      KNSTATE_OUTBOX_POLL: "50ms",
      KNSTATE_SINK_FLUSH_TIMEOUT: "1s",
    };
    const host = await spawnHost({ functions: ["counter"], env: { ...env, KNSTATE_OUTBOX_RELAY: "false" } });
    cleanups.push(() => host.stop("SIGKILL"));
    const committed = await incrementCounters([host], 10, 5, "r");
    // Ten polls of a relay, had the host one.
    await new Promise((r) => setTimeout(r, 500));
    expect(sink.received).toEqual([]);
    expect(await outboxLength(redis, SERVICE)).toBe(committed.length);

    const relay = await spawnHost({ command: "relay", functions: ["counter"], env });
    cleanups.push(() => relay.stop("SIGKILL"));
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${relay.url}/`, { method: "POST" })).status).toBe(404);
    await sink.until(() => sink.acceptedIds().length >= committed.length);
    await expect.poll(() => outboxLength(redis, SERVICE)).toBe(0);
    expect([...sink.acceptedIds()].sort()).toEqual([...committed].sort());
    expect(inEntityOrder(sink.acceptedIds())).toBe(true);

    // Commands committed while the relay runs reach the sink too, then the relay drains on SIGTERM.
    const more = await incrementCounters([host], 4, 3, "s");
    await sink.until(() => more.every((id) => sink.acceptedIds().includes(id)));
    expect(await relay.stop()).toBe(0);
    expect(await host.stop()).toBe(0);
    expect(sink.acceptedIds()).toHaveLength(committed.length + more.length);
  });

  it("refuses to start without K_SINK, exit 2", async () => {
    await expect(spawnHost({ command: "relay", functions: ["counter"] })).rejects.toThrow(
      /exited with 2[\s\S]*set K_SINK/,
    );
  });
});
