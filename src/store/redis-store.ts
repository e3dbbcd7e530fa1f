import { setTimeout as sleep } from "node:timers/promises";
import { Cluster } from "ioredis";
import type { HostConfig } from "../config/host-config.js";
import type { Logger } from "../observability/logger.js";
import { createClient, type RedisClient } from "./redis-connection.js";
import type { DomainEvent } from "../entity/model.js";
import { decodeSnapshot, dedupField, encodeAppend } from "./append-encoding.js";
import { toDuplicates, toEvents, withoutVersion, type StreamEntry } from "./redis-replies.js";
import { KeyLayout } from "./redis-keys.js";
import { parseRetention, type Retention } from "./retention.js";
import { RedisTimers } from "./redis-timers.js";
import { OutboxKeys } from "./outbox-keys.js";
import { redisOutboxAdmin, type OutboxAdmin } from "./outbox-admin.js";
import { SCRIPTS, scriptNameOf, type ScriptName } from "./redis-scripts.js";
import type {
  DedupEntry,
  EntityPage,
  ListEntitiesOptions,
  LoggedEvent,
  StoreIntrospection,
} from "./introspection.js";
import { listDedupFields, listIndexed, listScanned, writeSnapshotIfAt } from "./redis-admin.js";
import { AfterCommit } from "./after-commit.js";
import { appendKeys, sendAppend, sendReindexing, toAppendResult } from "./redis-append.js";
import { deleteEntity, trimRetained } from "./redis-removal.js";
import { waitForReplicas, type ReplicaWait } from "./redis-replicas.js";
import { callRedis, scriptRunner, type RunScript } from "./redis-script-runner.js";
import { connectAndCheck, watchConnection } from "./redis-setup.js";
import { redisReplicated, type ReplicatedStore } from "./replicated/replicated-store.js";
import type { ScriptArg } from "./script-sender.js";
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
  /** Where work after a commit reports its failures (see after-commit.ts). */
  readonly logger?: Logger;
  /** Awaited before each piece of work after a commit starts (tests hold it back with it). */
  readonly holdAfterCommit?: () => Promise<void>;
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
  /** Runs a script: the lean path on a standalone server, EVALSHA through ioredis on a cluster. */
  readonly #run: RunScript;
  readonly #keys: KeyLayout;
  readonly #options: RedisStoreOptions;
  readonly #wait: ReplicaWait;
  /** Durable timers: claim, settle, list (see redis-timers.ts). */
  readonly timers: RedisTimers;
  /** Replicated entities: their load and apply scripts, run like the others (one slot per entity). */
  readonly replicated: ReplicatedStore;
  readonly #outbox: OutboxKeys;
  /** The outbox as the admin API shows it. */
  readonly outboxAdmin: OutboxAdmin;
  /** Trims and timer registrations, after the append's reply (see after-commit.ts). */
  readonly afterCommit: AfterCommit;

  /** Wraps a connected client whose scripts are defined (see `connect`). */
  constructor(client: RedisClient, options: RedisStoreOptions) {
    this.#client = client;
    if (!("ksAppend" in client)) client.defineCommand("ksAppend", { lua: SCRIPTS.ksAppend });
    this.#run = scriptRunner(client);
    this.#keys = new KeyLayout(options.keyPrefix, options.service);
    this.#options = options;
    this.#wait = { replicas: options.waitReplicas, timeoutMs: options.waitTimeoutMs };
    this.afterCommit = new AfterCommit({ logger: options.logger, hold: options.holdAfterCommit });
    this.timers = new RedisTimers(client, this.#keys, {
      ...(options.timerSweepMs === undefined ? {} : { sweepMs: options.timerSweepMs }),
    });
    this.replicated = redisReplicated(
      (lua, keys, args, key) =>
        callRedis("replicated", key, () => {
          const name = scriptNameOf(lua);
          return name === "ksReplicatedLoad"
            ? this.#run(name, keys, args)
            : this.#runAndWait(name, keys, args);
        }),
      options.keyPrefix,
      options.service,
      (key, valuesKey) => this.#outbox.streamOf(key, valuesKey),
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
      logger: log,
    });
    await connectAndCheck(client, target, config, log);
    log.info("connected to Redis", { waitReplicas: config.redisWaitReplicas });
    return store;
  }

  async load(key: EntityKey, dedupIds: readonly string[]): Promise<LoadedEntity> {
    const k = this.#keys.entity(key);
    const reply = (await callRedis("load", key, () =>
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
    const [version, records] = (await callRedis("check", key, () =>
      this.#run("ksCheck", [k.meta, k.events, ...dedupIds.map(k.dedup)], dedupIds.map(dedupField)),
    )) as [number, Array<string | null>];
    const duplicates = toDuplicates(dedupIds, records);
    if (duplicates.size > 0) await this.#awaitReplicas(key, k.meta);
    return { version, duplicates };
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const { key } = request;
    const k = this.#keys.entity(key);
    const send = (index: boolean) => {
      // Serialize everything first: a value that cannot be stored fails before Redis is asked.
      const args = encodeAppend(request, undefined, index);
      const keys = appendKeys(request, k, {
        entityIndex: index ? this.#keys.entityIndex(key.entityType) : undefined,
        outbox: () => this.#outbox.streamOf(key, k.meta),
        dueIndex: () => this.timers.dueIndexOf(key),
      });
      return callRedis("append", key, () => sendAppend(this.#client, this.#run, keys, args, this.#wait));
    };
    const reply = await sendReindexing(send, request.expectedVersion === 0, this.#indexed, () =>
      callRedis("append", key, () => this.#client.hdel(k.meta, "i")),
    );
    const result = toAppendResult(reply, request.checkDedup);
    if (result.kind === "ok") {
      // On a cluster, pollers learn of the slot's new timers from a registry written after the
      // reply; a failure here is left to their sweep (see redis-timer-slots.ts).
      const timers = request.timers ?? [];
      if (timers.length > 0 && this.timers.registers)
        this.afterCommit.run("timer-slots", () => this.timers.indexed(key, timers));
      const trim = request.snapshot !== undefined && request.logEvents;
      const work = trim ? trimRetained(this.#run, this.#options.retention, key, k) : undefined;
      if (work !== undefined) this.afterCommit.once(`trim:${k.meta}`, "trim", work);
    }
    return result;
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
    const [entries, first, values] = (await callRedis("readEvents", key, () =>
      this.#run("ksEvents", [k.meta, k.events], [String(from), to]),
    )) as [StreamEntry[], number, Array<string | null>];
    return toEvents(entries, first, values, withMeta).events;
  }

  /** Erases the entity, then waits for the replicas (see `deleteEntity`). */
  async delete(key: EntityKey): Promise<DeleteResult> {
    const k = this.#keys.entity(key);
    const index = this.#indexed ? this.#keys.entityIndex(key.entityType) : undefined;
    const version = await deleteEntity(this.#client, this.#run, key, k, index, () => ({
      dueIndex: this.timers.dueIndexOf(key),
      outbox: this.#outbox.streamOf(key, k.meta),
      dead: this.#outbox.dead,
    }));
    if (version === 0) return { erased: false, version };
    await this.#awaitReplicas(key, k.meta);
    return { erased: true, version };
  }

  async trimmedThrough(key: EntityKey): Promise<number> {
    const k = this.#keys.entity(key);
    const value = await callRedis("load", key, () => this.#client.hget(k.meta, "f"));
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

  /** After the work after commits, `QUIT` (pending replies arrive first), or a disconnect after 2 s. */
  async close(): Promise<void> {
    if (this.#client.status === "end") return;
    const quit = this.afterCommit
      .idle()
      .then(() => this.#client.quit())
      .then(
        () => true,
        () => false,
      );
    const done = await Promise.race([quit, sleep(2000, false, { ref: false })]);
    if (!done) this.#client.disconnect();
  }

  /**
   * Before a redelivery is answered from its dedup record, the record (and so the append it
   * belongs to) must be on the replicas too (see `waitForReplicas`).
   */
  async #awaitReplicas(key: EntityKey, anchor: string): Promise<void> {
    if (this.#wait.replicas === 0) return;
    await callRedis("wait", key, () => waitForReplicas(this.#client, anchor, this.#wait));
  }

  /** `#run`, then WAIT for the replicas when `waitReplicas` asks for it. */
  async #runAndWait(name: ScriptName, keys: string[], args: ScriptArg[]): Promise<unknown> {
    const reply = await this.#run(name, keys, args);
    if (this.#wait.replicas > 0) await waitForReplicas(this.#client, keys[0]!, this.#wait);
    return reply;
  }
}
