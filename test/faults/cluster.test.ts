import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import type { HostProcess } from "../support/host.js";
import { redisAvailable, startRedisCluster, type RedisCluster, type RedisServer } from "../support/redis.js";
import { runScenario, startHosts, stopHosts } from "./support/harness.js";

const run = redisAvailable();

interface ClusterNode {
  readonly id: string;
  readonly server: RedisServer;
  readonly slots: ReadonlyArray<readonly [number, number]>;
}

/** Masters of the cluster with their ids and slot ranges, from `CLUSTER NODES`. */
async function masters(cluster: RedisCluster): Promise<ClusterNode[]> {
  const text = await cluster.servers[0]!.cli("CLUSTER", "NODES");
  const out: ClusterNode[] = [];
  for (const line of text.split("\n")) {
    const [id, address, flags, , , , , , ...ranges] = line.trim().split(" ");
    if (!id || !address || !flags?.includes("master")) continue;
    const port = Number(address.split("@")[0]!.split(":")[1]);
    const server = cluster.servers.find((s) => s.port === port);
    if (!server) continue;
    const slots = ranges
      .filter((r) => !r.startsWith("["))
      .map((r) => {
        const [a, b] = r.split("-").map(Number);
        return [a!, b ?? a!] as const;
      });
    out.push({ id, server, slots });
  }
  return out;
}

/**
 * Moves `slot` from its owner to another master while the load runs, the way
 * `redis-cli --cluster reshard` does: IMPORTING/MIGRATING, MIGRATE the keys a few at a time,
 * then SETSLOT NODE everywhere. Returns the number of keys moved.
 */
async function migrateSlot(cluster: RedisCluster, slot: number): Promise<number> {
  const nodes = await masters(cluster);
  const source = nodes.find((n) => n.slots.some(([a, b]) => slot >= a && slot <= b));
  const target = nodes.find((n) => n !== source);
  if (!source || !target) throw new Error(`no owner or no target for slot ${slot}`);
  await target.server.cli("CLUSTER", "SETSLOT", String(slot), "IMPORTING", source.id);
  await source.server.cli("CLUSTER", "SETSLOT", String(slot), "MIGRATING", target.id);
  let moved = 0;
  // Dedup keys hold NUL bytes, which a command line cannot: move them over a client connection.
  const admin = new Redis({ host: "127.0.0.1", port: source.server.port, maxRetriesPerRequest: 0 });
  try {
    for (let round = 0; round < 500; round++) {
      const keys = (await admin.callBuffer("CLUSTER", "GETKEYSINSLOT", slot, 5)) as Buffer[];
      if (keys.length === 0) break;
      await admin.call("MIGRATE", "127.0.0.1", target.server.port, "", 0, 5000, "KEYS", ...keys);
      moved += keys.length;
      await sleep(20);
    }
  } finally {
    admin.disconnect();
  }
  for (const node of [target, source, ...nodes.filter((n) => n !== source && n !== target)]) {
    await node.server.cli("CLUSTER", "SETSLOT", String(slot), "NODE", target.id);
  }
  return moved;
}

/** The distinct reasons of the 503s the hosts logged (`Redis append of … failed (<reason>)`). */
function storeErrors(hosts: readonly HostProcess[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const host of hosts) {
    for (const match of host.output().matchAll(/failed \((.+?)\); retry later/g)) {
      const reason = match[1]!.replace(/\d+/g, "N");
      counts[reason] = (counts[reason] ?? 0) + 1;
    }
  }
  return counts;
}

/** The master that owns `slot`, per `CLUSTER NODES` on `from`. */
async function ownerOf(
  cluster: RedisCluster,
  slot: number,
  from: RedisServer,
): Promise<ClusterNode | undefined> {
  const text = await from.cli("CLUSTER", "NODES");
  for (const line of text.split("\n")) {
    const [id, address, flags, , , , , , ...ranges] = line.trim().split(" ");
    if (!id || !address || !flags?.includes("master") || flags.includes("fail")) continue;
    const owns = ranges.some((r) => {
      const [a, b] = r.split("-").map(Number);
      return slot >= a! && slot <= (b ?? a!);
    });
    if (!owns) continue;
    const port = Number(address.split("@")[0]!.split(":")[1]);
    const server = cluster.servers.find((s) => s.port === port);
    return server ? { id, server, slots: [] } : undefined;
  }
  return undefined;
}

