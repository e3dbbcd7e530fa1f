import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_OUTBOX_GROUPS, slotGroup } from "../../src/store/outbox-keys.js";
import { keySlot } from "../../src/store/slot-tags.js";
import { postEvent, ROOT, spawnHost, type HostProcess } from "../support/host.js";
import { redisAvailable, startRedis, type RedisCluster } from "../support/redis.js";
import { incrementCounters } from "../support/outbox-load.js";
import { inEntityOrder, startSink, type Sink } from "../support/sink.js";
import { startPublishingCluster, type PublishingCluster } from "../support/publishing-cluster.js";

const SERVICE = "outbox-balance";

/** The group of slots (lease) of a counter's outbox stream: its hash tag is its id. */
function entityGroup(id: string): number {
  return slotGroup(keySlot(`ks:${SERVICE}:counter:{${id}}:m`));
}

describe.runIf(redisAvailable())("outbox leases spread over the relays on Redis Cluster", () => {
  let setup: PublishingCluster | undefined;
  let cluster: RedisCluster;
  let client: Cluster;
  let sink: Sink;
  let hosts: HostProcess[] = [];

  /** The pod (POD_NAME) holding each group's lease, `undefined` for a free one. */
  async function holders(): Promise<Array<string | undefined>> {
    const groups = Array.from({ length: CLUSTER_OUTBOX_GROUPS }, (_, g) => g);
    const values = await Promise.all(groups.map((g) => client.get(`ks:${SERVICE}:_outbox:g${g}:lease`)));
    return values.map((v) => v?.split("-")[0]);
  }

  function counts(held: ReadonlyArray<string | undefined>): Map<string | undefined, number> {
    const out = new Map<string | undefined, number>();
    for (const h of held) out.set(h, (out.get(h) ?? 0) + 1);
    return out;
  }

  beforeAll(async () => {
    setup = await startPublishingCluster({
      service: SERVICE,
      functions: ["counter"],
      hosts: 3,
      env: (i) => ({ POD_NAME: `h${i}`, KNSTATE_OUTBOX_LEASE: "2s", KNSTATE_OUTBOX_BACKOFF_MAX: "200ms" }),
    });
    ({ cluster, sink, hosts } = setup);
    client = new Cluster(cluster.nodes.map((n) => ({ host: "127.0.0.1", port: Number(n.split(":")[1]) })));
  }, 120_000);
  afterAll(async () => {
    client?.disconnect();
    await setup?.stop();
  });

  it("settles with every lease held and each of three hosts holding at most ceil(16 / 3)", async () => {
    await expect
      .poll(
        async () => {
          const byHost = counts(await holders());
          return (
            !byHost.has(undefined) && byHost.size === 3 && Math.max(...byHost.values()) <= Math.ceil(16 / 3)
          );
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe(true);
    expect(await client.zcard(`ks:${SERVICE}:_outbox:relays`)).toBe(3);
    // Settled: the leases stay where they are.
    const settled = await holders();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await holders()).toEqual(settled);
  }, 60_000);

  it("moves a killed host's shards to the others, and every event still reaches the sink", async () => {
    const before = await holders();
    const ids = Array.from({ length: 40 }, (_, i) => `b${i}`);
    // The killed host held groups with entries to publish.
    const killedGroups = before.flatMap((h, g) => (h === "h0" ? [g] : []));
    expect(ids.some((id) => killedGroups.includes(entityGroup(id)))).toBe(true);
    // The sink refuses for now: the entries stay pending under the consumer that read them.
    sink.answerWith(() => 503);
    const committed = await incrementCounters(hosts, ids.length, 3, "b");
    await sink.until(() => sink.received.length > 20);
    await hosts[0]!.stop("SIGKILL");
    sink.answerWith(() => 202);
    await sink.until(() => committed.every((id) => sink.acceptedIds().includes(id)));
    expect(inEntityOrder(sink.acceptedIds())).toBe(true);
    // The two left hold every lease, ceil(16 / 2) at most each.
    await expect
      .poll(
        async () => {
          const byHost = counts(await holders());
          return !byHost.has(undefined) && !byHost.has("h0") && Math.max(...byHost.values()) <= 8;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe(true);
  }, 120_000);
});

describe.runIf(redisAvailable())("outbox leases spread over the relays on standalone Redis", () => {
  it("shares the 4 shards between a host and a knstate relay, under the documented ACL", async () => {
    const redis = await startRedis();
    const sink = await startSink();
    const started: HostProcess[] = [];
    try {
      // The least-privilege user of docs/redis-acl.md: announcing, leasing and releasing need no more.
      const [, name, ...rules] = readFileSync(join(ROOT, "knative", "redis-acl.conf"), "utf8")
        .trim()
        .split(/\s+/);
      expect(await redis.cli("ACL", "SETUSER", name!, ...rules, ">pw")).toBe("OK");
      const env = {
        KNSTATE_STORE: "redis",
        REDIS_URL: `redis://${name}:pw@127.0.0.1:${redis.port}`,
        K_SINK: sink.url,
        K_SERVICE: "balance",
        KNSTATE_OUTBOX_POLL: "50ms",
        KNSTATE_OUTBOX_LEASE: "2s",
      };
      started.push(await spawnHost({ functions: ["counter"], env: { ...env, POD_NAME: "host" } }));
      started.push(
        await spawnHost({ functions: ["counter"], command: "relay", env: { ...env, POD_NAME: "relay" } }),
      );
      const holders = async () => {
        const leases = await Promise.all(
          [0, 1, 2, 3].map((s) => redis.cli("GET", `ks:balance:_outbox:${s}:lease`)),
        );
        return leases.map((l) => l.split("-")[0]).sort();
      };
      await expect
        .poll(holders, { timeout: 30_000, interval: 200 })
        .toEqual(["host", "host", "relay", "relay"]);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await postEvent(started[0]!.url, {
          id: `s${i}`,
          type: "com.example.counter.increment",
          subject: `s${i}`,
          data: { by: 1 },
        });
        expect(res.status).toBe(200);
        ids.push(`counter/s${i}/${res.headers.get("ce-entityversion")}`);
      }
      await sink.until(() => ids.every((id) => sink.acceptedIds().includes(id)));
      // Stopped cleanly, the relay leaves and releases: the host takes its shards at once.
      await started[1]!.stop("SIGTERM");
      await expect
        .poll(holders, { timeout: 10_000, interval: 100 })
        .toEqual(["host", "host", "host", "host"]);
      expect(started.map((h) => h.output()).join("\n")).not.toMatch(/NOPERM|announcing this relay failed/);
    } finally {
      for (const host of started) await host.stop("SIGKILL");
      await sink.close();
      await redis.stop();
    }
  }, 90_000);
});
