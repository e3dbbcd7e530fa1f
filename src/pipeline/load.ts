import type { EntityModel } from "../entity/model.js";
import type { DedupRecord, EntityKey, StateStore, StoredSize } from "../store/state-store.js";
import type { CachedEntity } from "./entity-cache.js";
import { foldLoaded } from "./evolve.js";
import type { PipelineObserver, TraceHandle } from "./observer.js";
import { replayCost } from "./snapshot-policy.js";

/** The size counted for an entity with nothing stored yet (its initial state is not serialized to measure it). */
export const NEW_ENTITY_JSON_LENGTH = 64;

/** A replay cost that makes the next append write a snapshot. */
export const REWRITE: StoredSize = Object.freeze({ snapshot: 0, events: Number.MAX_SAFE_INTEGER });

export interface Loaded {
  readonly entity: CachedEntity;
  /** What the load read, to weigh writing a snapshot with the next append. */
  readonly replay: StoredSize;
  /** Dedup records found among the ids asked for: those commands were applied already. */
  readonly duplicates: ReadonlyMap<string, DedupRecord>;
}

/** Load: the entity's latest snapshot and the events after it from the store, folded into its state. */
export async function load(
  store: StateStore,
  model: EntityModel,
  key: EntityKey,
  dedupIds: readonly string[],
  observer: PipelineObserver,
  trace: TraceHandle | undefined,
): Promise<Loaded> {
  const started = performance.now();
  const loaded = await store.load(key, dedupIds);
  const { state, rewriteSnapshot } = await foldLoaded(store, model, key, loaded);
  const seconds = (performance.now() - started) / 1000;
  observer.stateLoaded?.(model.name, seconds, loaded.events.length, trace);
  const stored = loaded.stored;
  const jsonLength = stored === undefined ? NEW_ENTITY_JSON_LENGTH : stored.snapshot + stored.events;
  return {
    entity: rewriteSnapshot
      ? { state, version: loaded.version, jsonLength, staleSnapshot: true }
      : { state, version: loaded.version, jsonLength },
    // A snapshot not used or migrated is written again with the next append.
    replay: rewriteSnapshot ? REWRITE : replayCost(loaded),
    duplicates: loaded.duplicates,
  };
}
