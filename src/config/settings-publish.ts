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
    doc: "Events waiting to be published; when full, new ones are dropped (counted and logged).",
  },
  sinkConcurrency: {
    env: "KNSTATE_SINK_CONCURRENCY",
    kind: "integer",
    default: "4",
    doc: "Requests to K_SINK in flight at once.",
  },
  sinkFlushTimeoutMs: {
    env: "KNSTATE_SINK_FLUSH_TIMEOUT",
    kind: "duration",
    default: "2s",
    doc: "On shutdown, how long queued events may take to publish.",
  },
} as const satisfies Record<string, SettingSpec>;
