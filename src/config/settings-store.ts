import type { SettingSpec } from "./setting.js";

/** The state store and its Redis connection. */
export const storeSettings = {
  store: {
    env: "KNSTATE_STORE",
    flag: "store",
    kind: "enum",
    values: ["memory", "redis"],
    default: "memory",
    doc: "State store: `memory` (embedded, one process, not durable) or `redis`.",
  },
  redisUrl: {
    env: "REDIS_URL",
    flag: "redis-url",
    kind: "string",
    default: "redis://127.0.0.1:6379",
    doc: "Redis URL: `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS.",
  },
  redisClusterNodes: {
    env: "REDIS_CLUSTER_NODES",
    flag: "redis-cluster-nodes",
    kind: "list",
    default: undefined,
    doc: "Comma-separated `host:port` seed nodes of a Redis Cluster; credentials and TLS come from REDIS_URL.",
  },
  redisCommandTimeoutMs: {
    env: "KNSTATE_REDIS_COMMAND_TIMEOUT",
    kind: "duration",
    default: "2s",
    doc: "A Redis call not answered by then fails with 503 (its outcome is unknown; redelivery is safe).",
  },
  redisConnectTimeoutMs: {
    env: "KNSTATE_REDIS_CONNECT_TIMEOUT",
    kind: "duration",
    default: "2s",
    doc: "Timeout of one connection attempt to Redis.",
  },
  redisTlsCaFile: {
    env: "KNSTATE_REDIS_TLS_CA_FILE",
    kind: "string",
    default: undefined,
    doc: "PEM file of the CA that signed the Redis server's certificate (rediss://).",
  },
  redisWaitReplicas: {
    env: "KNSTATE_REDIS_WAIT_REPLICAS",
    kind: "integer",
    default: "0",
    doc: "Before answering 2xx, WAIT until this many replicas have the append (0: do not wait).",
  },
  redisWaitTimeoutMs: {
    env: "KNSTATE_REDIS_WAIT_TIMEOUT",
    kind: "duration",
    default: "1s",
    doc: "How long to WAIT for replicas before answering 503.",
  },
  retainEvents: {
    env: "KNSTATE_RETAIN_EVENTS",
    kind: "list",
    default: undefined,
    doc: "Event retention per entity kind, `<entity>=<n>` or `*=<n>`: when a snapshot is written, events older than it but the last n are deleted (unset: keep every event).",
  },
  keyPrefix: {
    env: "KNSTATE_KEY_PREFIX",
    kind: "string",
    default: "ks",
    doc: "First segment of every Redis key (the service name follows).",
  },
} as const satisfies Record<string, SettingSpec>;
