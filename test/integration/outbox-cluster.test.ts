import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keySlot } from "../../src/store/slot-tags.js";
import type { HostProcess } from "../support/host.js";
import { incrementCounters } from "../support/outbox-load.js";
import { redisAvailable, type RedisCluster } from "../support/redis.js";
import { inEntityOrder, type Sink } from "../support/sink.js";
import { startPublishingCluster, type PublishingCluster } from "../support/publishing-cluster.js";

const SERVICE = "outbox-cluster";

/** The slot of a counter's keys (its hash tag is its id). */
function entitySlot(id: string): number {
  return keySlot(`ks:${SERVICE}:counter:{${id}}:m`);
}

describe.runIf(redisAvailable())("the outbox on Redis Cluster", () => {
  let setup: PublishingCluster | undefined;
  let cluster: RedisCluster;
  let sink: Sink;
  let hosts: HostProcess[] = [];

  beforeAll(async () => {
    setup = await startPublishingCluster({
      service: SERVICE,
      functions: ["counter"],
      hosts: 2,
      // Long enough that a live host never loses a lease: each event is posted once.
      env: () => ({ KNSTATE_OUTBOX_LEASE: "10s" }),
    });
    ({ cluster, sink, hosts } = setup);
  }, 90_000);
  afterAll(async () => {
    await setup?.stop();
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
