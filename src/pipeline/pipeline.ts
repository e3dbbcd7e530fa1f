import { setTimeout as sleep } from "node:timers/promises";
import type { EntityModel } from "../entity/model.js";
import { HostError, toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { EntityKey, StoredSize } from "../store/state-store.js";
import { commit } from "./commit.js";
import { decide } from "./decide.js";
import { EntityCache, type CachedEntity } from "./entity-cache.js";
import { EntityQueues } from "./entity-queue.js";
import { load, REWRITE } from "./load.js";
import { noopObserver, type PipelineObserver } from "./observer.js";
import { read, type ReadContext } from "./read.js";
import type { ReplicatedModel } from "../entity/replicated/model.js";
import { isReplicatedRequest, ReplicatedRunner, type AnyCommandRequest } from "./replicated.js";
import { Settler } from "./settle.js";
import {
  contextOf,
  entityId,
  type CommandReply,
  type CommandRequest,
  type EntitySnapshot,
  type Job,
  type PipelineOptions,
} from "./types.js";

/** The cache's byte budget when the options give none (see `cacheMaxBytes` in the settings). */
export const DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Runs commands as named steps: queue (per entity, group commit) → load → decide → commit →
 * settle; when another replica appended first, reload and decide again within the retry
 * budget. Reads take their own path (`read.ts`) and never enter a queue.
 */
export class Pipeline {
  readonly #options: PipelineOptions;
  readonly #observer: PipelineObserver;
  readonly #cache: EntityCache | undefined;
  readonly #queues: EntityQueues<Job>;
  readonly #settler: Settler;
  readonly #reads: ReadContext;
  /** Replicated entities take their own branch: no queue, no version check, no retry. */
  readonly #replicated: ReplicatedRunner;

  constructor(options: PipelineOptions) {
    this.#options = options;
    this.#observer = options.observer ?? noopObserver;
    const { cache, groupCommit } = options;
    this.#cache = cache.enabled
      ? new EntityCache({
          maxEntities: cache.maxEntities,
          maxBytes: cache.maxBytes ?? DEFAULT_CACHE_MAX_BYTES,
        })
      : undefined;
    this.#queues = new EntityQueues(groupCommit.enabled ? groupCommit.maxBatch : 1, (id, jobs) =>
      this.#run(id, jobs),
    );
    this.#settler = new Settler(this.#observer);
    this.#reads = { store: options.store, observer: this.#observer, cache: this.#cache };
    this.#replicated = new ReplicatedRunner({ ...options, settler: this.#settler, observer: this.#observer });
  }

  /** Commands and reads accepted and not yet answered. */
  get active(): number {
    return this.#settler.active;
  }

  dispatch(request: AnyCommandRequest): Promise<CommandReply> {
    if (isReplicatedRequest(request)) return this.#replicated.dispatch(request);
    return new Promise((resolve, reject) => {
      this.#settler.begin();
      const job: Job = {
        request: request as CommandRequest,
        ctx: contextOf(request as CommandRequest),
        startedAt: performance.now(),
        resolve,
        reject,
      };
      this.#queues.push(entityId(request.model.name, request.entityId), job);
    });
  }

  /** The entity's current state and version, as fresh as any write acknowledged before the call. */
  async read(model: EntityModel | ReplicatedModel, id: string): Promise<EntitySnapshot> {
    if (model.kind === "replicated") return this.#replicated.read(model, id);
    this.#settler.begin();
    try {
      return await read(this.#reads, model, id);
    } finally {
      this.#settler.end();
    }
  }

  /** Resolves when nothing is in flight, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    return this.#settler.drain(timeoutMs);
  }

  /** One batch of one entity's queue, through every step until each command is answered. */
  async #run(id: string, jobs: readonly Job[]): Promise<void> {
    const { model, trace } = jobs[0]!.request;
    const key: EntityKey = { entityType: model.name, entityId: jobs[0]!.request.entityId };
    const { store, dedupTtlMs } = this.#options;
    const settler = this.#settler;
    let pending = jobs;
    let reload = this.#cache === undefined;
    let conflicts = 0;
    try {
      while (pending.length > 0) {
        const dedupIds = dedupIdsOf(pending);
        let base: CachedEntity | undefined = reload ? undefined : this.#cache?.get(id);
        if (!reload && this.#cache) this.#observer.cacheLookup?.(model.name, base !== undefined);
        const fromCache = base !== undefined;
        let replay: StoredSize | undefined;
        if (base === undefined) {
          const loaded = await load(store, model, key, dedupIds, this.#observer, trace);
          ({ entity: base, replay } = loaded);
          this.#cache?.set(id, base);
          pending = settler.settleDuplicates(pending, loaded.duplicates);
        }
        reload = false;
        if (fromCache && base.staleSnapshot) replay = REWRITE;

        const decision = decide(pending, base, { newId: this.#options.newId, observer: this.#observer });
        const observer = this.#observer;
        const measure = this.#cache !== undefined;
        const context = {
          store,
          observer,
          model,
          key,
          dedupIds,
          dedupTtlMs,
          replay,
          base,
          fromCache,
          measure,
          trace,
          metadata: this.#options.eventMetadata,
        };
        const outcome = await commit(decision, context);
        if (outcome.kind === "committed") {
          if (decision.changes) this.#cache?.set(id, outcome.entity);
          const rest = settler.settleDuplicates(pending, outcome.duplicates);
          settler.settle(
            rest === pending ? decision.verdicts : decision.verdicts.filter((v) => rest.includes(v.job)),
          );
          return;
        }
        this.#cache?.delete(id);
        reload = true;
        if (outcome.kind === "duplicate") {
          pending = settler.settleDuplicates(pending, outcome.duplicates);
          continue;
        }
        // Another replica changed the entity: reload and decide again, up to the retry budget.
        conflicts++;
        this.#observer.conflict?.(model.name, conflicts, trace);
        if (conflicts > this.#options.conflictRetries) {
          const detail = `entity ${model.name}/${key.entityId} changed concurrently ${conflicts} times; retry later`;
          settler.fail(pending, new HostError(Problem.conflictExhausted, detail, { retryAfterSeconds: 1 }));
          return;
        }
        const { base: b, max } = this.#options.retryBackoffMs;
        await sleep(Math.random() * Math.min(max, b * 2 ** (conflicts - 1)));
      }
    } catch (error) {
      this.#cache?.delete(id);
      settler.fail(pending, toHostError(error));
    }
  }
}

function dedupIdsOf(jobs: readonly Job[]): string[] {
  const ids: string[] = [];
  for (const job of jobs) if (job.request.dedupId !== undefined) ids.push(job.request.dedupId);
  return ids;
}
