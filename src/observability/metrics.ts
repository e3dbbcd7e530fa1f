import type { IncomingMessage, ServerResponse } from "node:http";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { EntityModel } from "../entity/model.js";
import { Outcome, type PipelineObserver } from "./pipeline-observer.js";
import { FaasMetrics, type FaasIdentity } from "./faas-metrics.js";
import { isProbe } from "./observers.js";
import { LeanCounter, LeanHistogram, type CounterChild, type HistogramChild } from "./lean-metrics.js";

/** Buckets of command, load and append durations: a command takes 1 ms to 1 s. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Buckets of the events replayed by one state load (snapshots keep this small). */
export const REPLAY_BUCKETS = [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000];

/**
 * The label value of commands that name no declared entity or command (unknown CloudEvent
 * types): label values stay bounded by what the function declares.
 */
export const UNKNOWN = "_unknown";

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

const OUTCOMES = Object.values(Outcome);
const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

interface EntitySeries {
  readonly load: HistogramChild;
  readonly replayed: HistogramChild;
  readonly append: HistogramChild;
  readonly appended: CounterChild;
  readonly conflicts: CounterChild;
  readonly retries: CounterChild;
  readonly dedup: CounterChild;
  readonly cacheHit: CounterChild;
  readonly cacheMiss: CounterChild;
  readonly snapshots: CounterChild;
  readonly commands: Map<string, CommandSeries>;
}

interface CommandSeries {
  readonly duration: HistogramChild;
  readonly outcomes: Readonly<Record<Outcome, CounterChild>>;
}

/**
 * The host's Prometheus metrics, in a registry of its own (never prom-client's global one):
 * `knstate_*` series fed by the command pipeline, the HTTP request counter, the `faas_*` series
 * of Knative Functions, and the process metrics. Label children are created once per declared
 * entity type and command and reused, and are plain objects updated in place (see
 * `lean-metrics.ts`), so recording a command costs well under a microsecond; entity ids never
 * become label values.
 */
export class HostMetrics {
  readonly registry = new Registry();
  readonly faas: FaasMetrics;
  readonly #options: MetricsOptions;
  readonly #entities = new Map<string, EntitySeries>();
  #declared = false;
  readonly #commandsTotal;
  readonly #commandDuration;
  readonly #loadDuration;
  readonly #replayed;
  readonly #appendDuration;
  readonly #appendedEvents;
  readonly #conflicts;
  readonly #retries;
  readonly #dedupHits;
  readonly #cacheLookups;
  readonly #snapshots;
  readonly #storeUp;
  readonly #inFlight;
  readonly #requests: Readonly<Record<"cloudevent" | "api", CounterChild[]>>;

