import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HostProcess } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";
import type { Figures } from "./support/checker.js";
import { expectNothingLostOrDoubled } from "./support/expectations.js";
import { runScenario, startHosts, stopHosts } from "./support/harness.js";

const run = redisAvailable();
const SHUTDOWN_TIMEOUT_MS = 5000;

function expectSafe(figures: Figures): void {
  expectNothingLostOrDoubled(figures);
  expect(figures.abandoned).toBe(0);
}

describe.runIf(run)("a host process dies or is stopped under load", () => {
  let redis: RedisServer;
  let hosts: HostProcess[] = [];
  /** The hosts the "router" sends to: a stopped host leaves it, as a pod leaves its endpoints. */
  let routed: HostProcess[] = [];

  beforeEach(async () => {
    redis = await startRedis({ appendonly: "yes", appendfsync: "everysec" });
    hosts = await startHosts(3, {
      REDIS_URL: redis.url,
      KNSTATE_SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_MS}ms`,
    });
    routed = [...hosts];
  });

  afterEach(async () => {
    await stopHosts(hosts);
    hosts = [];
    await redis.stop();
  });

  it("kill -9 of one host: the others keep serving, redeliveries land on a survivor", async () => {
    const victim = hosts[1]!;
    const { figures } = await runScenario({
      name: "kill -9 a host",
      hosts: () => routed.map((h) => h.url),
      reader: () => hosts[0]!.url,
      fault: async () => {
        await victim.stop("SIGKILL");
        // The router notices a moment later; until then deliveries to it fail and are retried.
        await sleep(500);
        routed = routed.filter((h) => h !== victim);
        return Date.now();
      },
    });
    expectSafe(figures);
  });

  it("SIGTERM of one host: it drains and exits 0 within its deadline, nothing acknowledged is lost", async () => {
    const victim = hosts[1]!;
    let exit: number | string = "";
    let stopMs = 0;
    const { figures } = await runScenario({
      name: "SIGTERM a host",
      hosts: () => routed.map((h) => h.url),
      reader: () => hosts[0]!.url,
      fault: async () => {
        const started = Date.now();
        const stopped = victim.stop("SIGTERM", SHUTDOWN_TIMEOUT_MS + 5000);
        routed = routed.filter((h) => h !== victim);
        exit = await stopped;
        stopMs = Date.now() - started;
        return Date.now();
      },
      extra: () => ({ exit_code: exit, shutdown_ms: stopMs }),
    });
    expectSafe(figures);
    expect(exit).toBe(0);
    expect(stopMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2000);
  });
});
