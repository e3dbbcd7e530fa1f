import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keySlot } from "../../src/store/slot-tags.js";
import { postEvent, type HostProcess } from "../support/host.js";
import { redisAvailable, type RedisCluster } from "../support/redis.js";
import { inEntityOrder, type Sink } from "../support/sink.js";
import { startPublishingCluster, type PublishingCluster } from "../support/publishing-cluster.js";

/**
 * A publishing replicated entity (`poll`) served by two hosts over a real Redis Cluster: each
 * apply writes its messages to the outbox stream of the entity's own slot in the same script,
 * and every applied vote reaches the sink once; a refused command and a redelivery publish nothing.
 */

const SERVICE = "repl-pub-cluster";

/** The slot of a poll's keys (its hash tag is its id). */
const slotOf = (id: string) => keySlot(`ks:${SERVICE}:poll:{${id}}:r`);

describe.runIf(redisAvailable())("publishing replicated entities on Redis Cluster", () => {
  let setup: PublishingCluster | undefined;
  let cluster: RedisCluster;
  let sink: Sink;
  let hosts: HostProcess[] = [];

  beforeAll(async () => {
    setup = await startPublishingCluster({
      service: SERVICE,
      functions: ["poll", "test/fixtures/replicated"],
      hosts: 2,
      env: () => ({ KNSTATE_OUTBOX_LEASE: "10s", KNSTATE_REDIS_COMMAND_TIMEOUT: "30s" }),
    });
    ({ cluster, sink, hosts } = setup);
  }, 90_000);
  afterAll(async () => {
    await setup?.stop();
  });

  it("publishes the votes of polls in many slots once each, from the streams of their slots", async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `p${i}`);
    const committed: string[] = [];
    let n = 0;
    await Promise.all(
      ids.map(async (id) => {
        for (let i = 0; i < 3; i++) {
          const event = {
            id: `${id}-${i}`,
            type: "com.example.poll.vote",
            subject: id,
            data: { voter: `v${i}`, option: "x" },
          };
          const res = await postEvent(hosts[n++ % hosts.length]!.url, event);
          expect(res.status).toBe(200);
          committed.push(`poll/${id}/${res.headers.get("ce-entityversion")}`);
          if (i === 0) {
            // Redelivered to the other host: nothing applied, nothing published.
            const again = await postEvent(hosts[n % hosts.length]!.url, event);
            expect(again.headers.get("ce-entityversion")).toBe(res.headers.get("ce-entityversion"));
          }
        }
      }),
    );
    const stale = await postEvent(hosts[0]!.url, {
      id: "stale",
      type: "com.example.fenced.write",
      subject: "f9",
      data: { token: 5, note: "stale" },
    });
    expect(stale.status).toBe(412);
    expect(new Set(ids.map(slotOf)).size).toBeGreaterThan(20);
    await sink.until(() => new Set(sink.acceptedIds()).size >= committed.length);
    await new Promise((r) => setTimeout(r, 500));
    const accepted = sink.acceptedIds();
    expect([...accepted].sort()).toEqual([...committed].sort());
    expect(inEntityOrder(accepted)).toBe(true);
    for (const r of sink.received) expect(r.headers["ce-type"]).toBe("com.example.poll.voted");
    // The messages went through the stream of each entity's slot, now empty.
    for (const id of ids.slice(0, 4)) {
      const slot = slotOf(id);
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
