import type { IncomingMessage, ServerResponse } from "node:http";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { EntityModel } from "../entity/model.js";
import type { PipelineObserver } from "./pipeline-observer.js";
import { FaasMetrics, type FaasIdentity } from "./faas-metrics.js";
import { isProbe } from "./observers.js";
import { LeanCounter, type CounterChild } from "./lean-metrics.js";
import { PipelineSeries, UNKNOWN } from "./pipeline-series.js";

export { DURATION_BUCKETS, REPLAY_BUCKETS, UNKNOWN } from "./pipeline-series.js";

export type RequestKind = "cloudevent" | "api" | "probe";

export interface MetricsOptions {
  readonly faas: FaasIdentity;
  /** Knative names of this deployment, for `knstate_info`. */
  readonly service: string;
  readonly revision?: string | undefined;
  readonly configuration?: string | undefined;
  /** Retries the dispatcher makes after a conflict: conflicts past it are not retried. */
  readonly conflictRetries: number;
  /** Process metrics (event-loop lag, heap, GC); on by default. */
  readonly processMetrics?: boolean;
}

const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

/**
 * The host's Prometheus metrics, in a registry of its own (never prom-client's global one):
 * `knstate_*` series fed by the command pipeline, the HTTP request counter, the `faas_*` series
 * of Knative Functions, and the process metrics. Label children are created once per declared
 * entity type and command and reused (see `pipeline-series.ts`), and are plain objects updated
 * in place (see `lean-metrics.ts`), so recording a command costs well under a microsecond;
 * entity ids never become label values.
 */
export class HostMetrics {
  readonly registry = new Registry();
  readonly faas: FaasMetrics;
  readonly #options: MetricsOptions;
  readonly #pipeline: PipelineSeries;
  readonly #storeUp;
  readonly #inFlight;
  readonly #requests: Readonly<Record<"cloudevent" | "api", CounterChild[]>>;

  constructor(options: MetricsOptions) {
    this.#options = options;
    const registers = [this.registry];
    const r = this.registry;
    this.#pipeline = new PipelineSeries(r);
    this.#storeUp = new Gauge({
      name: "knstate_store_up",
      help: "1 when the state store answered the last readiness check, 0 when it did not.",
      registers,
    });
    this.#inFlight = new Gauge({
      name: "knstate_commands_in_flight",
      help: "Commands accepted and not yet answered.",
      registers,
    });
    const requests = new LeanCounter(
      "knstate_http_requests_total",
      "Requests on the public port by kind (cloudevent, api) and status class; probes excluded.",
      r,
    );
    const children = (kind: string) =>
      STATUS_CLASSES.map((status_class) => requests.labels({ kind, status_class }));
    this.#requests = { cloudevent: children("cloudevent"), api: children("api") };

    const info = new Gauge({
      name: "knstate_info",
      // Not `service`/`revision`: Prometheus target labels for Knative pods use those names.
      help: "Always 1; labels name the Knative service, revision and configuration (K_SERVICE, K_REVISION, K_CONFIGURATION).",
      labelNames: ["k_service", "k_revision", "k_configuration"],
      registers,
    });
    info.set(
      {
        k_service: options.service,
        k_revision: options.revision ?? "",
        k_configuration: options.configuration ?? "",
      },
      1,
    );
    this.faas = new FaasMetrics(this.registry, options.faas);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Creates every series of the declared entities and commands at zero (so rates start from
   * the first command), and from then on records anything else under `_unknown`.
   */
  declare(entities: ReadonlyArray<Pick<EntityModel, "name" | "commandNames">>): void {
    this.#pipeline.declare(entities);
  }

  /** The pipeline hooks that feed the `knstate_*` series. */
  readonly observer: PipelineObserver = {
    commandFinished: (entityType, command, outcome, seconds) => {
      const series = this.#pipeline.command(entityType, command);
      series.outcomes[outcome].inc();
      series.duration.observe(seconds);
    },
    invalidCommand: (entityType, command) => {
      this.#pipeline.command(entityType ?? UNKNOWN, command ?? UNKNOWN).outcomes.invalid.inc();
    },
    stateLoaded: (entityType, seconds, eventsReplayed) => {
      const series = this.#pipeline.entity(entityType);
      series.load.observe(seconds);
      series.replayed.observe(eventsReplayed);
    },
    appended: (entityType, seconds, events) => {
      const series = this.#pipeline.entity(entityType);
      series.append.observe(seconds);
      series.appended.inc(events);
    },
    conflict: (entityType, attempt) => {
      const series = this.#pipeline.entity(entityType);
      series.conflicts.inc();
      if (attempt <= this.#options.conflictRetries) series.retries.inc();
    },
    dedupHit: (entityType) => this.#pipeline.entity(entityType).dedup.inc(),
    replicatedBatch: (entityType, path, commands) =>
      this.#pipeline.entity(entityType).replicated[path].inc(commands),
    cacheLookup: (entityType, hit) => {
      const series = this.#pipeline.entity(entityType);
      (hit ? series.cacheHit : series.cacheMiss).inc();
    },
    snapshotWritten: (entityType) => this.#pipeline.entity(entityType).snapshots.inc(),
    inFlight: (delta) => this.#inFlight.inc(delta),
    storeAvailability: (up) => this.#storeUp.set(up ? 1 : 0),
  };

  /**
   * Counts requests on the public port (`HostOptions.wrapRequest`): the HTTP counter and the
   * `faas_*` invocations. Probes (kind `probe`, or `User-Agent: kube-probe/…`) are not traffic.
   */
  readonly wrapRequest = (
    kind: RequestKind,
    req: IncomingMessage,
    res: ServerResponse,
    next: () => Promise<void> | void,
  ): Promise<void> | void => {
    if (kind === "probe" || isProbe(req)) return next();
    const started = performance.now();
    res.once("close", () => this.requestFinished(kind, res.statusCode, (performance.now() - started) / 1000));
    return next();
  };

  /** Counts one answered request on the public port (not a probe). */
  requestFinished(kind: "cloudevent" | "api", status: number, seconds: number): void {
    this.#requests[kind][Math.min(4, Math.max(0, Math.floor(status / 100) - 1))]?.inc();
    this.faas.invoked(status, seconds);
  }

  /** The state store's availability, e.g. once it connected at start. */
  storeAvailable(up: boolean): void {
    this.#storeUp.set(up ? 1 : 0);
  }

  /** The Prometheus text exposition of every series. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
