import type { EntityModel } from "../entity/model.js";
import { toHostError } from "../errors/host-error.js";
import type { StateStore } from "../store/state-store.js";
import type { EntityCache } from "./entity-cache.js";
import { load } from "./load.js";
import type { PipelineObserver } from "./observer.js";
import { entityId, type EntitySnapshot } from "./types.js";

export interface ReadContext {
  readonly store: StateStore;
  readonly observer: PipelineObserver;
  /** Absent when the cache is off. */
  readonly cache: EntityCache | undefined;
}

/**
 * The read path: an entity's state and version, as fresh as any write acknowledged before the
 * call. It does not queue behind the entity's commands: a cached state is used once the store
 * confirms its version (one round trip), otherwise the entity is loaded.
 */
export async function read(context: ReadContext, model: EntityModel, id: string): Promise<EntitySnapshot> {
  const { store, observer, cache } = context;
  const key = { entityType: model.name, entityId: id };
  const cacheKey = entityId(model.name, id);
  try {
    const cached = cache?.get(cacheKey);
    if (cache) observer.cacheLookup?.(model.name, cached !== undefined);
    if (cached !== undefined) {
      const check = await store.check(key, []);
      if (check.version === cached.version) return { state: cached.state, version: cached.version };
    }
    const { entity } = await load(store, model, key, [], observer, undefined);
    cache?.offer(cacheKey, entity);
    return { state: entity.state, version: entity.version };
  } catch (error) {
    throw toHostError(error);
  }
}
