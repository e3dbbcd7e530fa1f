import type { AppendRequest, DedupRecord, StateStore } from "../store/state-store.js";
import type { Decision } from "./decision.js";
import { toAppendRequest, type EncodeContext } from "./encode.js";
import type { CachedEntity } from "./entity-cache.js";
import type { PipelineObserver, TraceHandle } from "./observer.js";
import { EVENT_LOAD_OVERHEAD } from "./snapshot-policy.js";

export type CommitOutcome =
  /** Stored (or nothing to store on a current state); `entity` is the state to cache. */
  | {
      readonly kind: "committed";
      readonly entity: CachedEntity;
      readonly duplicates: ReadonlyMap<string, DedupRecord>;
    }
  /** Another replica changed the entity since it was loaded: reload and decide again. */
  | { readonly kind: "moved" }
  /** Some commands were applied already (a redelivery raced its first delivery): answer them, retry the rest. */
  | { readonly kind: "duplicate"; readonly duplicates: ReadonlyMap<string, DedupRecord> };

export interface CommitContext extends EncodeContext {
  readonly store: StateStore;
  readonly observer: PipelineObserver;
  /** The entity the decision was made on, with its measured size. */
  readonly base: CachedEntity;
  /** True when `base` came from the cache: a decision with nothing to store must check it is current. */
  readonly fromCache: boolean;
  /** Measure the state's size when it is serialized for a snapshot anyway (the cache is on). */
  readonly measure: boolean;
  readonly trace: TraceHandle | undefined;
}

const NONE: ReadonlyMap<string, DedupRecord> = new Map();

/** Commit: stores the decision's effects in one append against the version it was decided on. */
export async function commit(decision: Decision, context: CommitContext): Promise<CommitOutcome> {
  const { store, model, key, base } = context;
  if (!decision.changes) {
    if (!context.fromCache) return { kind: "committed", entity: base, duplicates: NONE };
    // Nothing to append, but the decision was made on a cached state: check it is current.
    const check = await store.check(key, context.dedupIds);
    if (check.version !== base.version) return { kind: "moved" };
    return { kind: "committed", entity: base, duplicates: check.duplicates };
  }
  const request = toAppendRequest(decision, context);
  const started = performance.now();
  const result = await store.append(request);
  if (result.kind === "conflict") return { kind: "moved" };
  if (result.kind === "duplicate") return { kind: "duplicate", duplicates: result.duplicates };
  const { observer, trace } = context;
  const commands = decision.verdicts.length;
  observer.appended?.(
    model.name,
    (performance.now() - started) / 1000,
    request.events.length,
    commands,
    trace,
  );
  if (model.logEvents && request.snapshot) observer.snapshotWritten?.(model.name);
  if (model.logEvents)
    observer.committed?.(model.name, key.entityId, base.version + 1, request.events, trace);
  const entity: CachedEntity = {
    state: decision.state,
    version: decision.version,
    jsonLength: sizeAfter(base, request, context.measure),
  };
  return { kind: "committed", entity, duplicates: NONE };
}

/**
 * The state's JSON length after an append: measured when the append wrote a snapshot (the
 * store serialized the state as well), else the last measure plus an estimate per event.
 */
function sizeAfter(base: CachedEntity, request: AppendRequest, measure: boolean): number {
  if (!measure) return 0;
  if (request.snapshot !== undefined)
    return (JSON.stringify(request.snapshot.state) as string | undefined)?.length ?? 0;
  return base.jsonLength + request.events.length * EVENT_LOAD_OVERHEAD;
}
