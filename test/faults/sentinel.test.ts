import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { HostProcess } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";
import { runScenario, startHosts, stopHosts } from "./support/harness.js";
import { startRedisNode, type RedisNode } from "./support/redis-node.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const run = redisAvailable();
const MASTER = "knstate";

/** Polls `check` every 100 ms until it returns a value, or throws after `timeoutMs`. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Primary + replica + 3 sentinels. The hosts reach Redis through a TCP proxy that plays the
 * part of a sentinel-aware service address: after a failover it is pointed at the new primary.
 */
describe.runIf(run)("failover with Redis Sentinel and KNSTATE_REDIS_WAIT_REPLICAS=1", () => {
  const servers: RedisServer[] = [];
  const sentinels: RedisNode[] = [];
  let proxy: TcpProxy | undefined;
  let hosts: HostProcess[] = [];

  afterEach(async () => {
    await stopHosts(hosts);
    hosts = [];
    await proxy?.close();
    await Promise.all(sentinels.splice(0).map((s) => s.stop()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it("kill -9 of the primary: sentinel promotes the replica, no acknowledged event is lost", async () => {
    const primary = await startRedis({ appendonly: "yes", appendfsync: "everysec" });
    servers.push(primary);
    const replica = await startRedis({
      appendonly: "yes",
      appendfsync: "everysec",
      extraArgs: ["--replicaof", "127.0.0.1", String(primary.port)],
    });
    servers.push(replica);
    await waitFor("the replica to sync", 15_000, async () =>
      (await replica.cli("INFO", "replication")).includes("master_link_status:up") ? true : undefined,
    );
    for (let i = 0; i < 3; i++) {
      sentinels.push(
        await startRedisNode({
          sentinel: true,
          conf: [
            `sentinel monitor ${MASTER} 127.0.0.1 ${primary.port} 2`,
            `sentinel down-after-milliseconds ${MASTER} 1000`,
            `sentinel failover-timeout ${MASTER} 5000`,
            `sentinel parallel-syncs ${MASTER} 1`,
            "",
          ].join("\n"),
        }),
      );
    }
    const sentinel = sentinels[0]!;
    await waitFor("the sentinels to see the replica and each other", 20_000, async () => {
      const info = String(await sentinel.command("INFO", "sentinel"));
      return /slaves=1,sentinels=3/.test(info) ? true : undefined;
    });
    proxy = await TcpProxy.start(primary.port);
    const link = proxy;
    hosts = await startHosts(3, {
      REDIS_URL: link.url,
      KNSTATE_REDIS_WAIT_REPLICAS: "1",
      KNSTATE_REDIS_WAIT_TIMEOUT: "500ms",
    });

    let promotedPort = 0;
    let failoverMs = 0;
    const { figures } = await runScenario({
      name: "sentinel failover, WAIT 1",
      hosts: () => hosts.map((h) => h.url),
      reader: () => hosts[0]!.url,
      recoveryTimeoutMs: 45_000,
      fault: async () => {
        const killedAt = Date.now();
        await primary.kill9();
        promotedPort = await waitFor("sentinel to promote the replica", 30_000, async () => {
          const [, port] = (await sentinel.command("SENTINEL", "get-master-addr-by-name", MASTER)) as [
            string,
            string,
          ];
          return Number(port) !== primary.port ? Number(port) : undefined;
        });
        failoverMs = Date.now() - killedAt;
        link.retarget(promotedPort);
        link.dropAll();
        const retargetedAt = Date.now();
        // The old primary comes back with its AOF; sentinel turns it into a replica of the new
        // one, so WAIT 1 can succeed again.
        await primary.restart();
        return retargetedAt;
      },
      extra: () => ({ failover_ms: failoverMs }),
    });
    expect(promotedPort).toBe(replica.port);
    expect(figures.acked_lost).toBe(0);
    expect(figures.dup_applied).toBe(0);
    expect(figures.version_gaps).toBe(0);
    expect(figures.version_mismatch).toBe(0);
    expect(figures.unknown_applied).toBe(0);
  });
});
