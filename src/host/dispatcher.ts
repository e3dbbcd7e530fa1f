import { setTimeout as sleep } from "node:timers/promises";
import type { CommandContext } from "../entity/define.js";
import type { DomainEvent, EntityModel } from "../entity/model.js";
import { CommandRejected, HostError, toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { DedupRecord, EntityKey, LoadedEntity, StateStore, StoredSize } from "../store/state-store.js";
import { EntityCache, type CachedEntity } from "./entity-cache.js";
import { noopObserver, Outcome, type PipelineObserver, type TraceHandle } from "./observer.js";

export interface DispatcherOptions {
  readonly store: StateStore;
  /** Keep recently used entities' state in process and append against it (one round trip). */
  readonly cache: { readonly enabled: boolean; readonly maxEntities: number };
  /** Apply commands queued for one entity together, in one append. */
  readonly groupCommit: { readonly enabled: boolean; readonly maxBatch: number };
  /** Attempts after the first when another replica appended first. */
  readonly conflictRetries: number;
  readonly retryBackoffMs: { readonly base: number; readonly max: number };
  readonly dedupTtlMs: number;
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

interface Job {
  readonly read: boolean;
  readonly request: CommandRequest;
  readonly ctx: CommandContext;
  readonly startedAt: number;
  readonly trace: TraceHandle | undefined;
  readonly resolve: (value: CommandReply & EntitySnapshot) => void;
  readonly reject: (error: HostError) => void;
}

type Settlement =
  | { readonly job: Job; readonly ok: CommandReply & EntitySnapshot }
  | { readonly job: Job; readonly error: HostError };

/**
 * Runs commands: load → decide → append with the expected version → on conflict reload and
 * retry. Commands for one entity queue up in this process and run in order, so they never
 * conflict with each other; with group commit a queue's waiting commands are decided together
 * and stored in one append. Different entities run concurrently.
 */
export class Dispatcher {
  readonly #store: StateStore;
  readonly #options: DispatcherOptions;
  readonly #observer: PipelineObserver;
  readonly #cache: EntityCache;
  readonly #queues = new Map<string, Job[]>();
  #active = 0;
  #idle: (() => void) | undefined;

  constructor(options: DispatcherOptions) {
    this.#store = options.store;
    this.#options = options;
    this.#observer = options.observer ?? noopObserver;
    this.#cache = new EntityCache(options.cache.enabled ? options.cache.maxEntities : 0);
  }

  /** Commands accepted and not yet answered. */
  get active(): number {
    return this.#active;
  }

  dispatch(request: CommandRequest): Promise<CommandReply> {
    return this.#enqueue(request, false);
  }

  /** The entity's current state and version, as fresh as any write acknowledged before the call. */
  read(model: EntityModel, entityId: string): Promise<EntitySnapshot> {
    return this.#enqueue({ model, entityId, command: "", data: undefined }, true);
  }

  /** Resolves when no command is in flight, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#active === 0) return true;
    const idle = new Promise<boolean>((resolve) => (this.#idle = () => resolve(true)));
    const timer = sleep(timeoutMs, false, { ref: false });
    return Promise.race([idle, timer]);
  }

  #enqueue(request: CommandRequest, read: boolean): Promise<CommandReply & EntitySnapshot> {
    return new Promise((resolve, reject) => {
      const job: Job = {
        read,
        request,
        ctx: contextOf(request),
        startedAt: performance.now(),
        trace: request.trace,
        resolve,
        reject,
      };
      this.#active++;
      this.#observer.inFlight?.(1);
      const id = cacheKey(request.model.name, request.entityId);
      const queue = this.#queues.get(id);
      if (queue) {
        queue.push(job);
        return;
      }
      const fresh = [job];
      this.#queues.set(id, fresh);
      void this.#drainQueue(id, fresh);
    });
  }

  async #drainQueue(id: string, queue: Job[]): Promise<void> {
    const max = this.#options.groupCommit.enabled ? this.#options.groupCommit.maxBatch : 1;
    while (queue.length > 0) {
      await this.#process(id, queue.splice(0, max));
    }
    this.#queues.delete(id);
  }

  async #process(id: string, jobs: Job[]): Promise<void> {
    const first = jobs[0];
    if (!first) return;
    const model = first.request.model;
    const key: EntityKey = { entityType: model.name, entityId: first.request.entityId };
    let pending = jobs;
    let forceLoad = !this.#options.cache.enabled;
    let conflicts = 0;
    try {
      while (pending.length > 0) {
        const dedupIds = dedupIdsOf(pending);
        let base: CachedEntity | undefined = forceLoad ? undefined : this.#cache.get(id);
        const fromCache = base !== undefined;
        let replay: StoredSize | undefined;
        if (this.#options.cache.enabled && !forceLoad) this.#observer.cacheLookup?.(model.name, fromCache);
        if (base === undefined) {
          const started = performance.now();
          const loaded = await this.#store.load(key, dedupIds);
          let state = loaded.snapshot ? loaded.snapshot.state : model.initialState(key.entityId);
          for (const event of loaded.events) state = model.apply(state, event);
          base = { state, version: loaded.version };
          replay = replayCost(loaded);
          this.#observer.stateLoaded?.(
            model.name,
            (performance.now() - started) / 1000,
            loaded.events.length,
            first.trace,
          );
          this.#cache.set(id, base);
          pending = this.#settleDuplicates(pending, loaded.duplicates);
        }
        forceLoad = false;

        const decided = this.#decide(pending, base);
        if (decided.events.length > 0) {
          const started = performance.now();
          const snapshot =
            !model.logEvents ||
            crossesBoundary(base.version, decided.version, model.snapshotEvery) ||
            (replay !== undefined && replay.events >= replay.snapshot);
          const result = await this.#store.append({
            key,
            expectedVersion: base.version,
            events: decided.events,
            logEvents: model.logEvents,
            snapshot: snapshot ? { version: decided.version, state: decided.state } : undefined,
            checkDedup: dedupIds,
            writeDedup: decided.dedup,
            dedupTtlMs: this.#options.dedupTtlMs,
          });
          if (result.kind === "ok") {
            this.#observer.appended?.(
              model.name,
              (performance.now() - started) / 1000,
              decided.events.length,
              pending.length,
              first.trace,
            );
            if (model.logEvents && snapshot) this.#observer.snapshotWritten?.(model.name);
            this.#cache.set(id, { state: decided.state, version: decided.version });
            if (model.logEvents)
              this.#observer.committed?.(
                model.name,
                key.entityId,
                base.version + 1,
                decided.events,
                first.trace,
              );
            this.#settle(decided.settlements);
            return;
          }
          this.#cache.delete(id);
          forceLoad = true;
          if (result.kind === "duplicate") {
            pending = this.#settleDuplicates(pending, result.duplicates);
            continue;
          }
        } else if (fromCache) {
          // Nothing to append, but the decision was made on a cached state: check it is current.
          const check = await this.#store.check(key, dedupIds);
          if (check.version === base.version) {
            pending = this.#settleDuplicates(pending, check.duplicates);
            this.#settle(decided.settlements.filter((s) => pending.includes(s.job)));
            return;
          }
          this.#cache.delete(id);
          forceLoad = true;
        } else {
          this.#settle(decided.settlements);
          return;
        }
        // Another replica changed the entity: reload and decide again, up to the retry budget.
        conflicts++;
        this.#observer.conflict?.(model.name, conflicts, first.trace);
        if (conflicts > this.#options.conflictRetries) {
          const error = new HostError(
            Problem.conflictExhausted,
            `entity ${model.name}/${key.entityId} changed concurrently ${conflicts} times; retry later`,
            { retryAfterSeconds: 1 },
          );
          this.#settle(pending.map((job) => ({ job, error })));
          return;
        }
        const { base: b, max } = this.#options.retryBackoffMs;
        await sleep(Math.random() * Math.min(max, b * 2 ** (conflicts - 1)));
      }
    } catch (error) {
      this.#cache.delete(id);
      const hostError = toHostError(error);
      this.#settle(pending.map((job) => ({ job, error: hostError })));
    }
  }

  /** Runs the handlers of `jobs` in order on `base`, each seeing the state its predecessors left. */
  #decide(jobs: readonly Job[], base: CachedEntity) {
    let state = base.state;
    let version = base.version;
    const events: DomainEvent[] = [];
    const dedup: Array<readonly [string, DedupRecord]> = [];
    const settlements: Settlement[] = [];
    let decidedHere: Map<string, DedupRecord> | undefined;
    for (const job of jobs) {
      const { request } = job;
      if (job.read) {
        settlements.push({ job, ok: { state, version, reply: undefined, replyId: "", duplicate: false } });
        continue;
      }
      // A redelivery queued behind its first delivery: applied once, answered the same.
      const earlier = request.dedupId === undefined ? undefined : decidedHere?.get(request.dedupId);
      if (earlier !== undefined) {
        settlements.push({ job, ok: { ...earlier, duplicate: true, state: undefined } });
        continue;
      }
      if (request.ifMatch !== undefined && request.ifMatch !== version) {
        const detail = `entity is at version ${version}, not ${request.ifMatch}`;
        settlements.push({
          job,
          error: new HostError(Problem.preconditionFailed, detail, { extensions: { version } }),
        });
        continue;
      }
      try {
        const started = this.#observer.handled ? performance.now() : 0;
        const decision = request.model.execute(request.command, state, request.data, job.ctx);
        if (this.#observer.handled) {
          const seconds = (performance.now() - started) / 1000;
          this.#observer.handled(request.model.name, request.command, seconds, job.trace);
        }
        if (decision.kind === "rejected") {
          settlements.push({ job, error: new CommandRejected(decision.reason, decision.details) });
          continue;
        }
        state = decision.state;
        version += decision.events.length;
        events.push(...decision.events);
        const replyId = this.#options.newId();
        if (request.dedupId !== undefined && decision.events.length > 0) {
          dedup.push([request.dedupId, { version, reply: decision.reply, replyId }]);
          (decidedHere ??= new Map()).set(request.dedupId, { version, reply: decision.reply, replyId });
        }
        settlements.push({ job, ok: { reply: decision.reply, version, replyId, duplicate: false, state } });
      } catch (error) {
        settlements.push({ job, error: toHostError(error) });
      }
    }
    return { state, version, events, dedup, settlements };
  }

  /** Answers redeliveries from their dedup records and returns the jobs still to run. */
  #settleDuplicates(jobs: Job[], duplicates: ReadonlyMap<string, DedupRecord>): Job[] {
    if (duplicates.size === 0) return jobs;
    const rest: Job[] = [];
    for (const job of jobs) {
      const record = job.request.dedupId === undefined ? undefined : duplicates.get(job.request.dedupId);
      if (record === undefined || job.read) {
        rest.push(job);
        continue;
      }
      this.#observer.dedupHit?.(job.request.model.name);
      this.#settle([
        {
          job,
          ok: {
            reply: record.reply,
            version: record.version,
            replyId: record.replyId,
            duplicate: true,
            state: undefined,
          },
        },
      ]);
    }
    return rest;
  }

  #settle(settlements: readonly Settlement[]): void {
    const now = performance.now();
    for (const s of settlements) {
      const { model, command } = s.job.request;
      const seconds = (now - s.job.startedAt) / 1000;
      if ("ok" in s) {
        if (!s.job.read)
          this.#observer.commandFinished?.(model.name, command, Outcome.ok, seconds, s.job.trace);
        s.job.resolve(s.ok);
      } else {
        if (!s.job.read) {
          this.#observer.commandFinished?.(model.name, command, outcomeOf(s.error), seconds, s.job.trace);
        }
        s.job.reject(s.error);
      }
      this.#active--;
      this.#observer.inFlight?.(-1);
    }
    if (this.#active === 0 && this.#idle) {
      this.#idle();
      this.#idle = undefined;
    }
  }
}

