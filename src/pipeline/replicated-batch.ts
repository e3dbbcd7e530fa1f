import type { ReplicatedSnapshot } from "../entity/replicated/model.js";
import type {
  ReplicatedApplyRequest,
  ReplicatedBatchItem,
  ReplicatedBatchResult,
} from "../store/replicated/codec.js";
import type { ReplicatedStore } from "../store/replicated/replicated-store.js";
import type { EntityKey } from "../store/state-store.js";
import type { PipelineObserver, ReplicatedPath } from "./observer.js";
import { KnownStates } from "./replicated-known.js";
import { predictBatch } from "./replicated-predict.js";

/** A command's outcome in its batch, and every cell after the batch when one command asked. */
export interface BatchOutcome {
  readonly result: ReplicatedBatchItem;
  readonly all: ReplicatedSnapshot | undefined;
}

interface Queued {
  readonly request: ReplicatedApplyRequest;
  readonly needsAll: boolean;
  readonly resolve: (outcome: BatchOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/** Commands per script call: enough to drain a hot entity's queue, few enough to keep one call short. */
const MAX_BATCH = 256;

/**
 * Group commit for replicated entities: a command whose entity has no apply in flight on this
 * host goes to Redis at once; commands that arrive meanwhile wait, then go together in one
 * script call when it returns. Operations commute and each command keeps its own sequence,
 * dedup record and reply, so a batch is the same as its commands applied one after the
 * other — in one round trip, with one write per changed cell.
 *
 * Where the store offers it, a batch to an entity whose values this host knows (it was the last
 * to write them) is computed here and written as computed, if the entity is still at the
 * sequence it was computed on (replicated-known.ts, replicated-predict.ts): the script then
 * checks and writes, as an event-sourced append does, instead of applying each operation. A
 * stale prediction writes nothing, and the batch goes to the apply script at once.
 */
export class ReplicatedBatcher {
  readonly #store: () => ReplicatedStore;
  /** Entities with a batch in flight, and the commands waiting for it to return. */
  readonly #waiting = new Map<string, Queued[]>();
  readonly #known = new KnownStates();

  readonly #observer: PipelineObserver;
  readonly #predict: boolean;

  /** `predict`: write the batches this host can compute as computed (default true). */
  constructor(
    store: () => ReplicatedStore,
    options: { readonly observer?: PipelineObserver | undefined; readonly predict?: boolean } = {},
  ) {
    this.#store = store;
    this.#observer = options.observer ?? {};
    this.#predict = options.predict ?? true;
  }

  /** Applies `request` to `key`, alone or with others; `needsAll`: also return every cell. */
  apply(key: EntityKey, request: ReplicatedApplyRequest, needsAll: boolean): Promise<BatchOutcome> {
    return new Promise((resolve, reject) => {
      // Entity type names are [a-z0-9-] (entity/names.ts): the NUL keeps type and id apart.
      const id = `${key.entityType}\u0000${key.entityId}`;
      const queued: Queued = { request, needsAll, resolve, reject };
      const waiting = this.#waiting.get(id);
      if (waiting !== undefined) {
        waiting.push(queued);
        return;
      }
      this.#waiting.set(id, []);
      void this.#drain(id, key, [queued]);
    });
  }

  /** Sends batches for one entity until none is waiting. Never rejects: each command gets its outcome. */
  async #drain(id: string, key: EntityKey, first: Queued[]): Promise<void> {
    let batch = first;
    for (;;) {
      try {
        const { results, all } = await this.#send(id, key, batch);
        batch.forEach((q, i) => q.resolve({ result: results[i]!, all }));
      } catch (error) {
        this.#known.forget(id);
        for (const q of batch) q.reject(error);
      }
      const waiting = this.#waiting.get(id)!;
      if (waiting.length === 0) {
        this.#waiting.delete(id);
        return;
      }
      batch = waiting.splice(0, MAX_BATCH);
    }
  }

  /** One batch: predicted when this host knows the entity's values, else through the apply script. */
  async #send(id: string, key: EntityKey, batch: readonly Queued[]): Promise<ReplicatedBatchResult> {
    const store = this.#store();
    const requests = batch.map((q) => q.request);
    const needsAll = batch.some((q) => q.needsAll);
    if (store.applyPredicted === undefined || !this.#predict) {
      const result = await store.applyReplicatedBatch(key, requests, needsAll);
      this.#observer.replicatedBatch?.(key.entityType, "script", requests.length);
      return result;
    }
    let path: ReplicatedPath = "script";
    const cells = this.#known.cellsFor(id);
    if (cells !== undefined) {
      const prediction = predictBatch(key, cells, requests);
      if (prediction === undefined) {
        this.#known.unpredictable(id);
      } else {
        const written = await store.applyPredicted(key, prediction.batch);
        if (written.kind === "applied") {
          this.#known.applied(id, prediction.after);
          this.#observer.replicatedBatch?.(key.entityType, "predicted", requests.length);
          return prediction.outcome(written.nowMs, needsAll);
        }
        this.#known.stale(id);
        path = "stale";
      }
    }
    const withAll = this.#known.wantsAll(id) || needsAll;
    const result = await store.applyReplicatedBatch(key, requests, withAll);
    this.#known.settled(id, result.all);
    this.#observer.replicatedBatch?.(key.entityType, path, requests.length);
    return result;
  }
}
