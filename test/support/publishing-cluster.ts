import { spawnHost, type HostProcess } from "./host.js";
import { startRedisCluster, type RedisCluster } from "./redis.js";
import { startSink, type Sink } from "./sink.js";

/** A 3-master Redis Cluster, a sink, and host processes that publish to it. */
export interface PublishingCluster {
  readonly cluster: RedisCluster;
  readonly sink: Sink;
  readonly hosts: HostProcess[];
  /** Kills the hosts (SIGKILL), closes the sink and stops the cluster. */
  stop(): Promise<void>;
}

/**
 * Starts `hosts` host processes serving `functions` of service `service` on a new Redis Cluster,
 * publishing to a new sink, the relay reading every 50 ms; `env(i)` adds to host i's environment.
 */
export async function startPublishingCluster(options: {
  readonly service: string;
  readonly functions: readonly string[];
  readonly hosts: number;
  readonly env?: (i: number) => Record<string, string>;
}): Promise<PublishingCluster> {
  const cluster = await startRedisCluster({ masters: 3 });
  const sink = await startSink();
  const hosts: HostProcess[] = [];
  const stop = async () => {
    for (const host of hosts) await host.stop("SIGKILL");
    await sink.close();
    await cluster.stop();
  };
  try {
    for (let i = 0; i < options.hosts; i++) {
      hosts.push(
        await spawnHost({
          functions: options.functions,
          env: {
            KNSTATE_STORE: "redis",
            REDIS_CLUSTER_NODES: cluster.nodes.join(","),
            K_SINK: sink.url,
            K_SERVICE: options.service,
            KNSTATE_OUTBOX_POLL: "50ms",
            ...options.env?.(i),
          },
        }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { cluster, sink, hosts, stop };
}
