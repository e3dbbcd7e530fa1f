import { setTimeout as sleep } from "node:timers/promises";
import { Cluster, type ChainableCommander } from "ioredis";
import type { HostConfig } from "../config/host-config.js";
import { StoreUnavailable } from "../errors/host-error.js";
import type { Logger } from "../observability/logger.js";
import { createClient, type RedisClient } from "./redis-connection.js";
import type { DomainEvent } from "../entity/model.js";
import { decodeSnapshot, dedupField, encodeAppend } from "./append-encoding.js";
import { toDuplicates, toEvents, toHits, type StreamEntry } from "./redis-replies.js";
import { eraseOutside, globEscape, scanKeys } from "./redis-erase.js";
import { KeyLayout, type EntityKeys } from "./redis-keys.js";
import { parseRetention, type Retention } from "./retention.js";
import { RedisTimers } from "./redis-timers.js";
import { OutboxKeys } from "./outbox-keys.js";
import { redisOutboxAdmin, type OutboxAdmin } from "./outbox-admin.js";
import { SCRIPTS, type ScriptName } from "./redis-scripts.js";
import type {
  DedupEntry,
  EntityPage,
  ListEntitiesOptions,
  LoggedEvent,
  StoreIntrospection,
} from "./introspection.js";
import { listDedupFields, listIndexed, listScanned, writeSnapshotIfAt } from "./redis-admin.js";
import { checkServer, loadScripts, watchConnection } from "./redis-setup.js";
import { redisReplicated, type ReplicatedStore } from "./replicated/replicated-store.js";
import { REPLICATED_APPLY_SCRIPT } from "./replicated/scripts.js";
import { script, ScriptSender, withScriptFallback, type Script, type ScriptArg } from "./script-sender.js";
import type {
  AppendRequest,
  AppendResult,
  CheckResult,
  DeleteResult,
  EntityKey,
  LoadedEntity,
  Snapshot,
  StateStore,
} from "./state-store.js";

/**
 * The append script as an ioredis custom command (`numkeys, ...keys, ...args`), for the
 * pipeline that sends it with WAIT: ioredis then handles a lost script inside the pipeline.
 */
interface AppendCommand {
  ksAppend(...args: ScriptArg[]): Promise<unknown>;
}

export interface RedisStoreOptions {
  readonly keyPrefix: string;
  readonly service: string;
  /** WAIT for this many replicas after each append (0: do not wait). */
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
  /** Keep the per-type entity index (standalone and Sentinel only: it is another slot on a cluster). */
  readonly entityIndex?: boolean;
  /** Events to keep before the latest snapshot, by entity kind (default: every event). */
  readonly retention?: Retention;
  /** Redis Cluster: how often a pod scans for timers' slot due indexes (see redis-timer-slots.ts). */
  readonly timerSweepMs?: number;
}

/**
 * The Redis state store. Each operation is one round trip: a Lua script loads (version,
 * snapshot, events after it, dedup hits), checks, or appends conditionally (dedup check, then
 * expected version, then events + version + snapshot + dedup records, all or nothing). All keys
 * of an entity share a hash tag, so this works unchanged on Redis Cluster. Any Redis failure
 * becomes `StoreUnavailable` (503): the host never guesses the outcome of an append.
 */
export class RedisStore implements StateStore, StoreIntrospection {
  readonly name = "redis";
  readonly #client: RedisClient;
  /** The lean path on a standalone server; on a cluster, EVALSHA through ioredis (see `#run`). */
  readonly #sender: ScriptSender | undefined;
  readonly #keys: KeyLayout;
  readonly #options: RedisStoreOptions;
  /** Durable timers: claim, settle, list (see redis-timers.ts). */
  readonly timers: RedisTimers;
  /** Replicated entities: their load and apply scripts, run like the others (one slot per entity). */
  readonly replicated: ReplicatedStore;
  readonly #outbox: OutboxKeys;
  /** The outbox as the admin API shows it. */
  readonly outboxAdmin: OutboxAdmin;

