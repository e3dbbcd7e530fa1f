import type { EntityModel } from "../entity/model.js";
import { UnreadableEvent } from "../entity/evolution.js";
import { UnreadableState } from "../entity/snapshots.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { EntityKey, LoadedEntity, StateStore } from "../store/state-store.js";

/** The state a load folded, and whether its snapshot must be written again. */
export interface Folded {
  readonly state: unknown;
  /** The snapshot was not used (another definition wrote it) or was migrated: write a fresh one. */
  readonly rewriteSnapshot: boolean;
}

/**
 * Folds what a load read into the entity's state under the current definition: the snapshot
 * when `model.acceptSnapshot` trusts it (migrated through `upcastState` if it says so), else
 * every event from version 1 (read from the store) and from the initial state; old events go
 * through the upcasters. A stored event or state this definition cannot read is a 503 problem
 * naming the entity, the event and its schema version, never a silently wrong state.
 */
export async function foldLoaded(
  store: StateStore,
  model: EntityModel,
  key: EntityKey,
  loaded: LoadedEntity,
): Promise<Folded> {
  try {
    let state: unknown;
    let rewriteSnapshot = false;
    const { snapshot } = loaded;
    if (snapshot === undefined) state = model.initialState(key.entityId);
    else {
      const verdict = model.acceptSnapshot(snapshot);
      if (verdict.use) {
        state = verdict.state;
        rewriteSnapshot = verdict.migrated;
      } else {
        rewriteSnapshot = true;
        const trimmed = (await store.trimmedThrough?.(key)) ?? 0;
        if (trimmed > 0)
          throw new UnreadableState(
            model.name,
            snapshot.schemaVersion ?? 1,
            `its snapshot at version ${snapshot.version} was written by another definition and its events up to version ${trimmed} were deleted by KNSTATE_RETAIN_EVENTS, so the state cannot be rebuilt; declare upcastState for schema version ${snapshot.schemaVersion ?? 1}`,
          );
        state = model.initialState(key.entityId);
        for (const event of await store.readEvents(key, 1, snapshot.version))
          state = model.apply(state, event);
      }
    }
    for (const event of loaded.events) state = model.apply(state, event);
    return { state, rewriteSnapshot };
  } catch (error) {
    throw unreadable(error, key);
  }
}

/** `UnreadableEvent`/`UnreadableState` as the 503 problem; anything else as it is. */
export function unreadable(error: unknown, key: EntityKey): unknown {
  if (error instanceof UnreadableEvent)
    return new HostError(Problem.unreadableState, error.message, {
      cause: error,
      extensions: {
        entity: error.entity,
        entityId: key.entityId,
        event: error.eventType,
        schemaVersion: error.schemaVersion,
      },
    });
  if (error instanceof UnreadableState)
    return new HostError(Problem.unreadableState, error.message, {
      cause: error,
      extensions: { entity: error.entity, entityId: key.entityId, schemaVersion: error.schemaVersion },
    });
  return error;
}
