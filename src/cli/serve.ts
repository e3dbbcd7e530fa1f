import { authSettingsFromConfig, createAuth, warnIfUnprotected } from "../auth/index.js";
import { createHost } from "../host/host.js";
import { createMetricsServer } from "../http/metrics-server.js";
import { loadFunctions } from "../host/load-functions.js";
import { createTelemetry } from "../observability/telemetry.js";
import { startTracing } from "../observability/start-tracing.js";
import { relayFromConfig } from "../outbox/from-config.js";
import { whenMetricsReady } from "../outbox/metrics.js";
import { createStore } from "../store/create-store.js";
import type { RedisStore } from "../store/redis-store.js";
import { startup, untilSignal, type ServeOptions } from "./startup.js";

export type { ServeOptions } from "./startup.js";

/**
 * `knstate serve <function>...`: load the functions, connect the store, listen, and on SIGTERM
 * or SIGINT drain and exit 0. Resolves with the process exit code when the host has stopped.
 */
export async function serve(options: ServeOptions): Promise<number> {
  const started = performance.now();
  const begun = startup("serve", options);
  if (typeof begun === "number") return begun;
  const { config, logger, paths } = begun;
  let auth;
  try {
    const authSettings = authSettingsFromConfig(config, options.env);
    auth = await createAuth(authSettings);
    warnIfUnprotected(authSettings, { api: true, events: true }, logger);
  } catch (error) {
    process.stderr.write(`knstate: ${(error as Error).message}\n`);
    return 2;
  }
  // Module loading and the store connection are independent: do them at once (cold start).
  const [components, store, tracing] = await Promise.all([
    loadFunctions(paths),
    createStore(config, logger),
    startTracing(config.otel, { service: config.service, revision: config.revision, logger }),
  ]);
  let outbox;
  try {
    // KNSTATE_OUTBOX_RELAY=false: this pod writes the outbox, `knstate relay` elsewhere publishes it.
    outbox = config.outboxRelay ? await relayFromConfig(config, store, components, logger) : undefined;
    if (!config.outboxRelay && config.sink !== undefined) {
      logger.info("KNSTATE_OUTBOX_RELAY is false: the outbox is written here and left for knstate relay");
    }
  } catch (error) {
    process.stderr.write(`knstate: ${(error as Error).message}\n`);
    await store.close();
    return 2;
  }
  const telemetry = createTelemetry({
    config,
    logger,
    tracing,
    observers: [outbox?.observer],
    afterCommit: "afterCommit" in store ? (store as RedisStore).afterCommit : undefined,
    serveMetrics: createMetricsServer,
  });
  const host = createHost({
    config,
    components,
    store,
    logger,
    observer: telemetry.observer,
    auth,
    timerObserver: telemetry.timerObserver,
    ...(telemetry.wrapRequest ? { wrapRequest: telemetry.wrapRequest } : {}),
    admin: { production: options.env["NODE_ENV"] === "production" },
  });
  const port = await host.listen();
  outbox?.relay.start();
  const metricsPort = await telemetry.started(host);
  const adminPort = await host.listenAdmin();
  if (outbox && metricsPort !== undefined) whenMetricsReady(() => telemetry.metrics?.registry, outbox.relay);
  logger.info("knstate listening", {
    port,
    metricsPort,
    adminPort,
    store: store.name,
    service: config.service,
    types: host.registry.types,
    startupMs: Math.round(performance.now() - started),
  });

  return untilSignal(logger, async (signal) => {
    logger.info(`${signal} received: draining`, { inFlight: host.dispatcher.active });
    await host.close();
    await outbox?.relay.stop(config.sinkFlushTimeoutMs);
    await telemetry.close();
  });
}
