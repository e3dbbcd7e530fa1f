import {
  afterApply,
  replyOfDuplicate,
  type ReplicatedDecision,
  type ReplicatedModel,
  type ReplicatedSnapshot,
} from "../entity/replicated/model.js";
import type { ReplicatedOp } from "../entity/replicated/operations.js";
import { CommandRejected, HostError, toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { EntityKey, StateStore } from "../store/state-store.js";
import type { ReplicatedStore } from "../store/replicated/replicated-store.js";
import { Outcome, type PipelineObserver } from "./observer.js";
import { ReplicatedBatcher } from "./replicated-batch.js";
import { replicatedDrafts } from "./replicated-publish.js";
import type { Settler } from "./settle.js";
import { contextOf, type CommandReply, type CommandRequest, type EntitySnapshot } from "./types.js";

/** A command to a replicated entity. */
export type ReplicatedRequest = Omit<CommandRequest, "model"> & { readonly model: ReplicatedModel };

/** A command to any kind of entity, as the edge dispatches it. */
export type AnyCommandRequest = Omit<CommandRequest, "model"> & {
  readonly model: CommandRequest["model"] | ReplicatedModel;
};

export function isReplicatedRequest(request: AnyCommandRequest): request is ReplicatedRequest {
  return request.model.kind === "replicated";
}

export interface ReplicatedRunnerOptions {
  readonly store: StateStore;
  readonly settler: Settler;
  readonly observer: PipelineObserver;
  readonly dedupTtlMs: number;
  readonly newId: () => string;
  /** Write the batches this host can compute as computed (default true). */
  readonly replicatedPredict?: boolean;
}

/**
 * The replicated branch of the pipeline: decide → apply → reply, with a load first when the
 * handler reads values. No version check, no conflict and no retry: the operations commute,
 * so commands to one entity are applied in batches (one script call per entity in flight, see
 * replicated-batch.ts), whatever the number of replicas. A redelivery (same CloudEvent
 * `source`+`id`, or `Idempotency-Key`) is answered from its dedup record; the apply script
 * checks the record, so a redelivery racing its first delivery applies nothing.
 */
export class ReplicatedRunner {
  readonly #options: ReplicatedRunnerOptions;
  readonly #batcher: ReplicatedBatcher;

  constructor(options: ReplicatedRunnerOptions) {
    this.#options = options;
    this.#batcher = new ReplicatedBatcher(() => this.#store(), {
      observer: options.observer,
      predict: options.replicatedPredict ?? true,
    });
  }

  async dispatch(request: ReplicatedRequest): Promise<CommandReply> {
    const { settler, observer } = this.#options;
    const started = performance.now();
    settler.begin();
    try {
      const reply = await this.#run(request);
      const seconds = (performance.now() - started) / 1000;
      observer.commandFinished?.(request.model.name, request.command, Outcome.ok, seconds, request.trace);
      return reply;
    } catch (error) {
      const failure = toHostError(error);
      const seconds = (performance.now() - started) / 1000;
      observer.commandFinished?.(
        request.model.name,
        request.command,
        outcomeOf(failure),
        seconds,
        request.trace,
      );
      throw failure;
    } finally {
      settler.end();
    }
  }

  /** The merged state, as fresh as any apply acknowledged before the call; its version is the sequence. */
  async read(model: ReplicatedModel, id: string): Promise<EntitySnapshot> {
    this.#options.settler.begin();
    try {
      const { snapshot } = await this.#store().loadReplicated({ entityType: model.name, entityId: id }, []);
      return { state: model.state(snapshot), version: snapshot.seq };
    } catch (error) {
      throw toHostError(error);
    } finally {
      this.#options.settler.end();
    }
  }

  async #run(request: ReplicatedRequest): Promise<CommandReply> {
    const { model, command, data, dedupId } = request;
    if (request.ifMatch !== undefined) {
      throw new HostError(
        Problem.invalidRequest,
        `${model.name} is a replicated entity: its updates apply without a version check, so If-Match has no version to match`,
      );
    }
    const store = this.#store();
    const { observer } = this.#options;
    const key: EntityKey = { entityType: model.name, entityId: request.entityId };
    const ctx = contextOf(request as Omit<CommandRequest, "model"> as CommandRequest);
    const dedup = dedupId === undefined ? [] : [dedupId];
    // A handler that reads no value decides the same on any state: apply it without a load.
    // Removes keep the load, since what they remove is what their command observed.
    // Timed only when it decided: a handler stopped at its first read is timed on its real run.
    const blindStarted = performance.now();
    const blind = model.executeBlind(command, data, ctx);
    if (blind !== undefined) observeHandled(observer, request, blindStarted);
    if (blind?.kind === "rejected") throw new CommandRejected(blind.reason, blind.details);
    if (blind !== undefined && blind.ops.length > 0 && !blind.ops.some(removes)) {
      const answer = await this.#apply(request, key, blind, undefined);
      if (answer !== undefined) return answer;
    }
    for (;;) {
      const loadStarted = performance.now();
      const loaded = await store.loadReplicated(key, dedup);
      observer.stateLoaded?.(model.name, (performance.now() - loadStarted) / 1000, 0, request.trace);
      const before = loaded.snapshot;
      const record = dedupId === undefined ? undefined : loaded.duplicates.get(dedupId);
      if (record !== undefined) {
        observer.dedupHit?.(model.name);
        const reply = replyOfDuplicate(model, command, data, ctx, before, record);
        return { reply, version: record.seq, replyId: record.replyId, duplicate: true };
      }
      const decision = timed(observer, request, () => model.execute(command, before, data, ctx));
      if (decision.kind === "rejected") throw new CommandRejected(decision.reason, decision.details);
      if (decision.ops.length === 0) {
        return {
          reply: decision.reply(before),
          version: before.seq,
          replyId: this.#options.newId(),
          duplicate: false,
        };
      }
      const answer = await this.#apply(request, key, decision, before);
      if (answer !== undefined) return answer;
      // A delivery of the same command was applied meanwhile: answer from its record.
    }
  }

  /**
   * Applies an accepted decision made on `before` (undefined: made without reading values),
   * in the entity's next batch. Undefined when the command's dedup record already exists.
   */
  async #apply(
    request: ReplicatedRequest,
    key: EntityKey,
    decision: Accepted,
    before: ReplicatedSnapshot | undefined,
  ): Promise<CommandReply | undefined> {
    const { model, command, dedupId, trace } = request;
    const { observer, dedupTtlMs, newId } = this.#options;
    const replyId = newId();
    const value = decision.returnCells.length === 0 ? decision.reply(before ?? empty(0)) : undefined;
    const known = value === undefined ? undefined : { value };
    const publish = replicatedDrafts(model, command, request.data, value, trace);
    const applyStarted = performance.now();
    const needsAll =
      before === undefined && decision.returnCells.length > 0 && !coversAll(model, decision.ops);
    const { result, all } = await this.#batcher.apply(
      key,
      {
        ops: decision.ops,
        // Without a load, the command observed the state it is applied to.
        observed: before?.seq ?? Number.MAX_SAFE_INTEGER,
        returnCells: decision.returnCells,
        checkDedup: dedupId === undefined ? [] : [dedupId],
        ...(dedupId === undefined
          ? {}
          : { writeDedup: { id: dedupId, replyId, ...(known === undefined ? {} : { reply: known }) } }),
        dedupTtlMs,
        ...(publish === undefined ? {} : { publish }),
      },
      needsAll,
    );
    if (result.kind === "duplicate") return undefined;
    if (result.kind === "failed") throw new Error(`the replicated apply script failed: ${result.message}`);
    observer.appended?.(model.name, (performance.now() - applyStarted) / 1000, decision.ops.length, 1, trace);
    if (result.kind === "refused") {
      throw new HostError(
        Problem.operationRefused,
        `${model.name}/${truncate(request.entityId)}.${command}: ${result.reason}; nothing was applied`,
      );
    }
    // Wakes the relay (on a cluster, it reads this entity's slot stream at once).
    if (publish !== undefined) observer.committed?.(model.name, request.entityId, result.seq, [], trace);
    if (decision.returnCells.length === 0)
      return { reply: value, version: result.seq, replyId, duplicate: false };
    const base = before ?? all ?? empty(result.nowMs);
    const reply = decision.reply(afterApply(base, decision.returnCells, result));
    return { reply, version: result.seq, replyId, duplicate: false };
  }

  #store(): ReplicatedStore {
    const replicated = this.#options.store.replicated;
    if (replicated === undefined) {
      throw new HostError(
        Problem.handlerFailed,
        `the ${this.#options.store.name} store does not keep replicated entities`,
      );
    }
    return replicated;
  }
}

