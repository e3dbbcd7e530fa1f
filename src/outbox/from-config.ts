import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { HostConfig } from "../config/host-config.js";
import type { Component } from "../entity/define.js";
import type { Logger } from "../observability/logger.js";
import type { PipelineObserver } from "../pipeline/observer.js";
import { parseCeOverrides } from "../publish/ce-overrides.js";
import { SinkClient } from "../publish/sink-client.js";
import { MemoryStore } from "../store/memory-store.js";
import type { StateStore } from "../store/state-store.js";
import { MemoryOutboxSource } from "./memory-source.js";
import { OutboxRelay } from "./relay.js";
import { publishes, publishingNames } from "./served-components.js";
import { ShardBalance, type RelayMembers } from "./shard-balance.js";
import type { OutboxSource } from "./source.js";

/** The relay of a host and the observer that wakes it when this pod commits. */
export interface RelaySetup {
  readonly relay: OutboxRelay;
  readonly observer: PipelineObserver;
}

/**
 * The outbox relay for `K_SINK`, with the extensions of `K_CE_OVERRIDES`, the CA certificates of
 * `K_CA_CERTS` and the timeout of `K_SINK_TIMEOUT`; `undefined` when no entity publishes or
 * `K_SINK` is unset (`createHost` then drops `publish`, see served-components.ts). Throws on a
 * `K_CE_OVERRIDES` of the wrong shape.
 */
export async function relayFromConfig(
  config: HostConfig,
  store: StateStore,
  components: readonly Component[],
  logger: Logger,
): Promise<RelaySetup | undefined> {
  if (!publishes(components)) return undefined;
  if (config.sink === undefined) return undefined;
  const { extensions, ignored } = parseCeOverrides(config.ceOverrides);
  if (ignored.length > 0) {
    logger.warn(
      "K_CE_OVERRIDES: ignoring extensions that are invalid or would replace a standard attribute",
      {
        ignored,
      },
    );
  }
  const { source, members } = await sourceOf(config, store);
  const consumer = `${config.podName ?? hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const relayLogger = logger.child({ component: "outbox-relay" });
  const relay = new OutboxRelay({
    source,
    sink: new SinkClient({
      sink: config.sink,
      caCerts: config.caCerts,
      timeoutMs: config.sinkTimeoutMs,
      sockets: config.sinkConcurrency,
    }),
    service: config.service,
    overrides: extensions,
    consumer,
    leaseMs: config.outboxLeaseMs,
    pollMs: config.outboxPollMs,
    maxAttempts: Math.max(1, config.outboxMaxAttempts),
    backoffMs: { base: config.outboxBackoffMs, max: config.outboxBackoffMaxMs },
    concurrency: Math.max(1, config.sinkConcurrency),
    maxQueued: Math.max(1, config.sinkQueueMax),
    logger: relayLogger,
    // Redis: the shards spread over the relays of this outbox (a pod, or `knstate relay`, each).
    ...(members === undefined
      ? {}
      : {
          balance: new ShardBalance(members, {
            self: consumer,
            shards: source.shards,
            ttlMs: config.outboxLeaseMs,
            logger: relayLogger,
          }),
        }),
  });
  logger.info("publishing committed events to K_SINK through the outbox", {
    sink: config.sink,
    extensions: Object.keys(extensions),
    ...(config.caCerts === undefined ? {} : { caCerts: true }),
  });
  const publishing = new Set(publishingNames(components));
  const observer: PipelineObserver = {
    committed: (entityType, entityId) => {
      if (publishing.has(entityType)) relay.wake({ entityType, entityId });
    },
  };
  return { relay, observer };
}

async function sourceOf(
  config: HostConfig,
  store: StateStore,
): Promise<{ source: OutboxSource; members?: RelayMembers }> {
  if (store instanceof MemoryStore) return { source: new MemoryOutboxSource(store.outbox) };
  const [{ RedisStore }, { RedisOutboxSource }, { Cluster }, { RedisRelayMembers }] = await Promise.all([
    import("../store/redis-store.js"),
    import("./redis-source.js"),
    import("ioredis"),
    import("./relay-members.js"),
  ]);
  if (!(store instanceof RedisStore)) throw new Error(`the ${store.name} store has no outbox`);
  const client = store.connection;
  if (client instanceof Cluster) {
    const { ClusterOutboxSource } = await import("./cluster-source.js");
    // A sweep of the slots every few polls; this pod's own commits are read at once.
    const sweepMs = Math.max(1000, config.outboxPollMs * 5);
    const source = new ClusterOutboxSource(client, {
      prefix: config.keyPrefix,
      service: config.service,
      sweepMs,
    });
    return { source, members: new RedisRelayMembers(client, source.keys.relays) };
  }
  const source = new RedisOutboxSource(client, config.keyPrefix, config.service);
  return { source, members: new RedisRelayMembers(client, source.keys.relays) };
}
