import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { silentLogger } from "../../src/observability/logger.js";
import { RedisStore } from "../../src/store/redis-store.js";
import type { EntityKey } from "../../src/store/state-store.js";
import { redisAvailable, startRedisCluster, type RedisCluster } from "../support/redis.js";

const withRedis = redisAvailable();

describe.skipIf(!withRedis)("the Redis store on a Redis Cluster with replicas", () => {
  let cluster: RedisCluster;
  let store: RedisStore;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    store = await RedisStore.connect(
      loadConfig({
        KNSTATE_STORE: "redis",
        REDIS_CLUSTER_NODES: cluster.nodes.slice(0, 2).join(","),
        KNSTATE_REDIS_WAIT_REPLICAS: "1",
        KNSTATE_REDIS_WAIT_TIMEOUT: "2s",
        KNSTATE_REDIS_COMMAND_TIMEOUT: "3s",
      }),
      silentLogger,
    );
  }, 90_000);
  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it("appends to entities on every master, each acknowledged by a replica, hostile ids included", async () => {
    const ids = [
      ...Array.from({ length: 30 }, (_, i) => `c${i}`),
      "a}b",
      "{x}",
      "",
      "x".repeat(10_240),
      "ключ",
    ];
    for (const [i, entityId] of ids.entries()) {
      const key: EntityKey = { entityType: "counter", entityId };
      const result = await store.append({
        key,
        expectedVersion: 0,
        events: Array.from({ length: (i % 3) + 1 }, () => ({ type: "changed", data: { by: 1 } })),
        logEvents: true,
        snapshot: { version: (i % 3) + 1, state: { value: (i % 3) + 1 } },
        checkDedup: [`d-${i}`],
        writeDedup: [[`d-${i}`, { version: (i % 3) + 1, reply: null, replyId: `r-${i}` }]],
        dedupTtlMs: 60_000,
      });
      expect(result).toEqual({ kind: "ok", version: (i % 3) + 1 });
    }
    for (const [i, entityId] of ids.entries()) {
      const key: EntityKey = { entityType: "counter", entityId };
      const loaded = await store.load(key, [`d-${i}`]);
      expect(loaded.version).toBe((i % 3) + 1);
      expect(loaded.duplicates.get(`d-${i}`)?.replyId).toBe(`r-${i}`);
      expect(await store.readEvents(key, 1)).toHaveLength((i % 3) + 1);
    }
    const masters = [];
    for (const server of cluster.servers) {
      const role = await server.cli("role");
      if (role.startsWith("master")) masters.push(Number(await server.cli("dbsize")));
    }
    expect(masters).toHaveLength(3);
    for (const keys of masters) expect(keys).toBeGreaterThan(0);
  }, 60_000);
});
