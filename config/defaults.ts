/**
 * Every knstate host setting: its environment variable, its command-line flag and its default.
 * Precedence: flag > environment variable > default. Durations take `ms`, `s`, `m`, `h`
 * suffixes (`30s`); sizes take `b`, `kb`, `mb` (`1mb`); booleans take `true`/`false`/`on`/`off`.
 * The README's configuration table lists the same rows.
 */
export interface Setting {
  readonly key: string;
  readonly env: string;
  readonly flag?: string;
  readonly kind: "string" | "port" | "integer" | "duration" | "size" | "boolean" | "enum" | "list";
  readonly values?: readonly string[];
  readonly default: string | undefined;
  readonly doc: string;
}

export const settings: readonly Setting[] = [
  {
    key: "port",
    env: "PORT",
    flag: "port",
    kind: "port",
    default: "8080",
    doc: "HTTP port (Knative sets PORT).",
  },
  {
    key: "host",
    env: "KNSTATE_HOST",
    flag: "host",
    kind: "string",
    default: "0.0.0.0",
    doc: "Address to bind.",
  },
  {
    key: "metricsPort",
    env: "METRICS_PORT",
    flag: "metrics-port",
    kind: "port",
    default: "9464",
    doc: "Port of GET /metrics (Prometheus); 0 turns it off. Never one of Knative's reserved ports.",
  },
  {
    key: "store",
    env: "KNSTATE_STORE",
    flag: "store",
    kind: "enum",
    values: ["memory", "redis"],
    default: "memory",
    doc: "State store: `memory` (embedded, one process, not durable) or `redis`.",
  },
  {
    key: "redisUrl",
    env: "REDIS_URL",
    flag: "redis-url",
    kind: "string",
    default: "redis://127.0.0.1:6379",
    doc: "Redis URL: `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS.",
  },
  {
    key: "redisClusterNodes",
    env: "REDIS_CLUSTER_NODES",
    flag: "redis-cluster-nodes",
    kind: "list",
    default: undefined,
    doc: "Comma-separated `host:port` seed nodes of a Redis Cluster; credentials and TLS come from REDIS_URL.",
  },
  {
    key: "redisCommandTimeoutMs",
    env: "KNSTATE_REDIS_COMMAND_TIMEOUT",
    kind: "duration",
    default: "2s",
    doc: "A Redis call not answered by then fails with 503 (its outcome is unknown; redelivery is safe).",
  },
  {
    key: "redisConnectTimeoutMs",
    env: "KNSTATE_REDIS_CONNECT_TIMEOUT",
    kind: "duration",
    default: "2s",
    doc: "Timeout of one connection attempt to Redis.",
  },
  {
    key: "redisTlsCaFile",
    env: "KNSTATE_REDIS_TLS_CA_FILE",
    kind: "string",
    default: undefined,
    doc: "PEM file of the CA that signed the Redis server's certificate (rediss://).",
  },
  {
    key: "redisWaitReplicas",
    env: "KNSTATE_REDIS_WAIT_REPLICAS",
    kind: "integer",
    default: "0",
    doc: "Before answering 2xx, WAIT until this many replicas have the append (0: do not wait).",
  },
  {
    key: "redisWaitTimeoutMs",
    env: "KNSTATE_REDIS_WAIT_TIMEOUT",
    kind: "duration",
    default: "1s",
    doc: "How long to WAIT for replicas before answering 503.",
  },
  {
    key: "keyPrefix",
    env: "KNSTATE_KEY_PREFIX",
    kind: "string",
    default: "ks",
    doc: "First segment of every Redis key (the service name follows).",
  },
  {
    key: "cache",
    env: "KNSTATE_CACHE",
    flag: "cache",
    kind: "boolean",
    default: "true",
    doc: "Keep recently used entities in process and append against the cached version (one round trip); off loads on every command.",
  },
  {
    key: "cacheMaxEntities",
    env: "KNSTATE_CACHE_MAX_ENTITIES",
    kind: "integer",
    default: "10000",
    doc: "Entities kept in the cache (least recently used are dropped).",
  },
  {
    key: "groupCommit",
    env: "KNSTATE_GROUP_COMMIT",
    flag: "group-commit",
    kind: "boolean",
    default: "true",
    doc: "Decide commands queued for one entity together and store them in one append.",
  },
  {
    key: "groupCommitMax",
    env: "KNSTATE_GROUP_COMMIT_MAX",
    kind: "integer",
    default: "64",
    doc: "Most commands in one group commit.",
  },
  {
    key: "conflictRetries",
    env: "KNSTATE_CONFLICT_RETRIES",
    kind: "integer",
    default: "10",
    doc: "Reload-and-retry attempts when another replica appended first; then 503.",
  },
  {
    key: "dedupTtlMs",
    env: "KNSTATE_DEDUP_TTL",
    kind: "duration",
    default: "10m",
    doc: "How long a CloudEvent source+id or Idempotency-Key is remembered (redeliveries within it apply once).",
  },
  {
    key: "bodyLimitBytes",
    env: "KNSTATE_BODY_LIMIT",
    kind: "size",
    default: "1mb",
    doc: "Largest request body; larger ones get 413.",
  },
  {
    key: "shutdownTimeoutMs",
    env: "KNSTATE_SHUTDOWN_TIMEOUT",
    kind: "duration",
    default: "25s",
    doc: "On SIGTERM, how long in-flight commands may take before the store is closed.",
  },
  {
    key: "requestTimeoutMs",
    env: "KNSTATE_REQUEST_TIMEOUT",
    kind: "duration",
    default: "30s",
    doc: "A request whose headers and body have not arrived by then is answered 408 and closed.",
  },
  {
    key: "logLevel",
    env: "KNSTATE_LOG_LEVEL",
    flag: "log-level",
    kind: "enum",
    values: ["debug", "info", "warn", "error", "silent"],
    default: "info",
    doc: "Least severe log level written.",
  },
  {
    key: "logFormat",
    env: "KNSTATE_LOG_FORMAT",
    flag: "log-format",
    kind: "enum",
    values: ["json", "pretty"],
    default: "json",
    doc: "`json` (one object per line, for collectors) or `pretty` (for a terminal).",
  },
  {
    key: "service",
    env: "K_SERVICE",
    kind: "string",
    default: "knstate",
    doc: "Service name (Knative sets it): namespaces Redis keys and names reply sources.",
  },
  {
    key: "revision",
    env: "K_REVISION",
    kind: "string",
    default: undefined,
    doc: "Knative revision (telemetry).",
  },
  {
    key: "configuration",
    env: "K_CONFIGURATION",
    kind: "string",
    default: undefined,
    doc: "Knative configuration (telemetry).",
  },
];
