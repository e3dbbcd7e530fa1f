import type { EntityModel } from "../entity/model.js";
import type { LoadedEntity, StoredSize } from "../store/state-store.js";

/**
 * What an event costs a load beyond its JSON: a stream entry for Redis to read and send, a
 * reply to parse, a handler to run. Keeps a state that is small next to its events (a counter)
 * from being rebuilt from events at every load.
 */
export const EVENT_LOAD_OVERHEAD = 64;

/**
 * The cost of a load as read, events weighted with their overhead: once the events after the
 * snapshot cost more to read than the snapshot itself, the append that follows writes a new
 * snapshot (besides every `snapshotEvery` events). Entities loaded at every command (the cache
 * off, or more entities than it holds) then replay a few events rather than up to
 * `snapshotEvery`, while a large state is still not rewritten for every small event.
 */
export function replayCost(loaded: LoadedEntity): StoredSize {
  const stored = loaded.stored ?? { snapshot: 0, events: 0 };
  return { snapshot: stored.snapshot, events: stored.events + loaded.events.length * EVENT_LOAD_OVERHEAD };
}

/** True when an append from `from` to `to` passes a multiple of `every`. */
export function crossesBoundary(from: number, to: number, every: number): boolean {
  return Math.floor(to / every) > Math.floor(from / every);
}

/**
 * Whether the append from `from` to `to` writes the state: always for value entities (the
 * snapshot is their only copy), at `snapshotEvery` boundaries, and when the load just done
 * (`replay`, absent when the state came from the cache) replayed more than the snapshot costs.
 */
export function writesSnapshot(
  model: EntityModel,
  from: number,
  to: number,
  replay: StoredSize | undefined,
): boolean {
  return (
    !model.logEvents ||
    crossesBoundary(from, to, model.snapshotEvery) ||
    (replay !== undefined && replay.events >= replay.snapshot)
  );
}
