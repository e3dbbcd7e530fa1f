import type { DomainEvent, EntityModel } from "../entity/model.js";
import type { CommandMeta, EventMetadata } from "../store/event-meta.js";
import type {
  AppendRequest,
  DedupRecord,
  EntityKey,
  OutboxMessage,
  Snapshot,
  StoredSize,
  TimerChange,
} from "../store/state-store.js";
import type { Decision } from "./decision.js";
import type { Job } from "./types.js";
import { writesSnapshot } from "./snapshot-policy.js";

export interface EncodeContext {
  readonly key: EntityKey;
  readonly model: EntityModel;
  /** Dedup ids of the batch's commands, none of which may be stored yet. */
  readonly dedupIds: readonly string[];
  readonly dedupTtlMs: number;
  /** What the load before this decision read; absent when the state came from the cache. */
  readonly replay: StoredSize | undefined;
  /** What is recorded of each command with its first event (absent: nothing). */
  readonly metadata?: EventMetadata | undefined;
}

/**
 * Encode: the store's one atomic append for a decision, with every accepted command's effects
 * in order. A new kind of effect is gathered here, into its optional field of `AppendRequest`.
 */
export function toAppendRequest(decision: Decision, context: EncodeContext): AppendRequest {
  const { model } = context;
  const events: DomainEvent[] = [];
  const writeDedup: Array<readonly [string, DedupRecord]> = [];
  const timers: TimerChange[] = [];
  const outbox: OutboxMessage[] = [];
  const level = model.logEvents ? (context.metadata ?? "off") : "off";
  const meta: Array<CommandMeta | null> | undefined = level === "off" ? undefined : [];
  const time = meta === undefined ? 0 : Date.now();
  for (const verdict of decision.verdicts) {
    if (!("effects" in verdict)) continue;
    for (const event of verdict.effects.events) events.push(event);
    const n = verdict.effects.events.length;
    if (meta !== undefined && n > 0) {
      meta.push(commandMeta(verdict.job, time, level === "full"));
      for (let i = 1; i < n; i++) meta.push(null);
    }
    if (verdict.dedup !== undefined) writeDedup.push(verdict.dedup);
    // ── Effects of the next capabilities: gather each one here. ──
    if (verdict.effects.timers !== undefined) timers.push(...verdict.effects.timers);
    if (verdict.effects.outbox !== undefined) for (const m of verdict.effects.outbox) outbox.push(m);
  }
  const from = decision.base.version;
  const snapshot = writesSnapshot(model, from, decision.version, context.replay);
  return {
    key: context.key,
    expectedVersion: from,
    events,
    logEvents: model.logEvents,
    snapshot: snapshot ? snapshotOf(model, decision.version, decision.state) : undefined,
    checkDedup: context.dedupIds,
    writeDedup,
    dedupTtlMs: context.dedupTtlMs,
    ...(timers.length > 0 ? { timers } : {}),
    ...(outbox.length > 0 ? { outbox } : {}),
    ...(meta === undefined ? {} : { meta }),
  };
}

/** What is recorded of a command: its time and trace id, and with `full` its CloudEvent's id and source. */
function commandMeta(job: Job, time: number, full: boolean): CommandMeta {
  const { trace, event } = job.request;
  const traceId = trace?.traceId;
  if (!full || event === undefined) return traceId === undefined ? { time } : { time, traceId };
  return { time, traceId, eventId: event.id, source: event.source };
}

/** A snapshot with what the entity model needs to trust it at the next load. */
function snapshotOf(model: EntityModel, version: number, state: unknown): Snapshot {
  // A value entity's state is its data whatever the handlers: its version is enough.
  if (model.logEvents)
    return { version, state, schemaVersion: model.schemaVersion, fingerprint: model.fingerprint };
  return model.schemaVersion === 1
    ? { version, state }
    : { version, state, schemaVersion: model.schemaVersion };
}