  /** Wraps a connected client whose scripts are defined (see `connect`). */
  constructor(client: RedisClient, options: RedisStoreOptions) {
    this.#client = client;
    if (!("ksAppend" in client)) client.defineCommand("ksAppend", { lua: SCRIPTS.ksAppend });
    this.#sender = client instanceof Cluster ? undefined : new ScriptSender(client);
    this.#keys = new KeyLayout(options.keyPrefix, options.service);
    this.#options = options;
    this.timers = new RedisTimers(client, this.#keys, {
      ...(options.timerSweepMs === undefined ? {} : { sweepMs: options.timerSweepMs }),
    });
    this.replicated = redisReplicated(
      (lua, keys, args, key) =>
        this.#call("replicated", key, () =>
          lua === REPLICATED_APPLY_SCRIPT
            ? this.#runAndWait("ksReplicatedApply", keys, args)
            : this.#run("ksReplicatedLoad", keys, args),
        ),
      options.keyPrefix,
      options.service,
    );
    this.#outbox = new OutboxKeys(options.keyPrefix, options.service, client instanceof Cluster);
    this.outboxAdmin = redisOutboxAdmin(client, this.#outbox, (key) =>
      this.#outbox.streamOf(key, this.#keys.entity(key).meta),
    );
  }

  /** The connection, for the outbox relay (src/outbox/), which reads what the appends wrote. */
  get connection(): RedisClient {
    return this.#client;
  }

  /**
   * Connects with the host's settings, then loads the scripts and checks the server's
   * configuration at once: refuses to start when `maxmemory-policy` is not `noeviction`
   * (eviction would silently drop state and dedup records), warns when AOF is off.
   */
  static async connect(config: HostConfig, logger: Logger): Promise<RedisStore> {
    // Validates the key prefix before anything connects.
    new KeyLayout(config.keyPrefix, config.service);
    const { client, target } = createClient(config);
    const log = logger.child({ redis: target });
    watchConnection(client, log);
    const store = new RedisStore(client, {
      keyPrefix: config.keyPrefix,
      service: config.service,
      waitReplicas: config.redisWaitReplicas,
      waitTimeoutMs: config.redisWaitTimeoutMs,
      entityIndex: config.entityIndex,
      retention: parseRetention(config.retainEvents),
      timerSweepMs: config.timerSweepMs,
    });
    // connect() rejects with "Connection is closed."; the reason came with the error event.
    let reason: Error | undefined;
    const remember = (error: Error) => (reason = error);
    client.on("error", remember);
    try {
      await client.connect();
    } catch (error) {
      client.disconnect();
      const message = (reason ?? (error as Error)).message;
      throw new Error(`cannot connect to Redis at ${target}: ${message}`, { cause: reason ?? error });
    } finally {
      client.off("error", remember);
    }
    try {
      const servers = client instanceof Cluster ? client.nodes("master") : [client];
      await Promise.all(servers.flatMap((server) => [checkServer(server, log), loadScripts(server, log)]));
    } catch (error) {
      client.disconnect();
      throw error;
    }
    if (config.redisWaitReplicas > 0 && config.redisWaitTimeoutMs >= config.redisCommandTimeoutMs) {
      log.warn(
        "KNSTATE_REDIS_WAIT_TIMEOUT is not below KNSTATE_REDIS_COMMAND_TIMEOUT: a slow replica makes appends time out instead of waiting",
      );
    }
    log.info("connected to Redis", { waitReplicas: config.redisWaitReplicas });
    return store;
  }

  async load(key: EntityKey, dedupIds: readonly string[]): Promise<LoadedEntity> {
    const k = this.#keys.entity(key);
    const reply = (await this.#call("load", key, () =>
      this.#run("ksLoad", [k.meta, k.events, ...dedupIds.map(k.dedup)], dedupIds.map(dedupField)),
    )) as [number, number, string | null, StreamEntry[], number, Array<string | null>, Array<string | null>];
    const [version, snapshotVersion, snapshot, entries, first, values, records] = reply;
    const duplicates = toDuplicates(dedupIds, records);
    if (duplicates.size > 0) await this.#awaitReplicas(key, k.meta);
    const read = toEvents(entries, first, values);
    const size = read.size;
    const events: DomainEvent[] = read.events.map(withoutVersion);
    const snapshotSize = snapshot === null ? 0 : snapshot.length;
    return {
      version,
      snapshot: snapshot === null ? undefined : decodeSnapshot(snapshot, snapshotVersion),
      events,
      duplicates,
      ...(snapshotSize + size > 0 ? { stored: { snapshot: snapshotSize, events: size } } : {}),
    };
  }

  async check(key: EntityKey, dedupIds: readonly string[]): Promise<CheckResult> {
    const k = this.#keys.entity(key);
    const [version, records] = (await this.#call("check", key, () =>
      this.#run("ksCheck", [k.meta, k.events, ...dedupIds.map(k.dedup)], dedupIds.map(dedupField)),
    )) as [number, Array<string | null>];
    const duplicates = toDuplicates(dedupIds, records);
    if (duplicates.size > 0) await this.#awaitReplicas(key, k.meta);
    return { version, duplicates };
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const { key } = request;
    const k = this.#keys.entity(key);
    // Serialize everything first: a value that cannot be stored fails before Redis is asked.
    const index = this.#indexed && request.expectedVersion === 0;
    const args = encodeAppend(request, undefined, index);
    const keys = [k.meta, k.events];
    for (const id of request.checkDedup) keys.push(k.dedup(id));
    if (index) keys.push(this.#keys.entityIndex(key.entityType));
    // The outbox stream only when there is something to publish (see outbox-keys.ts).
    if ((request.outbox?.length ?? 0) > 0) keys.push(this.#outbox.streamOf(key, k.meta));
    const timers = request.timers ?? [];
    if (timers.length > 0) keys.push(k.timers, this.timers.dueIndexOf(key));
    const reply = await this.#call("append", key, async () => {
      if (this.#options.waitReplicas === 0) return this.#run("ksAppend", keys, args);
      // The append and WAIT in one round trip, on the entity's node; WAIT also covers a
      // duplicate answer, whose record may not have reached the replicas yet.
      const pipeline = this.#client.pipeline() as ChainableCommander & AppendCommand;
      void pipeline.ksAppend(keys.length, ...keys, ...args);
      void pipeline.wait(this.#options.waitReplicas, this.#options.waitTimeoutMs);
      const results = (await pipeline.exec()) ?? [];
      const [appended, waited] = results;
      if (!appended || appended[0]) throw appended?.[0] ?? new Error("no reply to the append");
      const [kind] = appended[1] as [string];
      if (kind !== "conflict") {
        this.#checkAcks(waited);
      }
      return appended[1];
    });
    const [kind, value] = reply as [string, unknown];
    if (kind === "ok") {
      // On a cluster, pollers learn of the slot's new timers from a registry written after the
      // append; a failure here is left to their sweep (see redis-timer-slots.ts).
      if (timers.length > 0) await this.timers.indexed(key, timers).catch(() => undefined);
      if (request.snapshot !== undefined && request.logEvents) await this.#trim(key, k);
      return { kind: "ok", version: value as number };
    }
    if (kind === "conflict") return { kind: "conflict", version: value as number };
    return { kind: "duplicate", duplicates: toHits(request.checkDedup, value as Array<number | string>) };
  }

  readEvents(key: EntityKey, fromVersion: number, toVersion?: number): Promise<LoggedEvent[]> {
    return this.readEventLog(key, fromVersion, toVersion, false);
  }

  /** `readEvents` with what was recorded of each event's command (see event-meta.ts). */
  async readEventLog(key: EntityKey, fromVersion: number, toVersion?: number, withMeta = true) {
    const k = this.#keys.entity(key);
    const from = Math.max(1, Math.floor(fromVersion));
    if (toVersion !== undefined && toVersion < from) return [];
    const to = toVersion === undefined ? "" : String(Math.floor(toVersion));
    const [entries, first, values] = (await this.#call("readEvents", key, () =>
      this.#run("ksEvents", [k.meta, k.events], [String(from), to]),
    )) as [StreamEntry[], number, Array<string | null>];
    return toEvents(entries, first, values, withMeta).events;
  }

  /**
   * Erases the entity in one script (see DELETE_SCRIPT). Dedup records of the older layout are
   * separate string keys: they are found first by a SCAN of the entity's keys (on every master
   * of a cluster), then deleted by the same script. What lives outside the entity's hash tag
   * (due-index members, the index entry, outbox messages) goes right after (`eraseOutside`).
   */
  async delete(key: EntityKey): Promise<DeleteResult> {
    const k = this.#keys.entity(key);
    const [version, timers] = (await this.#call("delete", key, async () => {
      const legacy = await scanKeys(this.#client, `${globEscape(k.meta.slice(0, -1))}d:*`);
      return this.#run("ksDelete", [k.meta, k.events, k.timers, ...legacy], []);
    })) as [number, string[]];
    if (version === 0) return { erased: false, version };
    await this.#call("delete", key, () =>
      eraseOutside(this.#client, key, version, {
        dueIndex: this.timers.dueIndexOf(key),
        timers,
        entityIndex: this.#indexed ? this.#keys.entityIndex(key.entityType) : undefined,
        outbox: this.#outbox.streamOf(key, k.meta),
        dead: this.#outbox.dead,
      }),
    );
    await this.#awaitReplicas(key, k.meta);
    return { erased: true, version };
  }

  /**
   * After an append that wrote a snapshot: deletes the events its kind's retention no longer
   * keeps (TRIM_SCRIPT). The append has committed: a failed trim fails nothing, and the next
   * snapshot trims what this one left.
   */
  async #trim(key: EntityKey, k: EntityKeys): Promise<void> {
    const keep = this.#options.retention?.(key.entityType);
    if (keep === undefined) return;
    try {
      await this.#run("ksTrim", [k.meta, k.events], [String(keep)]);
    } catch {
      // Nothing to undo: the events stay until the next snapshot's trim.
    }
  }

  async trimmedThrough(key: EntityKey): Promise<number> {
    const k = this.#keys.entity(key);
    const value = await this.#call("load", key, () => this.#client.hget(k.meta, "f"));
    return Number(value ?? 0);
  }

  /** Whether appends maintain the entity index (never on a cluster: see docs/admin.md). */
  get #indexed(): boolean {
    return this.#options.entityIndex === true && !(this.#client instanceof Cluster);
  }

  listEntities(entityType: string, options: ListEntitiesOptions): Promise<EntityPage> {
    if (!this.#indexed) return listScanned(this.#client, this.#keys.entityPattern(entityType), options);
    return listIndexed(this.#client, this.#keys.entityIndex(entityType), options);
  }

  async countEntities(entityType: string): Promise<number | undefined> {
    return this.#indexed ? this.#client.zcard(this.#keys.entityIndex(entityType)) : undefined;
  }

  listDedup(key: EntityKey): Promise<DedupEntry[]> {
    return listDedupFields(this.#client, this.#keys.entity(key).meta, Date.now());
  }

  writeSnapshot(key: EntityKey, snapshot: Snapshot): Promise<boolean> {
    return writeSnapshotIfAt(this.#client, this.#keys, key, snapshot);
  }

  async ping(): Promise<void> {
    if (this.#client.status !== "ready") throw new Error(`Redis connection is ${this.#client.status}`);
    await this.#client.ping();
  }

  /** `QUIT` (pending replies arrive first), or a hard disconnect if that takes over 2 s. */
  async close(): Promise<void> {
    if (this.#client.status === "end") return;
    const quit = this.#client.quit().then(
      () => true,
      () => false,
    );
    const done = await Promise.race([quit, sleep(2000, false, { ref: false })]);
    if (!done) this.#client.disconnect();
  }

  /**
   * Before a redelivery is answered from its dedup record, the record (and so the append it
   * belongs to) must be on the replicas too. WAIT goes in a pipeline with a command on one of
   * the entity's keys, so that on a cluster it reaches the entity's master.
   */
  async #awaitReplicas(key: EntityKey, anchor: string): Promise<void> {
    if (this.#options.waitReplicas === 0) return;
    await this.#call("wait", key, async () => {
      const results = await this.#client
        .pipeline()
        .exists(anchor)
        .wait(this.#options.waitReplicas, this.#options.waitTimeoutMs)
        .exec();
      this.#checkAcks(results?.[1]);
    });
  }

  #checkAcks(waited: [error: Error | null, result: unknown] | undefined): void {
    if (!waited || waited[0]) throw waited?.[0] ?? new Error("no reply to WAIT");
    const acks = waited[1] as number;
    if (acks < this.#options.waitReplicas) {
      throw new Error(
        `only ${acks} of ${this.#options.waitReplicas} replicas acknowledged within ${this.#options.waitTimeoutMs} ms (KNSTATE_REDIS_WAIT_REPLICAS)`,
      );
    }
  }

  /** `#run`, then WAIT for the replicas when `waitReplicas` asks for it. */
  async #runAndWait(name: ScriptName, keys: string[], args: ScriptArg[]): Promise<unknown> {
    const reply = await this.#run(name, keys, args);
    if (this.#options.waitReplicas > 0) {
      const waited = await this.#client
        .pipeline()
        .exists(keys[0]!)
        .wait(this.#options.waitReplicas, this.#options.waitTimeoutMs)
        .exec();
      this.#checkAcks(waited?.[1]);
    }
    return reply;
  }

  #run(name: ScriptName, keys: string[], args: ScriptArg[]): Promise<unknown> {
    if (this.#sender !== undefined) return this.#sender.run(LOADED[name], keys, args);
    // On a cluster, plain EVALSHA: auto-pipelining groups commands by their first key, which it
    // finds for EVALSHA but not for a custom command (it would take the key count for a key and
    // mix different nodes' entities in one pipeline, which ioredis then refuses).
    return withScriptFallback(LOADED[name], (command, source) =>
      this.#client[command](source, keys.length, ...keys, ...args),
    );
  }

  /** `run`'s result; any failure, thrown or rejected, becomes `StoreUnavailable`. */
  #call<T>(operation: string, key: EntityKey, run: () => Promise<T>): Promise<T> {
    const unavailable = (error: unknown): StoreUnavailable => {
      const id = key.entityId.length > 64 ? `${key.entityId.slice(0, 64)}…` : key.entityId;
      return new StoreUnavailable(
        `Redis ${operation} of ${key.entityType}/${id} failed (${(error as Error).message}); retry later`,
        error,
      );
    };
    try {
      return run().then(undefined, (error: unknown) => {
        throw unavailable(error);
      });
    } catch (error) {
      return Promise.reject(unavailable(error));
    }
  }
}

/** An event as loaded: without the version the stream or hash gave it, with its schema version. */
function withoutVersion(event: DomainEvent & { version: number }): DomainEvent {
  return event.schemaVersion === undefined
    ? { type: event.type, data: event.data }
    : { type: event.type, data: event.data, schemaVersion: event.schemaVersion };
}

/** Each script with its SHA-1. */
const LOADED = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, lua]) => [name, script(lua)]),
) as Readonly<Record<ScriptName, Script>>;