describe.runIf(run)("Redis Cluster under load", () => {
  let cluster: RedisCluster | undefined;
  let hosts: HostProcess[] = [];

  afterEach(async () => {
    await stopHosts(hosts);
    hosts = [];
    await cluster?.stop();
    cluster = undefined;
  });

  it("MIGRATING/IMPORTING, MIGRATE … KEYS, SETSLOT NODE: no CROSSSLOT, nothing lost or doubled", async () => {
    cluster = await startRedisCluster({ masters: 3 });
    const redis = cluster;
    hosts = await startHosts(2, {
      REDIS_CLUSTER_NODES: redis.nodes.join(","),
      KNSTATE_LOG_LEVEL: "debug",
    });
    let moved = 0;
    let slot = -1;
    const { figures } = await runScenario({
      name: "cluster slot migration",
      hosts: () => hosts.map((h) => h.url),
      reader: () => hosts[0]!.url,
      // Two entities only, so the migrated one is hot.
      load: { entities: 2 },
      fault: async (load) => {
        const hot = load.entityIds[0]!;
        slot = Number(await redis.servers[0]!.cli("CLUSTER", "KEYSLOT", `{${hot}}`));
        moved = await migrateSlot(redis, slot);
        return Date.now();
      },
      extra: () => ({ slot, keys_moved: moved, store_errors: JSON.stringify(storeErrors(hosts)) }),
    });
    const logs = hosts.map((h) => h.output()).join("\n");
    expect(logs).not.toMatch(/CROSSSLOT/);
    expect(moved).toBeGreaterThan(0);
    expect(figures.acked_lost).toBe(0);
    expect(figures.dup_applied).toBe(0);
    expect(figures.version_gaps).toBe(0);
    expect(figures.version_mismatch).toBe(0);
    expect(figures.unknown_applied).toBe(0);
    // The slot now lives on its new owner, and the hot entity's keys with it.
    const owner = (await masters(redis)).find((n) => n.slots.some(([a, b]) => slot >= a && slot <= b));
    expect(Number(await owner!.server.cli("CLUSTER", "COUNTKEYSINSLOT", String(slot)))).toBeGreaterThan(0);
  });

  it("kill -9 of the master of a hot entity: a replica takes over, WAIT 1, nothing acknowledged lost", async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    const redis = cluster;
    hosts = await startHosts(2, {
      REDIS_CLUSTER_NODES: redis.nodes.join(","),
      KNSTATE_REDIS_WAIT_REPLICAS: "1",
      KNSTATE_REDIS_WAIT_TIMEOUT: "500ms",
    });
    let failoverMs = 0;
    let slot = -1;
    let victimPort = 0;
    let newOwnerPort = 0;
    let killedAt = 0;
    const { figures } = await runScenario({
      name: "cluster master failover, WAIT 1",
      hosts: () => hosts.map((h) => h.url),
      reader: () => hosts[0]!.url,
      load: { entities: 2 },
      recoveryTimeoutMs: 45_000,
      fault: async (load) => {
        slot = Number(await redis.servers[0]!.cli("CLUSTER", "KEYSLOT", `{${load.entityIds[0]!}}`));
        const victim = await ownerOf(redis, slot, redis.servers[0]!);
        if (!victim) throw new Error(`no master owns slot ${slot}`);
        victimPort = victim.server.port;
        const witness = redis.servers.find((s) => s !== victim.server)!;
        killedAt = Date.now();
        await victim.server.kill9();
        const deadline = Date.now() + 30_000;
        for (;;) {
          const owner = await ownerOf(redis, slot, witness).catch(() => undefined);
          if (owner && owner.server !== victim.server) {
            newOwnerPort = owner.server.port;
            break;
          }
          if (Date.now() > deadline) throw new Error("no replica took over the slot within 30s");
          await sleep(100);
        }
        failoverMs = Date.now() - killedAt;
        // The old master comes back as a replica of the new one, so WAIT 1 succeeds again.
        await victim.server.restart();
        return Date.now();
      },
      extra: ({ load }) => {
        // The other entity's master never stopped: how long did the hot entity get no 2xx?
        const hot = load.entityIds[0]!;
        const acks = load.ledger
          .filter((e) => e.entity === hot && e.acked !== undefined)
          .map((e) => e.acked!.at)
          .sort((a, b) => a - b);
        let gap = 0;
        for (let i = 1; i < acks.length; i++) gap = Math.max(gap, acks[i]! - acks[i - 1]!);
        return { slot, failover_ms: failoverMs, hot_entity_outage_s: gap / 1000 };
      },
    });
    expect(newOwnerPort).not.toBe(victimPort);
    expect(figures.acked_lost).toBe(0);
    expect(figures.dup_applied).toBe(0);
    expect(figures.version_gaps).toBe(0);
    expect(figures.version_mismatch).toBe(0);
    expect(figures.unknown_applied).toBe(0);
  });
});
