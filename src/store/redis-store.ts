import { setTimeout as sleep } from "node:timers/promises";
import { Cluster, type ChainableCommander, type Redis } from "ioredis";
import type { HostConfig } from "../config/host-config.js";
import type { DomainEvent } from "../entity/model.js";
import { StoreUnavailable } from "../errors/host-error.js";
import type { Logger } from "../observability/logger.js";
import { createClient, type RedisClient } from "./redis-connection.js";
import { KeyLayout } from "./redis-keys.js";
import { SCRIPTS, type ScriptName } from "./redis-scripts.js";
import { script, ScriptSender, withScriptFallback, type Script, type ScriptArg } from "./script-sender.js";
import type {
  AppendRequest,
  AppendResult,
  CheckResult,
  DedupRecord,
  EntityKey,
  LoadedEntity,
  StateStore,
} from "./state-store.js";

/**
 * The append script as an ioredis custom command (`numkeys, ...keys, ...args`), for the
 * pipeline that sends it with WAIT: ioredis then handles a lost script inside the pipeline.
 */
interface AppendCommand {
  ksAppend(...args: ScriptArg[]): Promise<unknown>;
}
type StreamEntry = [id: string, fields: string[]];

export interface RedisStoreOptions {
  readonly keyPrefix: string;
  readonly service: string;
  /** WAIT for this many replicas after each append (0: do not wait). */
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
}

/**
 * The Redis state store. Each operation is one round trip: a Lua script loads (version,
 * snapshot, events after it, dedup hits), checks, or appends conditionally (dedup check, then
 * expected version, then events + version + snapshot + dedup records, all or nothing). All keys
 * of an entity share a hash tag, so this works unchanged on Redis Cluster. Any Redis failure
 * becomes `StoreUnavailable` (503): the host never guesses the outcome of an append.
 */
export class RedisStore implements StateStore {
  readonly name = "redis";
  readonly #client: RedisClient;
  /** The lean path on a standalone server; on a cluster, EVALSHA through ioredis (see `#run`). */
  readonly #sender: ScriptSender | undefined;
  readonly #keys: KeyLayout;
  readonly #options: RedisStoreOptions;

  /** Wraps a connected client whose scripts are defined (see `connect`). */
  constructor(client: RedisClient, options: RedisStoreOptions) {
    this.#client = client;
    if (!("ksAppend" in client)) client.defineCommand("ksAppend", { lua: SCRIPTS.ksAppend });
    this.#sender = client instanceof Cluster ? undefined : new ScriptSender(client);
    this.#keys = new KeyLayout(options.keyPrefix, options.service);
    this.#options = options;
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
      this.#run("ksLoad", [k.meta, k.events, ...dedupIds.map(k.dedup)], []),
    )) as [number, number, string | null, StreamEntry[], Array<string | null>];
    const [version, snapshotVersion, snapshot, entries, records] = reply;
    const duplicates = toDuplicates(dedupIds, records);
    if (duplicates.size > 0) await this.#awaitReplicas(key, k.meta);
    const events: DomainEvent[] = [];
    let eventsSize = 0;
    for (const [, fields] of entries) {
      events.push(toEvent(fields));
      for (let i = 1; i < fields.length; i += 2) eventsSize += fields[i]!.length;
    }
    const snapshotSize = snapshot === null ? 0 : snapshot.length;
    return {
      version,
      snapshot: snapshot === null ? undefined : { version: snapshotVersion, state: parseJson(snapshot) },
      events,
      duplicates,
      ...(snapshotSize + eventsSize > 0 ? { stored: { snapshot: snapshotSize, events: eventsSize } } : {}),
    };
  }

  async check(key: EntityKey, dedupIds: readonly string[]): Promise<CheckResult> {
    const k = this.#keys.entity(key);
    const [version, records] = (await this.#call("check", key, () =>
      this.#run("ksCheck", [k.meta, ...dedupIds.map(k.dedup)], []),
    )) as [number, Array<string | null>];
    const duplicates = toDuplicates(dedupIds, records);
    if (duplicates.size > 0) await this.#awaitReplicas(key, k.meta);
    return { version, duplicates };
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const { key } = request;
    const k = this.#keys.entity(key);
    // Serialize everything first: a value that cannot be stored fails before Redis is asked.
    const { events, checkDedup, writeDedup, snapshot } = request;
    const keys = [k.meta, k.events];
    for (const id of checkDedup) keys.push(k.dedup(id));
    for (const [id] of writeDedup) keys.push(k.dedup(id));
    const args: ScriptArg[] = [
      request.expectedVersion,
      events.length,
      request.logEvents ? "1" : "0",
      snapshot ? snapshot.version : "",
      snapshot ? stringify(snapshot.state) : "",
      Math.max(1, Math.round(request.dedupTtlMs)),
      checkDedup.length,
      writeDedup.length,
    ];
    for (const event of events) {
      if (request.logEvents) args.push(event.type, stringify(event.data));
      else args.push("", "");
    }
    for (const [, record] of writeDedup) args.push(JSON.stringify(record));
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
    if (kind === "ok") return { kind: "ok", version: value as number };
    if (kind === "conflict") return { kind: "conflict", version: value as number };
    const hits = value as Array<number | string>;
    const duplicates = new Map<string, DedupRecord>();
    for (let i = 0; i + 1 < hits.length; i += 2) {
      const id = request.checkDedup[(hits[i] as number) - 1];
      if (id !== undefined) duplicates.set(id, parseJson(hits[i + 1] as string) as DedupRecord);
    }
    return { kind: "duplicate", duplicates };
  }

  async readEvents(
    key: EntityKey,
    fromVersion: number,
    toVersion?: number,
  ): Promise<Array<DomainEvent & { version: number }>> {
    const k = this.#keys.entity(key);
    const from = Math.max(1, Math.floor(fromVersion));
    if (toVersion !== undefined && toVersion < from) return [];
    const to = toVersion === undefined ? "+" : String(Math.floor(toVersion));
    const entries = (await this.#call("readEvents", key, () =>
      this.#client.xrange(k.events, String(from), to),
    )) as StreamEntry[];
    return entries.map(([id, fields]) => ({ ...toEvent(fields), version: Number(id.split("-")[0]) }));
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

