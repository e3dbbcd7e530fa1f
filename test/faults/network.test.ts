import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HostProcess } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";
import type { Figures } from "./support/checker.js";
import { expectNothingLostOrDoubled, stallScenario, STALL_BUDGET_MS } from "./support/expectations.js";
import { COMMAND_TIMEOUT_MS, startHosts, stopHosts } from "./support/harness.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const run = redisAvailable();

function expectSafe(figures: Figures): void {
  expectNothingLostOrDoubled(figures);
  expect(figures.statuses.timeout ?? 0).toBe(0);
}

describe.runIf(run)("a misbehaving network between the hosts and Redis", () => {
  let redis: RedisServer;
  let proxy: TcpProxy;
  let hosts: HostProcess[] = [];

  beforeEach(async () => {
    redis = await startRedis({ appendonly: "yes", appendfsync: "everysec" });
    proxy = await TcpProxy.start(redis.port);
    hosts = await startHosts(2, { REDIS_URL: proxy.url });
  });

  afterEach(async () => {
    proxy.blackhole(false);
    proxy.latencyMs = 0;
    await stopHosts(hosts);
    hosts = [];
    await proxy.close();
    await redis.stop();
  });

  const scenario = (name: string, fault: () => Promise<number>) => stallScenario(name, () => hosts, fault);

  it("added latency, then latency above the command timeout: late replies are never applied twice", async () => {
    const { figures } = await scenario("latency 100 ms, then 1.5 s", async () => {
      proxy.latencyMs = 100;
      await sleep(2000);
      proxy.latencyMs = COMMAND_TIMEOUT_MS + 500;
      await sleep(2000);
      proxy.latencyMs = 0;
      return Date.now();
    });
    expectSafe(figures);
    expect(figures.max_attempt_ms).toBeLessThanOrEqual(STALL_BUDGET_MS);
    expect(figures.statuses["503"] ?? 0).toBeGreaterThan(0);
  });

  it("a 5 s blackhole: requests answer 503 within the budget, nothing lost or doubled after it heals", async () => {
    const { figures } = await scenario("blackhole 5 s", async () => {
      proxy.blackhole(true);
      await sleep(5000);
      proxy.blackhole(false);
      return Date.now();
    });
    expectSafe(figures);
    expect(figures.max_attempt_ms).toBeLessThanOrEqual(STALL_BUDGET_MS);
    expect(figures.statuses["503"] ?? 0).toBeGreaterThan(0);
  });

  it("connection reset after the append reached Redis but before its reply: applied once", async () => {
    const { figures } = await scenario("reset before reply", async () => {
      // The append script carries the event type: these requests run, their replies are lost.
      proxy.resetAfterRequest('"attempt"', 15);
      const deadline = Date.now() + 10_000;
      while (proxy.resets < 15 && Date.now() < deadline) await sleep(50);
      return Date.now();
    });
    expectSafe(figures);
    expect(proxy.resets).toBe(15);
  });
});
