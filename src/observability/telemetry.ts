import type { HostConfig } from "../config/host-config.js";
import type { EntityModel } from "../entity/model.js";
import type { PipelineObserver } from "./pipeline-observer.js";
import type { AfterCommitFailures } from "./after-commit-metrics.js";
import { afterStartup } from "./after-startup.js";
import type { Logger } from "./logger.js";
import type { HostMetrics } from "./metrics.js";
import { TimerMetrics } from "./timer-metrics.js";
import {
  combineObservers,
  combineWrappers,
  commandLogObserver,
  isProbe,
  VOID_HOOKS,
  type WrapRequest,
} from "./observers.js";
import type { Tracing } from "./tracing.js";

export interface TelemetryOptions {
  /** Also gives the `faas_*` labels (`FAAS_*`, `POD_NAME`) and the flush timeout of the spans. */
  readonly config: HostConfig;
  readonly logger: Logger;
  /** From `startTracing`, when tracing is on. */
  readonly tracing?: Tracing | undefined;
  /** Other pipeline observers to call as well (e.g. the event publisher). */
  readonly observers?: readonly (PipelineObserver | undefined)[];
  /** The Redis store's work after commits: its failures are a counter. */
  readonly afterCommit?: AfterCommitFailures | undefined;
  /** Opens the metrics port (`createMetricsServer` of src/http), given the registry once loaded. */
  readonly serveMetrics: MetricsServerFactory;
}

/** The metrics port, as telemetry needs it. */
export interface MetricsServer {
  /** Resolves with the bound port. */
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/** Opens a metrics port that answers scrapes with `registry`'s exposition once it resolves. */
export type MetricsServerFactory = (
  registry: Promise<HostMetrics["registry"]>,
  logger: Logger,
) => MetricsServer;

/** What telemetry reads of the host: the declared entities, for their metric series. */
export interface TelemetryHost {
  readonly registry: { readonly entities: ReadonlyArray<Pick<EntityModel, "name" | "commandNames">> };
  /** Durable timers, when the host runs them: the pending count is a gauge. */
  readonly timers?: { pending(): Promise<number> } | undefined;
}

/** Metrics, tracing and per-command debug logs of one host, wired into its options. */
export interface Telemetry {
  /** Undefined when the metrics port is 0, and until `started`. */
  readonly metrics: HostMetrics | undefined;
  readonly observer: PipelineObserver;
  readonly wrapRequest: WrapRequest | undefined;
  /** Timer metrics (pass to the host as `timerObserver`). */
  readonly timerObserver: TimerMetrics;
  /**
   * Once the host listens: opens the metrics port and resolves with it. Shortly after, loads
   * prom-client, creates the series of the declared entities and records the cold start
   * (`process.uptime()` by default, as of this call); a scrape before then waits for them.
   */
  started(host: TelemetryHost, coldStartSeconds?: number): Promise<number | undefined>;
  /** Closes the metrics port and flushes the spans; call after the host closed. */
  close(): Promise<void>;
}

/**
 * The metrics' pipeline hooks and request wrapper before prom-client has loaded: prom-client
 * loads shortly after the host listens, off the cold-start path, and what happened before (the
 * first commands) is queued and replayed into the metrics once they exist.
 */
class DeferredMetrics {
  #target: HostMetrics | undefined;
  #queue: Array<(metrics: HostMetrics) => void> = [];
  readonly observer: PipelineObserver;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
    const observer: Record<string, (...args: unknown[]) => void> = {};
    // Only the hooks the metrics use: a present `handled` hook would make the pipeline time handlers.
    for (const name of VOID_HOOKS.filter((hook) => hook !== "handled" && hook !== "committed")) {
      observer[name] = (...args: unknown[]) => {
        const call = (metrics: HostMetrics) =>
          (metrics.observer[name] as ((...a: unknown[]) => void) | undefined)?.(...args);
        if (this.#target) call(this.#target);
        else this.#defer(call);
      };
    }
    this.observer = observer;
  }

  readonly wrapRequest: WrapRequest = (kind, req, res, next) => {
    if (this.#target) return this.#target.wrapRequest(kind, req, res, next);
    if (kind === "probe" || isProbe(req)) return next();
    const started = performance.now();
    res.once("close", () => {
      const seconds = (performance.now() - started) / 1000;
      const record = (metrics: HostMetrics) => metrics.requestFinished(kind, res.statusCode, seconds);
      if (this.#target) record(this.#target);
      else this.#defer(record);
    });
    return next();
  };

  attach(metrics: HostMetrics): void {
    this.#target = metrics;
    for (const call of this.#queue) call(metrics);
    this.#queue = [];
  }

  #defer(call: (metrics: HostMetrics) => void): void {
    // Bounded: prom-client loads within a second of listening; a flood before that is sampled out.
    if (this.#queue.length < this.#max) this.#queue.push(call);
  }
}

/**
 * Metrics (when the metrics port is on), tracing and per-command logs. The returned hooks
 * record from the first command on; prom-client itself is loaded by `started`, after the host
 * listens, so cold start does not pay for it.
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const { config, logger, tracing } = options;
  const deferred = config.metricsPort === 0 ? undefined : new DeferredMetrics(config.metricsStartupQueueMax);
  let metrics: HostMetrics | undefined;
  let server: MetricsServer | undefined;
  const timerObserver = new TimerMetrics();
  return {
    get metrics() {
      return metrics;
    },
    timerObserver,
    observer: combineObservers(
      deferred?.observer,
      tracing?.observer,
      commandLogObserver(logger),
      ...(options.observers ?? []),
    ),
    wrapRequest: combineWrappers(deferred?.wrapRequest, tracing?.wrapRequest),
    async started(host, coldStartSeconds = process.uptime()) {
      if (deferred === undefined) return undefined;
      // The port opens at once (a scrape waits for the registry); prom-client loads shortly
      // after, once the first commands of a cold start have been served.
      const registry = afterStartup(() => import("./metrics.js")).then(async ({ HostMetrics }) => {
        metrics = new HostMetrics({
          faas: {
            name: config.faasName ?? config.service,
            version: config.faasVersion ?? config.revision,
            instance: config.faasInstance ?? config.podName,
          },
          service: config.service,
          revision: config.revision,
          configuration: config.configuration,
          conflictRetries: config.conflictRetries,
        });
        metrics.declare(host.registry.entities);
        // The store connected during start-up; readiness checks keep this current.
        metrics.storeAvailable(true);
        metrics.faas.coldStart(coldStartSeconds);
        deferred.attach(metrics);
        const timers = host.timers;
        if (timers !== undefined) await timerObserver.register(metrics.registry, () => timers.pending());
        if (options.afterCommit !== undefined) {
          const { registerAfterCommitMetrics } = await import("./after-commit-metrics.js");
          await registerAfterCommitMetrics(metrics.registry, options.afterCommit);
        }
        return metrics.registry;
      });
      registry.catch((error: unknown) => logger.error("metrics could not be loaded", { error }));
      server = options.serveMetrics(registry, logger);
      return server.listen(config.metricsPort, config.host);
    },
    async close() {
      await Promise.all([server?.close(), tracing?.shutdown(config.tracesFlushTimeoutMs)]);
    },
  };
}
