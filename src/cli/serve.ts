import { authSettingsFromConfig, createAuth, warnIfUnprotected } from "../auth/index.js";
import { ConfigError, loadConfig } from "../config/load-config.js";
import { createHost } from "../host/host.js";
import { createMetricsServer } from "../http/metrics-server.js";
import { loadFunctions } from "../host/load-functions.js";
import { createLogger } from "../observability/logger.js";
import { createTelemetry } from "../observability/telemetry.js";
import { startTracing } from "../observability/start-tracing.js";
import { relayFromConfig } from "../outbox/from-config.js";
import { whenMetricsReady } from "../outbox/metrics.js";
import { createStore } from "../store/create-store.js";

export interface ServeOptions {
  readonly paths: readonly string[];
  readonly flags: Readonly<Record<string, string | undefined>>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * `knstate serve <function>...`: load the functions, connect the store, listen, and on SIGTERM
 * or SIGINT drain and exit 0. Resolves with the process exit code when the host has stopped.
 */
export async function serve(options: ServeOptions): Promise<number> {
  const started = performance.now();
  let config;
  try {
    config = loadConfig(options.env, options.flags);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`knstate: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const paths = options.paths.length > 0 ? options.paths : (config.functions ?? []);
  if (paths.length === 0) {
    process.stderr.write(
      "knstate: name at least one function folder (knstate serve ./functions/counter) or set KNSTATE_FUNCTIONS\n",
    );
    return 2;
  }
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
    outbox = await relayFromConfig(config, store, components, logger);
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

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn(`second ${signal}: exiting without waiting`);
        resolve(1);
        return;
      }
      stopping = true;
      logger.info(`${signal} received: draining`, { inFlight: host.dispatcher.active });
      host
        .close()
        .then(() => outbox?.relay.stop(config.sinkFlushTimeoutMs))
        .then(() => telemetry.close())
        .then(
          () => {
            logger.info("stopped");
            resolve(0);
          },
          (error: unknown) => {
            logger.error("shutdown failed", { error });
            resolve(1);
          },
        );
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
}
