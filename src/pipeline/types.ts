import type { Caller } from "../entity/access.js";
import type { CommandContext } from "../entity/define.js";
import type { EntityModel } from "../entity/model.js";
import type { EventMetadata } from "../store/event-meta.js";
import type { StateStore } from "../store/state-store.js";
import type { PipelineObserver, TraceHandle } from "./observer.js";

export interface PipelineOptions {
  readonly store: StateStore;
  /**
   * Keep recently used entities' state in process and append against it (one round trip).
   * `maxBytes` bounds the cache by the estimated size of the states it holds (see entity-cache.ts).
   */
  readonly cache: { readonly enabled: boolean; readonly maxEntities: number; readonly maxBytes?: number };
  /** Apply commands queued for one entity together, in one append. */
  readonly groupCommit: { readonly enabled: boolean; readonly maxBatch: number };
  /** Attempts after the first when another replica appended first. */
  readonly conflictRetries: number;
  readonly retryBackoffMs: { readonly base: number; readonly max: number };
  readonly dedupTtlMs: number;
  /**
   * Replicated entities: write the batches this host can compute as computed (see
   * replicated-batch.ts; `KNSTATE_REPLICATED_PREDICT`, default on).
   */
  readonly replicatedPredict?: boolean;
  /** What is recorded of each command with its events (`KNSTATE_EVENT_METADATA`; default off). */
  readonly eventMetadata?: EventMetadata | undefined;
  readonly observer?: PipelineObserver;
  readonly newId: () => string;
}

export interface CommandRequest {
  readonly model: EntityModel;
  readonly entityId: string;
  readonly command: string;
  /** Already validated against the command's input schema. */
  readonly data: unknown;
  /** `source`+`id` of a CloudEvent, or an HTTP `Idempotency-Key`: the same id is applied once. */
  readonly dedupId?: string | undefined;
  /** `If-Match`: apply only at this version (412 otherwise). */
  readonly ifMatch?: number | undefined;
  readonly event?: CommandContext["event"];
  /** The trace the command is part of (tracing on). */
  readonly trace?: TraceHandle | undefined;
  /** Who sent it, as the edge verified it (absent when authentication is off): `ctx.caller`. */
  readonly caller?: Caller | undefined;
  /** The timer that runs the command (its name and due time), when a timer does. */
  readonly timer?: CommandContext["timer"];
}

export interface CommandReply {
  readonly reply: unknown;
  readonly version: number;
  readonly replyId: string;
  /** True when this was a redelivery answered from the dedup record. */
  readonly duplicate: boolean;
}

export interface EntitySnapshot {
  readonly state: unknown;
  readonly version: number;
}

/** A command waiting in its entity's queue, with the promise callbacks of its caller. */
export interface Job {
  readonly request: CommandRequest;
  readonly ctx: CommandContext;
  readonly startedAt: number;
  readonly resolve: (value: CommandReply) => void;
  readonly reject: (error: unknown) => void;
}

export function contextOf(request: CommandRequest): CommandContext {
  const base: CommandContext =
    request.timer !== undefined
      ? { entityId: request.entityId, command: request.command, timer: request.timer }
      : request.event === undefined
        ? { entityId: request.entityId, command: request.command }
        : { entityId: request.entityId, command: request.command, event: request.event };
  return request.caller === undefined ? base : { ...base, caller: request.caller };
}

/** The key of an entity in the queues and the cache. */
export function entityId(entityType: string, id: string): string {
  return `${entityType}\u0000${id}`;
}