  constructor(options: MetricsOptions) {
    this.#options = options;
    const registers = [this.registry];
    const r = this.registry;
    this.#commandsTotal = new LeanCounter(
      "knstate_commands_total",
      "Commands handled, by entity type, command and outcome (ok, rejected, invalid, conflict-exhausted, error).",
      r,
    );
    this.#commandDuration = new LeanHistogram(
      "knstate_command_duration_seconds",
      "Time from accepting a command to its answer (queueing, load, handler, append).",
      DURATION_BUCKETS,
      r,
    );
    this.#loadDuration = new LeanHistogram(
      "knstate_state_load_duration_seconds",
      "Time to load an entity's state from the store (snapshot and events since).",
      DURATION_BUCKETS,
      r,
    );
    this.#replayed = new LeanHistogram(
      "knstate_state_load_replayed_events",
      "Events replayed on top of the snapshot by one state load.",
      REPLAY_BUCKETS,
      r,
    );
    this.#appendDuration = new LeanHistogram(
      "knstate_append_duration_seconds",
      "Time of one conditional append (one or more commands' events) to the store.",
      DURATION_BUCKETS,
      r,
    );
    this.#appendedEvents = new LeanCounter("knstate_appended_events_total", "Events appended.", r);
    this.#conflicts = new LeanCounter(
      "knstate_conflicts_total",
      "Optimistic-concurrency conflicts: another replica changed the entity first.",
      r,
    );
    this.#retries = new LeanCounter(
      "knstate_conflict_retries_total",
      "Conflicts followed by a reload and a retry (the rest exhausted the retry budget).",
      r,
    );
    this.#dedupHits = new LeanCounter(
      "knstate_dedup_hits_total",
      "Redelivered commands answered from their dedup record instead of running again.",
      r,
    );
    this.#cacheLookups = new LeanCounter(
      "knstate_cache_lookups_total",
      "Lookups of an entity's state in the in-process cache, by result (hit, miss).",
      r,
    );
    this.#snapshots = new LeanCounter("knstate_snapshots_written_total", "State snapshots written.", r);
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
    for (const model of entities) {
      const series = this.#entity(model.name);
      for (const command of model.commandNames) this.#command(series, model.name, command);
    }
    this.#declared = true;
  }

  /** The pipeline hooks that feed the `knstate_*` series. */
  readonly observer: PipelineObserver = {
    commandFinished: (entityType, command, outcome, seconds) => {
      const series = this.#commandSeries(entityType, command);
      series.outcomes[outcome].inc();
      series.duration.observe(seconds);
    },
    invalidCommand: (entityType, command) => {
      this.#commandSeries(entityType ?? UNKNOWN, command ?? UNKNOWN).outcomes.invalid.inc();
    },
    stateLoaded: (entityType, seconds, eventsReplayed) => {
      const series = this.#series(entityType);
      series.load.observe(seconds);
      series.replayed.observe(eventsReplayed);
    },
    appended: (entityType, seconds, events) => {
      const series = this.#series(entityType);
      series.append.observe(seconds);
      series.appended.inc(events);
    },
    conflict: (entityType, attempt) => {
      const series = this.#series(entityType);
      series.conflicts.inc();
      if (attempt <= this.#options.conflictRetries) series.retries.inc();
    },
    dedupHit: (entityType) => this.#series(entityType).dedup.inc(),
    cacheLookup: (entityType, hit) => {
      const series = this.#series(entityType);
      (hit ? series.cacheHit : series.cacheMiss).inc();
    },
    snapshotWritten: (entityType) => this.#series(entityType).snapshots.inc(),
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

  #series(entityType: string): EntitySeries {
    return this.#entities.get(entityType) ?? this.#entity(this.#declared ? UNKNOWN : entityType);
  }

  #entity(entityType: string): EntitySeries {
    let series = this.#entities.get(entityType);
    if (series !== undefined) return series;
    const l = { entity_type: entityType };
    series = {
      load: this.#loadDuration.labels(l),
      replayed: this.#replayed.labels(l),
      append: this.#appendDuration.labels(l),
      appended: this.#appendedEvents.labels(l),
      conflicts: this.#conflicts.labels(l),
      retries: this.#retries.labels(l),
      dedup: this.#dedupHits.labels(l),
      cacheHit: this.#cacheLookups.labels({ ...l, result: "hit" }),
      cacheMiss: this.#cacheLookups.labels({ ...l, result: "miss" }),
      snapshots: this.#snapshots.labels(l),
      commands: new Map(),
    };
    this.#entities.set(entityType, series);
    return series;
  }

  /** Series of a declared command; before `declare()`, of any command the pipeline names. */
  #commandSeries(entityType: string, command: string): CommandSeries {
    const found = this.#entities.get(entityType)?.commands.get(command);
    if (found !== undefined) return found;
    if (this.#declared) return this.#command(this.#entity(UNKNOWN), UNKNOWN, UNKNOWN);
    return this.#command(this.#entity(entityType), entityType, command);
  }

  #command(entity: EntitySeries, entityType: string, command: string): CommandSeries {
    const found = entity.commands.get(command);
    if (found !== undefined) return found;
    const l = { entity_type: entityType, command };
    const outcomes = {} as Record<Outcome, CounterChild>;
    for (const outcome of OUTCOMES) outcomes[outcome] = this.#commandsTotal.labels({ ...l, outcome });
    const series: CommandSeries = { duration: this.#commandDuration.labels(l), outcomes };
    entity.commands.set(command, series);
    return series;
  }
}
