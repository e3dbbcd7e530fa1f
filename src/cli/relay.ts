import type { HostConfig } from "../config/settings.js";
import { loadFunctions } from "../host/load-functions.js";
import { createMetricsServer } from "../http/metrics-server.js";
import { createProbeServer } from "../http/probe-server.js";
import { createTelemetry } from "../observability/telemetry.js";
import { relayFromConfig } from "../outbox/from-config.js";
import { whenMetricsReady } from "../outbox/metrics.js";
import { createStore } from "../store/create-store.js";
import { startup, untilSignal, type ServeOptions } from "./startup.js";

/** How often `knstate relay` reads the outbox by default (`KNSTATE_OUTBOX_POLL` overrides it). */
export const RELAY_POLL_MS = 20;

/**
 * The configuration of `knstate relay`: the host's, but the commits of the function's pods do not
 * wake a relay apart, so unless `KNSTATE_OUTBOX_POLL` says otherwise it reads the outbox every
 * `RELAY_POLL_MS` instead of a pod's 200 ms (events wait 11 ms at the median instead of 104 ms,
 * for about 2% more of a core while idle: docs/outbox.md).
 */
export function relayConfig(
  config: HostConfig,
  env: Readonly<Record<string, string | undefined>>,
): HostConfig {
  return env.KNSTATE_OUTBOX_POLL === undefined ? { ...config, outboxPollMs: RELAY_POLL_MS } : config;
}

/**
 * `knstate relay <function>...`: publish the outbox of the functions' publishing entities to
 * `K_SINK`, with no API: the pods of a function served with `KNSTATE_OUTBOX_RELAY=false` only
 * write the outbox, and the relay's HTTP client costs their commands no CPU. Answers the probes
 * on the serving port and scrapes on the metrics port; on SIGTERM or SIGINT it keeps publishing
 * for `KNSTATE_SINK_FLUSH_TIMEOUT`, then exits 0.
 */
export async function relay(options: ServeOptions): Promise<number> {
  const begun = startup("relay", options);
  if (typeof begun === "number") return begun;
  const { logger, paths } = begun;
  const config = relayConfig(begun.config, options.env);
  const [components, store] = await Promise.all([loadFunctions(paths), createStore(config, logger)]);
  let outbox;
  try {
    outbox = await relayFromConfig(config, store, components, logger);
    if (outbox === undefined) {
      throw new Error(
        config.sink === undefined
          ? "set K_SINK: the relay publishes the outbox there"
          : "no entity of these functions publishes (declare `publish`): there is no outbox to relay",
      );
    }
  } catch (error) {
    process.stderr.write(`knstate: ${(error as Error).message}\n`);
    await store.close();
    return 2;
  }
  const { relay } = outbox;
  const telemetry = createTelemetry({ config, logger, serveMetrics: createMetricsServer });
  const probes = createProbeServer({
    store,
    pingTimeoutMs: config.readinessTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    logger,
  });
  const port = await probes.listen(config.port, config.host);
  relay.start();
  const metricsPort = await telemetry.started({ registry: { entities: [] } });
  if (metricsPort !== undefined) whenMetricsReady(() => telemetry.metrics?.registry, relay);
  logger.info("knstate relaying the outbox", {
    port,
    metricsPort,
    store: store.name,
    service: config.service,
  });

  return untilSignal(logger, async (signal) => {
    logger.info(`${signal} received: publishing what is left`, { queued: relay.queued });
    await probes.close();
    await relay.stop(config.sinkFlushTimeoutMs);
    await store.close();
    await telemetry.close();
  });
}
