import type { SettingSpec } from "./setting.js";

/** Publishing committed events to the sink of a Knative SinkBinding. */
export const publishSettings = {
  sink: {
    env: "K_SINK",
    kind: "url",
    default: undefined,
    doc: "Where committed events are published as CloudEvents (a SinkBinding sets it); unset: not published.",
  },
  ceOverrides: {
    env: "K_CE_OVERRIDES",
    kind: "json",
    default: undefined,
    doc: 'Extensions added to every published event, as a SinkBinding writes them: `{"extensions":{"name":"value"}}`.',
  },
  caCerts: {
    env: "K_CA_CERTS",
    kind: "pem",
    default: undefined,
    doc: "PEM certificates trusted for a K_SINK with TLS (a SinkBinding sets them).",
  },
  sinkTimeoutMs: {
    env: "K_SINK_TIMEOUT",
    kind: "seconds",
    default: "5",
    doc: "Seconds one request to K_SINK may take.",
  },
  sinkQueueMax: {
    env: "KNSTATE_SINK_QUEUE",
    kind: "integer",
    default: "1000",
    doc: "Outbox entries one pod reads ahead of publishing them.",
  },
  sinkConcurrency: {
    env: "KNSTATE_SINK_CONCURRENCY",
    kind: "integer",
    default: "16",
    doc: "Requests to K_SINK in flight at once (one per entity at most, so each entity's events stay in order).",
  },
  sinkFlushTimeoutMs: {
    env: "KNSTATE_SINK_FLUSH_TIMEOUT",
    kind: "duration",
    default: "2s",
    doc: "On shutdown, how long the relay may keep publishing the outbox; the rest waits for the next pod.",
  },
  outboxRelay: {
    env: "KNSTATE_OUTBOX_RELAY",
    kind: "boolean",
    default: "true",
    doc: "Whether `knstate serve` relays the outbox to K_SINK; `false`: it only writes the outbox, and `knstate relay` publishes it.",
  },
  outboxLeaseMs: {
    env: "KNSTATE_OUTBOX_LEASE",
    kind: "duration",
    default: "10s",
    doc: "How long a pod relays an outbox shard without renewing; a dead pod's shards move to another after it.",
  },
  outboxPollMs: {
    env: "KNSTATE_OUTBOX_POLL",
    kind: "duration",
    default: "200ms",
    doc: "How often the relay reads the outbox when this pod commits nothing to publish (`knstate relay`: 20ms unless set).",
  },
  outboxMaxAttempts: {
    env: "KNSTATE_OUTBOX_MAX_ATTEMPTS",
    kind: "integer",
    default: "5",
    doc: "Attempts of an event K_SINK refuses (a 4xx but 404, 408, 409, 429) before it goes to the dead-letter stream.",
  },
  outboxBackoffMs: {
    env: "KNSTATE_OUTBOX_BACKOFF",
    kind: "duration",
    default: "100ms",
    doc: "First wait before publishing an event again; doubles per attempt.",
  },
  outboxBackoffMaxMs: {
    env: "KNSTATE_OUTBOX_BACKOFF_MAX",
    kind: "duration",
    default: "30s",
    doc: "Longest wait between two attempts of one event.",
  },
} as const satisfies Record<string, SettingSpec>;
