import type { Registry } from "prom-client";
import type { EntityModel } from "../entity/model.js";
import { Outcome, type ReplicatedPath } from "./pipeline-observer.js";
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

const OUTCOMES = Object.values(Outcome);

/** The label children of one entity type, created once and updated in place. */
export interface EntitySeries {
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
  /** Commands to a replicated entity written in batches, by path. */
  readonly replicated: Readonly<Record<ReplicatedPath, CounterChild>>;
  readonly commands: Map<string, CommandSeries>;
}

/** The label children of one command of an entity type. */
export interface CommandSeries {
  readonly duration: HistogramChild;
  readonly outcomes: Readonly<Record<Outcome, CounterChild>>;
}

/**
 * The `knstate_*` families the command pipeline feeds, registered in `registry`, and their label
 * children by entity type and command. Once `declare()` was called, anything undeclared is
 * recorded under `_unknown`, so entity ids or arbitrary CloudEvent types never become label values.
 */
export class PipelineSeries {
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
  readonly #replicatedWrites;

  constructor(r: Registry) {
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
    this.#replicatedWrites = new LeanCounter(
      "knstate_replicated_writes_total",
      "Commands to replicated entities written, by path: predicted (computed by the host, checked and written by Redis), script (applied by the apply script), stale (a prediction another writer overtook, then applied by the script).",
      r,
    );
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

  /** Series of an entity type; after `declare()`, `_unknown`'s for an undeclared one. */
  entity(entityType: string): EntitySeries {
    return this.#entities.get(entityType) ?? this.#entity(this.#declared ? UNKNOWN : entityType);
  }

  /** Series of a declared command; before `declare()`, of any command the pipeline names. */
  command(entityType: string, command: string): CommandSeries {
    const found = this.#entities.get(entityType)?.commands.get(command);
    if (found !== undefined) return found;
    if (this.#declared) return this.#command(this.#entity(UNKNOWN), UNKNOWN, UNKNOWN);
    return this.#command(this.#entity(entityType), entityType, command);
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
      replicated: {
        predicted: this.#replicatedWrites.labels({ ...l, path: "predicted" }),
        script: this.#replicatedWrites.labels({ ...l, path: "script" }),
        stale: this.#replicatedWrites.labels({ ...l, path: "stale" }),
      },
      commands: new Map(),
    };
    this.#entities.set(entityType, series);
    return series;
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