function outcomeOf(error: HostError): Outcome {
  if (error instanceof CommandRejected) return Outcome.rejected;
  if (error.problem === Problem.conflictExhausted) return Outcome.conflictExhausted;
  if (error.status === 412) return Outcome.rejected;
  return error.status < 500 ? Outcome.invalid : Outcome.error;
}

function cacheKey(entityType: string, entityId: string): string {
  return `${entityType}\u0000${entityId}`;
}

function dedupIdsOf(jobs: readonly Job[]): string[] {
  const ids: string[] = [];
  for (const job of jobs) if (job.request.dedupId !== undefined) ids.push(job.request.dedupId);
  return ids;
}

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
function replayCost(loaded: LoadedEntity): StoredSize {
  const stored = loaded.stored ?? { snapshot: 0, events: 0 };
  return { snapshot: stored.snapshot, events: stored.events + loaded.events.length * EVENT_LOAD_OVERHEAD };
}

/** True when an append from `from` to `to` passes a multiple of `every`. */
export function crossesBoundary(from: number, to: number, every: number): boolean {
  return Math.floor(to / every) > Math.floor(from / every);
}

function contextOf(request: CommandRequest): CommandContext {
  return request.event === undefined
    ? { entityId: request.entityId, command: request.command }
    : { entityId: request.entityId, command: request.command, event: request.event };
}
