import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { HostProcess } from "../support/host.js";
import { acksDuring } from "./support/checker.js";
import { runScenario, startHosts, stopHosts } from "./support/harness.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

const run = redisAvailable();

describe.runIf(run)("Redis crashes and restarts", () => {
  let redis: RedisServer | undefined;
  let hosts: HostProcess[] = [];

  afterEach(async () => {
    await stopHosts(hosts);
    hosts = [];
    await redis?.stop();
    redis = undefined;
  });

  // everysec delays only the fsync: Redis writes the AOF before it replies, so a crash of the
  // process (not of the machine) loses nothing either.
  it.each(["always", "everysec"] as const)(
    "kill -9 with AOF (appendfsync %s): no acknowledged event lost, only 503s while down",
    async (appendfsync) => {
      redis = await startRedis({ appendonly: "yes", appendfsync });
      const server = redis;
      hosts = await startHosts(3, { REDIS_URL: server.url });
      let killedAt = 0;
      let restartedAt = 0;
      let readyWhileDown: { status: number; body: string } | undefined;
      const result = await runScenario({
        name: `kill -9 redis, AOF ${appendfsync}`,
        hosts: () => hosts.map((h) => h.url),
        reader: () => hosts[0]!.url,
        fault: async () => {
          await server.kill9();
          killedAt = Date.now();
          await sleep(1000);
          const ready = await fetch(`${hosts[0]!.url}/readyz`);
          readyWhileDown = { status: ready.status, body: await ready.text() };
          await sleep(1000);
          restartedAt = Date.now();
          await server.restart();
          return Date.now();
        },
      });
      const { figures } = result;
      expect(figures.acked_lost).toBe(0);
      expect(figures.dup_applied).toBe(0);
      expect(figures.version_gaps).toBe(0);
      expect(figures.version_mismatch).toBe(0);
      expect(figures.unknown_applied).toBe(0);
      // While Redis was down every answer was a 503 (never a 2xx, never another error).
      expect(Object.keys(figures.statuses).sort()).toEqual(["200", "503"]);
      expect(acksDuring(result.load.ledger, killedAt + 100, restartedAt)).toEqual([]);
      expect(result.recovery_s).toBeDefined();
      // Readiness said so while Redis was down, and is back.
      expect(readyWhileDown?.status).toBe(503);
      expect(readyWhileDown?.body).toMatch(/store unavailable/);
      expect((await fetch(`${hosts[0]!.url}/readyz`)).status).toBe(200);
    },
  );

  it("kill -9 with AOF off: the ledger detects the acknowledged events Redis lost", async () => {
    redis = await startRedis({ appendonly: "no" });
    const server = redis;
    hosts = await startHosts(2, { REDIS_URL: server.url });
    const { figures } = await runScenario({
      name: "kill -9 redis, AOF off (checker must fail)",
      hosts: () => hosts.map((h) => h.url),
      reader: () => hosts[0]!.url,
      fault: async () => {
        await server.kill9();
        await sleep(1000);
        await server.restart();
        return Date.now();
      },
    });
    expect(figures.acked_lost).toBeGreaterThan(0);
  });
});
