import type { SettingSpec } from "./setting.js";

/** The command pipeline: cache, group commit, retries, deduplication. */
export const pipelineSettings = {
  cache: {
    env: "KNSTATE_CACHE",
    flag: "cache",
    kind: "boolean",
    default: "true",
    doc: "Keep recently used entities in process and append against the cached version (one round trip); off loads on every command.",
  },
  cacheMaxEntities: {
    env: "KNSTATE_CACHE_MAX_ENTITIES",
    kind: "integer",
    default: "10000",
    doc: "Entities kept in the cache (least recently used are dropped).",
  },
  cacheMaxBytes: {
    env: "KNSTATE_CACHE_MAX_BYTES",
    kind: "size",
    default: "64mb",
    doc: "Bytes of entity state kept in the cache, whatever their count (fits the manifests' 256 Mi with room).",
  },
  groupCommit: {
    env: "KNSTATE_GROUP_COMMIT",
    flag: "group-commit",
    kind: "boolean",
    default: "true",
    doc: "Decide commands queued for one entity together and store them in one append.",
  },
  groupCommitMax: {
    env: "KNSTATE_GROUP_COMMIT_MAX",
    kind: "integer",
    default: "64",
    doc: "Most commands in one group commit.",
  },
  conflictRetries: {
    env: "KNSTATE_CONFLICT_RETRIES",
    kind: "integer",
    default: "10",
    doc: "Reload-and-retry attempts when another replica appended first; then 503.",
  },
  conflictBackoffBaseMs: {
    env: "KNSTATE_CONFLICT_BACKOFF_BASE",
    kind: "duration",
    default: "2ms",
    doc: "After the n-th conflict, wait a random time up to this times 2^(n-1) (full jitter) before retrying.",
  },
  conflictBackoffMaxMs: {
    env: "KNSTATE_CONFLICT_BACKOFF_MAX",
    kind: "duration",
    default: "100ms",
    doc: "Cap of that random wait.",
  },
  dedupTtlMs: {
    env: "KNSTATE_DEDUP_TTL",
    kind: "duration",
    default: "10m",
    doc: "How long a CloudEvent source+id or Idempotency-Key is remembered (redeliveries within it apply once).",
  },
  replicatedPredict: {
    env: "KNSTATE_REPLICATED_PREDICT",
    kind: "boolean",
    default: "true",
    doc: "Replicated entities on Redis: compute a batch in process when this host wrote the entity last, and have Redis check and write the result; off: Redis applies every operation.",
  },
} as const satisfies Record<string, SettingSpec>;
