import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postEvent, spawnHost, type HostProcess } from "../support/host.js";
import { freePort } from "../support/ports.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

/**
 * `knstate serve` on Redis exports the failures of its work after commits: the series exist from
 * the start at 0, and the trim's rises when a trim fails (its Redis user may not XTRIM, which
 * only the trim uses).
 */

const withRedis = redisAvailable();
const SERIES = "knstate_store_after_commit_failures_total";

describe.runIf(withRedis)("knstate_store_after_commit_failures_total from knstate serve", () => {
  let redis: RedisServer;
  let host: HostProcess;
  let metricsPort: number;

  beforeAll(async () => {
    redis = await startRedis();
    const admin = new Redis(redis.url);
    await admin.call("ACL", "SETUSER", "trimless", "on", ">pw", "~*", "&*", "+@all", "-xtrim");
    admin.disconnect();
    const url = new URL(redis.url);
    url.username = "trimless";
    url.password = "pw";
    metricsPort = await freePort();
    host = await spawnHost({
      functions: ["counter"],
      env: {
        KNSTATE_STORE: "redis",
        REDIS_URL: url.toString(),
        METRICS_PORT: String(metricsPort),
        K_SERVICE: "trims",
        // Trim every counter down to its snapshot (written every 100 events).
        KNSTATE_RETAIN_EVENTS: "counter=0",
      },
    });
  }, 60_000);

  afterAll(async () => {
    await host?.stop();
    await redis?.stop();
  });

  const failures = async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return text.split("\n").filter((line) => line.startsWith(`${SERIES}{`));
  };

  it("starts at 0 for each kind of work, and counts a trim that fails", async () => {
    expect(await failures()).toEqual([`${SERIES}{work="trim"} 0`, `${SERIES}{work="timer-slots"} 0`]);
    // The 100th command writes a snapshot, and its trim runs after the reply.
    for (let i = 1; i <= 100; i++) {
      const type = "com.example.counter.increment";
      const res = await postEvent(host.url, { id: `t-${i}`, type, subject: "t", data: { by: 1 } });
      expect(res.status, await res.text()).toBe(200);
    }
    // Each failed trim is logged once and counted once (snapshots write more than one trim).
    const warned = () =>
      host
        .output()
        .split("\n")
        .filter((l) => l.includes("trimming retained events after a commit failed"));
    const trims = (lines: string[]) => Number(lines[0]?.slice(`${SERIES}{work="trim"} `.length));
    const deadline = Date.now() + 10_000;
    let lines = await failures();
    while (!(trims(lines) >= 1 && trims(lines) === warned().length) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      lines = await failures();
    }
    expect(lines).toEqual([`${SERIES}{work="trim"} ${warned().length}`, `${SERIES}{work="timer-slots"} 0`]);
    expect(warned().length).toBeGreaterThanOrEqual(1);
    expect(warned()[0]).toContain("can't run this command");
  });
});