type Accepted = Extract<ReplicatedDecision, { kind: "accepted" }>;

/** Runs a handler, timing it for the observer. */
function timed<T>(observer: PipelineObserver, request: ReplicatedRequest, run: () => T): T {
  const started = performance.now();
  const decision = run();
  observeHandled(observer, request, started);
  return decision;
}

function observeHandled(observer: PipelineObserver, request: ReplicatedRequest, started: number): void {
  observer.handled?.(
    request.model.name,
    request.command,
    (performance.now() - started) / 1000,
    request.trace,
  );
}

/** Operations whose effect depends on the sequence the command observed. */
function removes(op: ReplicatedOp): boolean {
  return op.code === "srem" || op.code === "mrem";
}

/** True when the operations touch every declared value: the returned cells then make the whole state. */
function coversAll(model: ReplicatedModel, ops: readonly ReplicatedOp[]): boolean {
  const fields = new Set(ops.map((op) => op.field));
  return Object.keys(model.specs).every((field) => fields.has(field));
}

function empty(nowMs: number): ReplicatedSnapshot {
  return { seq: 0, cells: new Map(), nowMs };
}

function outcomeOf(error: HostError): Outcome {
  if (error instanceof CommandRejected || error.status === 412) return Outcome.rejected;
  return error.status < 500 ? Outcome.invalid : Outcome.error;
}

function truncate(id: string): string {
  return id.length > 64 ? `${id.slice(0, 64)}…` : id;
}
