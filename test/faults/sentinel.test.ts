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
 * Primary + 2 replicas + 3 sentinels, the smallest group where `WAIT 1` keeps working after a
 * failover: sentinel points the remaining replica at the promoted one as part of the failover,
 * so the new primary has a replica within seconds (with one replica, writes wait until the old
 * primary is back and sentinel has turned it into a replica, which takes 10–30 s and longer on
 * a busy machine). The hosts reach Redis through a TCP proxy that plays the part of a
 * sentinel-aware service address: after a failover it is pointed at the new primary. The
 * replicas replicate through a second proxy (which the sentinels also see as the primary's
 * address), so a test can make them lag: their replication links are blackholed for a moment
 * before the primary dies, as when the network around the primary is slow or partitioned.
 */
describe.runIf(run)("failover with Redis Sentinel", () => {
  const servers: RedisServer[] = [];
  const sentinels: RedisNode[] = [];
  const proxies: TcpProxy[] = [];
  let hosts: HostProcess[] = [];

  afterEach(async () => {
    await stopHosts(hosts);
    hosts = [];
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await Promise.all(sentinels.splice(0).map((s) => s.stop()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  async function startGroup() {
    const primary = await startRedis({ appendonly: "yes", appendfsync: "everysec" });
    servers.push(primary);
    const replication = await TcpProxy.start(primary.port);
    proxies.push(replication);
    const replicas: RedisServer[] = [];
    for (let i = 0; i < 2; i++) {
      const replica = await startRedis({
        appendonly: "yes",
        appendfsync: "everysec",
        extraArgs: ["--replicaof", "127.0.0.1", String(replication.port)],
      });
      servers.push(replica);
      replicas.push(replica);
      await waitFor("the replica to sync", 15_000, async () =>
        (await replica.cli("INFO", "replication")).includes("master_link_status:up") ? true : undefined,
      );
    }
    for (let i = 0; i < 3; i++) {
      sentinels.push(
        await startRedisNode({
          sentinel: true,
          conf: [
            // Sentinel must see the primary where the replica does, or it "fixes" the replica.
            `sentinel monitor ${MASTER} 127.0.0.1 ${replication.port} 2`,
            `sentinel down-after-milliseconds ${MASTER} 1000`,
            `sentinel failover-timeout ${MASTER} 5000`,
            `sentinel parallel-syncs ${MASTER} 1`,
            "",
          ].join("\n"),
        }),
      );
    }
    const sentinel = sentinels[0]!;
    await waitFor("the sentinels to see the replicas and each other", 20_000, async () => {
      const info = String(await sentinel.command("INFO", "sentinel"));
      return /slaves=2,sentinels=3/.test(info) ? true : undefined;
    });
    const service = await TcpProxy.start(primary.port);
    proxies.push(service);
    return { primary, replicas, replication, service, sentinel };
  }

  it.each([
    { waitReplicas: 1, setting: "KNSTATE_REDIS_WAIT_REPLICAS=1", lost: "none" },
    { waitReplicas: 0, setting: "no WAIT", lost: "some" },
  ])("kill -9 of a lagging primary, $setting: acknowledged events lost: $lost", async ({ waitReplicas }) => {
    const { primary, replicas, replication, service, sentinel } = await startGroup();
    hosts = await startHosts(3, {
      REDIS_URL: service.url,
      KNSTATE_REDIS_WAIT_REPLICAS: String(waitReplicas),
      KNSTATE_REDIS_WAIT_TIMEOUT: "500ms",
    });

    let promotedPort = 0;
    let failoverMs = 0;
    const { figures } = await runScenario({
      name: `sentinel failover, WAIT ${waitReplicas}`,
      hosts: () => hosts.map((h) => h.url),
      reader: () => hosts[0]!.url,
      recoveryTimeoutMs: 45_000,
      fault: async () => {
        // The replicas fall behind for 1.5 s, then the primary dies.
        replication.blackhole(true, "PSYNC");
        await sleep(1500);
        const killedAt = Date.now();
        await primary.kill9();
        replication.dropAll();
        promotedPort = await waitFor("sentinel to promote the replica", 30_000, async () => {
          const [, port] = (await sentinel.command("SENTINEL", "get-master-addr-by-name", MASTER)) as [
            string,
            string,
          ];
          return Number(port) !== replication.port ? Number(port) : undefined;
        });
        failoverMs = Date.now() - killedAt;
        service.retarget(promotedPort);
        service.dropAll();
        const retargetedAt = Date.now();
        // Sentinel has pointed the other replica at the new primary, so WAIT succeeds again.
        // The old primary comes back with its AOF; sentinel turns it into a replica of the
        // new one in time, discarding what never replicated.
        await primary.restart();
        return retargetedAt;
      },
      extra: () => ({ failover_ms: failoverMs }),
    });
    expect(replicas.map((r) => r.port)).toContain(promotedPort);
    expect(figures.dup_applied).toBe(0);
    expect(figures.version_mismatch).toBe(0);
    expect(figures.unknown_applied).toBe(0);
    if (waitReplicas > 0) {
      expect(figures.acked_lost).toBe(0);
      expect(figures.version_gaps).toBe(0);
    } else {
      // Plain asynchronous replication: what the primary acknowledged while the replica
      // lagged is gone after the failover. This is the loss WAIT prevents.
      expect(figures.acked_lost).toBeGreaterThan(0);
    }
  });
});
