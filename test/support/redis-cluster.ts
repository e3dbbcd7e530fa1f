import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { freePort } from "./ports.js";
import { sleep } from "./redis-process.js";
import { startRedis, type RedisServer } from "./redis-server.js";

const run = promisify(execFile);

export interface RedisCluster {
  /** `127.0.0.1:<port>` of every node (masters first), for REDIS_CLUSTER_NODES. */
  readonly nodes: string[];
  readonly servers: readonly RedisServer[];
  stop(): Promise<void>;
}

/**
 * A Redis Cluster on loopback: `masters` masters (at least 3) with `replicasPerMaster`
 * replicas each, created with `redis-cli --cluster create`, resolved once every node reports
 * `cluster_state:ok` and every replica has synced with its master.
 */
export async function startRedisCluster(
  options: { masters?: number; replicasPerMaster?: 0 | 1; extraArgs?: readonly string[] } = {},
): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  const count = masters * (1 + replicas);
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const busPort = await freePort();
      servers.push(
        await startRedis({
          extraArgs: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "3000",
            "--cluster-port",
            String(busPort),
            "--repl-diskless-sync-delay",
            "0",
            ...(options.extraArgs ?? []),
          ],
        }),
      );
    }
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    await run(
      "redis-cli",
      ["--cluster", "create", ...nodes, "--cluster-replicas", String(replicas), "--cluster-yes"],
      { timeout: 30_000 },
    );
    const deadline = Date.now() + 30_000;
    for (const server of servers) {
      while (!(await server.cli("cluster", "info")).includes("cluster_state:ok")) {
        if (Date.now() > deadline) throw new Error("the Redis Cluster did not reach cluster_state:ok in 30s");
        await sleep(100);
      }
      // A replica counts for WAIT only once its first sync is done.
      for (;;) {
        const replication = await server.cli("info", "replication");
        if (replication.includes("role:master") || replication.includes("master_link_status:up")) break;
        if (Date.now() > deadline) throw new Error("a Redis Cluster replica did not sync in 30s");
        await sleep(100);
      }
    }
    return { nodes, servers, stop: () => stopAll(servers) };
  } catch (error) {
    await stopAll(servers);
    throw error;
  }
}

async function stopAll(servers: readonly RedisServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}
