import { Cluster } from "ioredis";
import { StoreUnavailable } from "../errors/host-error.js";
import type { RedisClient } from "./redis-connection.js";
import { SCRIPTS, type ScriptName } from "./redis-scripts.js";
import { script, ScriptSender, withScriptFallback, type Script, type ScriptArg } from "./script-sender.js";
import type { EntityKey } from "./state-store.js";

/** Runs one of the store's scripts by name with its KEYS and ARGV. */
export type RunScript = (name: ScriptName, keys: string[], args: ScriptArg[]) => Promise<unknown>;

/** Each script with its SHA-1. */
const LOADED = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, lua]) => [name, script(lua)]),
) as Readonly<Record<ScriptName, Script>>;

/** How the store runs its scripts on `client`: the lean path on a standalone server, EVALSHA on a cluster. */
export function scriptRunner(client: RedisClient): RunScript {
  if (!(client instanceof Cluster)) {
    const sender = new ScriptSender(client);
    return (name, keys, args) => sender.run(LOADED[name], keys, args);
  }
  // On a cluster, plain EVALSHA: auto-pipelining groups commands by their first key, which it
  // finds for EVALSHA but not for a custom command (it would take the key count for a key and
  // mix different nodes' entities in one pipeline, which ioredis then refuses).
  return (name, keys, args) =>
    withScriptFallback(LOADED[name], (command, source) =>
      client[command](source, keys.length, ...keys, ...args),
    );
}

/** `run`'s result; any failure, thrown or rejected, becomes `StoreUnavailable`. */
export function callRedis<T>(operation: string, key: EntityKey, run: () => Promise<T>): Promise<T> {
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
