import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keySlot } from "../../src/store/slot-tags.js";
import { spawnHost, type HostProcess } from "../support/host.js";
import { incrementCounters } from "../support/outbox-load.js";
import { redisAvailable, startRedisCluster, type RedisCluster } from "../support/redis.js";
import { inEntityOrder, startSink, type Sink } from "../support/sink.js";

const SERVICE = "outbox-cluster";

/** The slot of a counter's keys (its hash tag is its id). */
function entitySlot(id: string): number {
  return keySlot(`ks:${SERVICE}:counter:{${id}}:m`);
}

describe.runIf(redisAvailable())("the outbox on Redis Cluster", () => {
  let cluster: RedisCluster;
  let sink: Sink;
  const hosts: HostProcess[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    sink = await startSink();
    for (let i = 0; i < 2; i++) {
      hosts.push(
        await spawnHost({
          functions: ["counter"],
          env: {
            KNSTATE_STORE: "redis",
            REDIS_CLUSTER_NODES: cluster.nodes.join(","),
            K_SINK: sink.url,
            K_SERVICE: SERVICE,
            KNSTATE_OUTBOX_POLL: "50ms",
            // Long enough that a live host never loses a lease: each event is posted once.
            KNSTATE_OUTBOX_LEASE: "10s",
          },
        }),
      );
    }
  }, 90_000);
  afterAll(async () => {
    for (const host of hosts) await host.stop("SIGKILL");
    await sink?.close();
    await cluster?.stop();
  });

  it("publishes the events of entities in many slots once each, in per-entity order, from two hosts", async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const committed = await incrementCounters(hosts, ids.length, 5, "k");
    expect(new Set(ids.map(entitySlot)).size).toBeGreaterThan(30);
    await sink.until(() => new Set(sink.acceptedIds()).size === committed.length);
    // Every committed event, and nothing else.
    const accepted = sink.acceptedIds();
    expect(new Set(accepted)).toEqual(new Set(committed));
    // Once each, unless a POST timed out on this busy machine and was sent again (logged).
    const relayLog = hosts.map((h) => h.output()).join("\n");
    if (!relayLog.includes("publishing to K_SINK failed")) {
      expect(
        accepted.filter((id, i) => accepted.indexOf(id) !== i),
        relayLog,
      ).toEqual([]);
    }
    expect(inEntityOrder(sink.acceptedIds())).toBe(true);
    // The messages went through the per-slot streams: each entity's slot has one, now empty.
    for (const id of ids.slice(0, 5)) {
      const slot = entitySlot(id);
      const keys = await Promise.all(
        cluster.servers.map((s) => s.cli("CLUSTER", "GETKEYSINSLOT", String(slot), "100")),
      );
      const stream = keys
        .join("\n")
        .split("\n")
        .find((k) => k.startsWith(`ks:${SERVICE}:_outbox:{`));
      expect(stream, `the outbox stream of slot ${slot}`).toBeDefined();
      expect(keySlot(stream!)).toBe(slot);
      const owner = cluster.servers[keys.findIndex((k) => k.includes(stream!))]!;
      await expect.poll(() => owner.cli("XLEN", stream!)).toBe("0");
    }
  }, 120_000);
});
