import type { HostConfig } from "../config/host-config.js";
import type { Host } from "../host/host.js";
import type { PipelineObserver } from "../host/observer.js";
import { createMetricsServer, type MetricsServer } from "../http/metrics-server.js";
import type { Logger } from "./logger.js";
import type { HostMetrics } from "./metrics.js";
import { combineObservers, combineWrappers, commandLogObserver, type WrapRequest } from "./observers.js";
import type { Tracing } from "./tracing.js";

export interface TelemetryOptions {
  readonly config: HostConfig;
  /** For `POD_NAME` and the `FAAS_*` overrides of the `faas_*` labels. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  /** From `startTracing`, when tracing is on. */
  readonly tracing?: Tracing | undefined;
  /** Other pipeline observers to call as well (e.g. the event publisher). */
  readonly observers?: readonly (PipelineObserver | undefined)[];
}

/** Metrics, tracing and per-command debug logs of one host, wired into its options. */
export interface Telemetry {
  /** Undefined when the metrics port is 0. */
  readonly metrics: HostMetrics | undefined;
  readonly observer: PipelineObserver;
  readonly wrapRequest: WrapRequest | undefined;
  /**
   * Once the host listens: creates the series of its declared entities, records the cold start
   * (`process.uptime()` by default) and opens the metrics port. Resolves with that port.
   */
  started(host: Host, coldStartSeconds?: number): Promise<number | undefined>;
  /** Closes the metrics port and flushes the spans; call after the host closed. */
  close(): Promise<void>;
}

/**
 * Starts loading prom-client (when the metrics port is on) so that it overlaps other start-up
 * work such as loading the functions and connecting to Redis; `createTelemetry` then finds it
 * loaded.
 */
export function preloadTelemetry(config: HostConfig): Promise<unknown> {
  return config.metricsPort === 0 ? Promise.resolve() : import("./metrics.js");
}

/** Loads prom-client only when the metrics port is on (METRICS_PORT=0 skips it at start-up). */
export async function createTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const { config, env, logger, tracing } = options;
  const metrics =
    config.metricsPort === 0
      ? undefined
      : new (await import("./metrics.js")).HostMetrics({
          faas: {
            name: env.FAAS_NAME ?? config.service,
            version: env.FAAS_VERSION ?? config.revision,
            instance: env.FAAS_INSTANCE ?? env.POD_NAME,
          },
          service: config.service,
          revision: config.revision,
          configuration: config.configuration,
          conflictRetries: config.conflictRetries,
        });
  let server: MetricsServer | undefined;
  return {
    metrics,
    observer: combineObservers(
      metrics?.observer,
      tracing?.observer,
      commandLogObserver(logger),
      ...(options.observers ?? []),
    ),
    wrapRequest: combineWrappers(metrics?.wrapRequest, tracing?.wrapRequest),
    async started(host, coldStartSeconds = process.uptime()) {
      if (metrics === undefined) return undefined;
      metrics.declare(host.registry.entities);
      // The store connected during start-up; readiness checks keep this current.
      metrics.storeAvailable(true);
      metrics.faas.coldStart(coldStartSeconds);
      server = createMetricsServer(metrics.registry, logger);
      return server.listen(config.metricsPort, config.host);
    },
    async close() {
      await Promise.all([server?.close(), tracing?.shutdown()]);
    },
  };
}
