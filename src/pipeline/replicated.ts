import type { CommandContext } from "../entity/define.js";
import {
  afterApply,
  replyOfDuplicate,
  type ReplicatedModel,
  type ReplicatedSnapshot,
} from "../entity/replicated/model.js";
import { CommandRejected, HostError, toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { EntityKey, StateStore } from "../store/state-store.js";
import type { ReplicatedStore } from "../store/replicated/replicated-store.js";
import { Outcome, type PipelineObserver } from "./observer.js";
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
}

/**
 * The replicated branch of the pipeline: load (with the dedup hit) → decide → apply → reply.
 * No queue, no version check, no conflict and no retry: the operations commute, so every
 * command is applied as it comes, whatever the number of replicas. A redelivery (same
 * CloudEvent `source`+`id`, or `Idempotency-Key`) is answered from its dedup record; the apply
 * script checks the record again, so a redelivery racing its first delivery applies nothing.
 */
export class ReplicatedRunner {
  readonly #options: ReplicatedRunnerOptions;

  constructor(options: ReplicatedRunnerOptions) {
    this.#options = options;
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
    const { model, command, data, dedupId, trace } = request;
    if (request.ifMatch !== undefined) {
      throw new HostError(
        Problem.invalidRequest,
        `${model.name} is a replicated entity: its updates apply without a version check, so If-Match has no version to match`,
      );
    }
    const store = this.#store();
    const { observer, dedupTtlMs, newId } = this.#options;
    const key: EntityKey = { entityType: model.name, entityId: request.entityId };
    const ctx = contextOf(request as Omit<CommandRequest, "model"> as CommandRequest);
    const dedup = dedupId === undefined ? [] : [dedupId];
    for (;;) {
      const loadStarted = performance.now();
      const loaded = await store.loadReplicated(key, dedup);
      observer.stateLoaded?.(model.name, (performance.now() - loadStarted) / 1000, 0, trace);
      const before = loaded.snapshot;
      const record = dedupId === undefined ? undefined : loaded.duplicates.get(dedupId);
      if (record !== undefined) {
        observer.dedupHit?.(model.name);
        const reply = replyOfDuplicate(model, command, data, ctx, before, record);
        return { reply, version: record.seq, replyId: record.replyId, duplicate: true };
      }
      const decision = execute(model, command, before, data, ctx, observer, request);
      if (decision.kind === "rejected") throw new CommandRejected(decision.reason, decision.details);
      if (decision.ops.length === 0) {
        return { reply: decision.reply(before), version: before.seq, replyId: newId(), duplicate: false };
      }
      const replyId = newId();
      const value = decision.returnCells.length === 0 ? decision.reply(before) : undefined;
      const known = value === undefined ? undefined : { value };
      const applyStarted = performance.now();
      const result = await store.applyReplicated(key, {
        ops: decision.ops,
        observed: before.seq,
        returnCells: decision.returnCells,
        checkDedup: dedup,
        ...(dedupId === undefined
          ? {}
          : { writeDedup: { id: dedupId, replyId, ...(known === undefined ? {} : { reply: known }) } }),
        dedupTtlMs,
      });
      if (result.kind === "duplicate") continue; // its first delivery just applied: answer from its record
      const seconds = (performance.now() - applyStarted) / 1000;
      observer.appended?.(model.name, seconds, decision.ops.length, 1, trace);
      if (result.kind === "refused") {
        throw new HostError(
          Problem.operationRefused,
          `${model.name}/${truncate(request.entityId)}.${command}: ${result.reason}; nothing was applied`,
        );
      }
      const reply =
        decision.returnCells.length === 0
          ? value
          : decision.reply(afterApply(before, decision.returnCells, result));
      return { reply, version: result.seq, replyId, duplicate: false };
    }
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

function execute(
  model: ReplicatedModel,
  command: string,
  before: ReplicatedSnapshot,
  data: unknown,
  ctx: CommandContext,
  observer: PipelineObserver,
  request: ReplicatedRequest,
) {
  if (!observer.handled) return model.execute(command, before, data, ctx);
  const started = performance.now();
  const decision = model.execute(command, before, data, ctx);
  observer.handled(model.name, command, (performance.now() - started) / 1000, request.trace);
  return decision;
}

function outcomeOf(error: HostError): Outcome {
  if (error instanceof CommandRejected || error.status === 412) return Outcome.rejected;
  return error.status < 500 ? Outcome.invalid : Outcome.error;
}

function truncate(id: string): string {
  return id.length > 64 ? `${id.slice(0, 64)}…` : id;
}
