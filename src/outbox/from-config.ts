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
  const source = await sourceOf(config, store);
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
    consumer: `${config.podName ?? hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`,
    leaseMs: config.outboxLeaseMs,
    pollMs: config.outboxPollMs,
    maxAttempts: Math.max(1, config.outboxMaxAttempts),
    backoffMs: { base: config.outboxBackoffMs, max: config.outboxBackoffMaxMs },
    concurrency: Math.max(1, config.sinkConcurrency),
    maxQueued: Math.max(1, config.sinkQueueMax),
    logger: logger.child({ component: "outbox-relay" }),
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

async function sourceOf(config: HostConfig, store: StateStore): Promise<OutboxSource> {
  if (store instanceof MemoryStore) return new MemoryOutboxSource(store.outbox);
  const [{ RedisStore }, { RedisOutboxSource }, { Cluster }] = await Promise.all([
    import("../store/redis-store.js"),
    import("./redis-source.js"),
    import("ioredis"),
  ]);
  if (!(store instanceof RedisStore)) throw new Error(`the ${store.name} store has no outbox`);
  const client = store.connection;
  if (client instanceof Cluster) {
    const { ClusterOutboxSource } = await import("./cluster-source.js");
    // A sweep of the slots every few polls; this pod's own commits are read at once.
    const sweepMs = Math.max(1000, config.outboxPollMs * 5);
    return new ClusterOutboxSource(client, { prefix: config.keyPrefix, service: config.service, sweepMs });
  }
  return new RedisOutboxSource(client, config.keyPrefix, config.service);
}
