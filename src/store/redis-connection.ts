import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import type { HostConfig } from "../config/host-config.js";

export type RedisClient = Redis | Cluster;

/** The settings that shape the connection (a subset of `HostConfig`). */
export type ConnectionConfig = Pick<
  HostConfig,
  "redisUrl" | "redisClusterNodes" | "redisCommandTimeoutMs" | "redisConnectTimeoutMs" | "redisTlsCaFile"
>;

/** The URL with its password replaced by `***`, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<unparsable REDIS_URL>";
  }
}

interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: ConnectionOptions | undefined;
}

/** Reads `REDIS_URL` (and the CA file for `rediss://`). Throws with a message naming the setting. */
export function parseRedisUrl(config: ConnectionConfig): Endpoint {
  let url: URL;
  try {
    url = new URL(config.redisUrl);
  } catch {
    throw new Error(
      `REDIS_URL ${redactUrl(config.redisUrl)} is not a URL (redis://host:port or rediss://host:port)`,
    );
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new Error(`REDIS_URL must start with redis:// or rediss://, not ${url.protocol}//`);
  }
  const secure = url.protocol === "rediss:";
  if (config.redisTlsCaFile !== undefined && !secure) {
    throw new Error("KNSTATE_REDIS_TLS_CA_FILE is set but REDIS_URL is redis:// (plaintext): use rediss://");
  }
  const dbText = url.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isSafeInteger(db) || db < 0) throw new Error(`REDIS_URL database "${dbText}" is not a number`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  let tls: ConnectionOptions | undefined;
  if (secure) {
    tls = isIP(host) === 0 ? { servername: host } : {};
    if (config.redisTlsCaFile !== undefined) {
      try {
        tls = { ...tls, ca: [readFileSync(config.redisTlsCaFile)] };
      } catch (error) {
        throw new Error(
          `KNSTATE_REDIS_TLS_CA_FILE ${config.redisTlsCaFile} cannot be read: ${(error as Error).message}`,
        );
      }
    }
  }
  return {
    host,
    port: url.port === "" ? 6379 : Number(url.port),
    db,
    username: url.username === "" ? undefined : decodeURIComponent(url.username),
    password: url.password === "" ? undefined : decodeURIComponent(url.password),
    tls,
  };
}

/**
 * ioredis options that fail fast: a request never waits for a lost connection longer than the
 * command timeout, and nothing queues while disconnected (the host answers 503 and the
 * broker redelivers). Reconnection keeps going in the background with a bounded delay.
 */
function baseOptions(config: ConnectionConfig, endpoint: Endpoint): RedisOptions {
  return {
    ...(endpoint.username === undefined ? {} : { username: endpoint.username }),
    ...(endpoint.password === undefined ? {} : { password: endpoint.password }),
    ...(endpoint.tls === undefined ? {} : { tls: endpoint.tls }),
    connectTimeout: config.redisConnectTimeoutMs,
    commandTimeout: config.redisCommandTimeoutMs,
    // One resend after a reconnect at most: the dedup record and the expected version make
    // a resent append harmless, and the command timeout bounds the wait anyway.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    enableReadyCheck: true,
    lazyConnect: true,
    // 50 ms, 100 ms, 200 ms … then every second: quick after a blip, gentle during an outage,
    // and never giving up, so the host recovers on its own.
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times - 1, 5), 1000),
    reconnectOnError: () => false,
    // Commands issued in one event-loop turn (many entities' appends) go out in one socket write.
    // The store's scripts take a leaner path on a standalone server (see ScriptSender); this
    // covers the rest, and everything on a cluster.
    enableAutoPipelining: true,
  };
}

/** A client for `REDIS_CLUSTER_NODES` when set, else for `REDIS_URL`; not yet connected. */
export function createClient(config: ConnectionConfig): { client: RedisClient; target: string } {
  const endpoint = parseRedisUrl(config);
  const options = baseOptions(config, endpoint);
  const nodes = config.redisClusterNodes;
  if (nodes !== undefined && nodes.length > 0) {
    const seeds = nodes.map((node) => {
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(node);
      if (!m) throw new Error(`REDIS_CLUSTER_NODES entry "${node}" is not host:port`);
      return { host: m[1]!, port: Number(m[2]) };
    });
    const clusterOptions: ClusterOptions = {
      redisOptions: options,
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      enableReadyCheck: true,
      lazyConnect: true,
      maxRedirections: 16,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      slotsRefreshTimeout: config.redisConnectTimeoutMs,
      clusterRetryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times - 1, 4), 1000),
      scaleReads: "master",
    };
    return {
      client: new Cluster(seeds, clusterOptions),
      target: `cluster ${nodes.join(",")}${endpoint.tls ? " (TLS)" : ""}`,
    };
  }
  return {
    client: new Redis({ ...options, host: endpoint.host, port: endpoint.port, db: endpoint.db }),
    target: redactUrl(config.redisUrl),
  };
}