/** Each script with its SHA-1. */
const LOADED = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, lua]) => [name, script(lua)]),
) as Readonly<Record<ScriptName, Script>>;

/** Puts the scripts in the server's cache now, so the first command does not pay for it. */
async function loadScripts(server: Redis, logger: Logger): Promise<void> {
  try {
    await Promise.all(Object.values(SCRIPTS).map((lua) => server.script("LOAD", lua)));
  } catch (error) {
    const message = (error as Error).message;
    if (/NOPERM/i.test(message)) {
      logger.warn("SCRIPT LOAD is not allowed for this Redis user; scripts load on first use", {
        error: message,
      });
      return;
    }
    throw new Error(`Redis rejected the knstate Lua scripts (Redis 7.0 or later is needed): ${message}`, {
      cause: error,
    });
  }
}

/** Refuses an evicting server; warns when it is not durable or its settings cannot be read. */
async function checkServer(server: Redis, logger: Logger): Promise<void> {
  let policy: string | undefined;
  let aof: string | undefined;
  try {
    const [p, a] = await Promise.all([
      server.config("GET", "maxmemory-policy") as Promise<string[]>,
      server.config("GET", "appendonly") as Promise<string[]>,
    ]);
    policy = p[1];
    aof = a[1];
  } catch (error) {
    logger.warn(
      "cannot read the Redis configuration (CONFIG GET is not allowed?): make sure maxmemory-policy is noeviction and appendonly is yes",
      { error: (error as Error).message },
    );
    return;
  }
  if (policy !== undefined && policy !== "noeviction") {
    throw new Error(
      `Redis maxmemory-policy is "${policy}": knstate needs "noeviction", because evicting keys would silently lose entity state and dedup records. Set maxmemory-policy noeviction in redis.conf (or CONFIG SET maxmemory-policy noeviction).`,
    );
  }
  if (aof === "no") {
    logger.warn(
      "Redis appendonly is off: acknowledged state can be lost when Redis restarts. Set appendonly yes (and appendfsync everysec or always).",
    );
  }
}

/** Logs connection loss and recovery, at most one warning per distinct error every 10 s. */
function watchConnection(client: RedisClient, logger: Logger): void {
  let last = "";
  let lastAt = 0;
  let lost = false;
  client.on("error", (error: Error) => {
    const now = Date.now();
    if (error.message === last && now - lastAt < 10_000) return;
    last = error.message;
    lastAt = now;
    logger.warn("Redis connection error", { error: error.message });
  });
  // Emitted only when a reconnect is scheduled, not on a deliberate close.
  client.on("reconnecting", () => {
    if (lost) return;
    lost = true;
    logger.warn("Redis connection lost; reconnecting");
  });
  client.on("ready", () => {
    if (lost) logger.info("Redis connection restored");
    lost = false;
  });
}

function toEvent(fields: readonly string[]): DomainEvent {
  let type = "";
  let data: unknown = undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "t") type = fields[i + 1]!;
    else if (fields[i] === "d") data = parseJson(fields[i + 1]!);
  }
  return { type, data };
}

/** What most loads find: no dedup record (shared, never written to). */
const NO_DUPLICATES: ReadonlyMap<string, DedupRecord> = new Map();

function toDuplicates(
  ids: readonly string[],
  records: ReadonlyArray<string | null>,
): ReadonlyMap<string, DedupRecord> {
  let found: Map<string, DedupRecord> | undefined;
  for (let i = 0; i < ids.length; i++) {
    const record = records[i];
    if (record === null || record === undefined) continue;
    found ??= new Map();
    found.set(ids[i]!, parseJson(record) as DedupRecord);
  }
  return found ?? NO_DUPLICATES;
}

/** JSON text of a value; "" for `undefined` (which JSON cannot hold). */
function stringify(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  return text ?? "";
}

function parseJson(text: string): unknown {
  return text === "" ? undefined : JSON.parse(text);
}
