import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HostProcess } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";
import type { Figures } from "./support/checker.js";
import { expectNothingLostOrDoubled, stallScenario, STALL_BUDGET_MS } from "./support/expectations.js";
import { COMMAND_TIMEOUT_MS, startHosts, stopHosts } from "./support/harness.js";

const run = redisAvailable();

function expectSafe(figures: Figures): void {
  expectNothingLostOrDoubled(figures);
  expect(figures.statuses.timeout ?? 0).toBe(0);
  expect(figures.max_attempt_ms).toBeLessThanOrEqual(STALL_BUDGET_MS);
}

describe.runIf(run)("Redis stalls and drops connections", () => {
  let redis: RedisServer;
  let hosts: HostProcess[] = [];

  beforeEach(async () => {
    redis = await startRedis({ appendonly: "yes", appendfsync: "everysec" });
    hosts = await startHosts(2, { REDIS_URL: redis.url });
  });

  afterEach(async () => {
    process.kill(redis.pid, "SIGCONT");
    await stopHosts(hosts);
    hosts = [];
    await redis.stop();
  });

  const scenario = (name: string, fault: () => Promise<number>) => stallScenario(name, () => hosts, fault);

  it("CLIENT PAUSE longer than the command timeout: every request answered within the budget", async () => {
    const pauseMs = 2 * COMMAND_TIMEOUT_MS + 500;
    const { figures } = await scenario("CLIENT PAUSE", async () => {
      await redis.cli("CLIENT", "PAUSE", String(pauseMs), "ALL");
      await sleep(pauseMs);
      return Date.now();
    });
    expectSafe(figures);
    expect(figures.statuses["503"] ?? 0).toBeGreaterThan(0);
  });

  it("SIGSTOP then SIGCONT of redis-server: 503s within the budget, then recovery", async () => {
    const { figures } = await scenario("SIGSTOP redis", async () => {
      process.kill(redis.pid, "SIGSTOP");
      await sleep(3000);
      process.kill(redis.pid, "SIGCONT");
      return Date.now();
    });
    expectSafe(figures);
    expect(figures.statuses["503"] ?? 0).toBeGreaterThan(0);
  });

  it("CLIENT KILL of the hosts' connections while commands are in flight", async () => {
    let killed = 0;
    const { figures } = await scenario("CLIENT KILL", async () => {
      for (let i = 0; i < 8; i++) {
        killed += Number(await redis.cli("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"));
        await sleep(250);
      }
      return Date.now();
    });
    expectSafe(figures);
    expect(killed).toBeGreaterThan(0);
  });
});
