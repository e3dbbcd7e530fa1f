import { Cluster, type Redis } from "ioredis";
import type { HostConfig } from "../config/host-config.js";
import type { Logger } from "../observability/logger.js";
import type { RedisClient } from "./redis-connection.js";
import { SCRIPTS } from "./redis-scripts.js";

/** Puts the scripts in the server's cache now, so the first command does not pay for it. */
export async function loadScripts(server: Redis, logger: Logger): Promise<void> {
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
export async function checkServer(server: Redis, logger: Logger): Promise<void> {
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
export function watchConnection(client: RedisClient, logger: Logger): void {
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

/**
 * Connects `client`, then loads the scripts and checks the server's configuration on every
 * master at once (`checkServer`, `loadScripts`); disconnects and rejects when any of it fails.
 */
export async function connectAndCheck(
  client: RedisClient,
  target: string,
  config: HostConfig,
  log: Logger,
): Promise<void> {
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
}
