import type { SettingSpec } from "./setting.js";

/** Logs, metrics labels and tracing. */
export const telemetrySettings = {
  logLevel: {
    env: "KNSTATE_LOG_LEVEL",
    flag: "log-level",
    kind: "enum",
    values: ["debug", "info", "warn", "error", "silent"],
    default: "info",
    doc: "Least severe log level written.",
  },
  logFormat: {
    env: "KNSTATE_LOG_FORMAT",
    flag: "log-format",
    kind: "enum",
    values: ["json", "pretty"],
    default: "json",
    doc: "`json` (one object per line, for collectors) or `pretty` (for a terminal).",
  },
  service: {
    env: "K_SERVICE",
    kind: "string",
    default: "knstate",
    doc: "Service name (Knative sets it): namespaces Redis keys and names reply sources.",
  },
  revision: {
    env: "K_REVISION",
    kind: "string",
    default: undefined,
    doc: "Knative revision (telemetry).",
  },
  configuration: {
    env: "K_CONFIGURATION",
    kind: "string",
    default: undefined,
    doc: "Knative configuration (telemetry).",
  },
  podName: {
    env: "POD_NAME",
    kind: "string",
    default: undefined,
    doc: "Pod name (from the downward API): the `faas_instance` label unless FAAS_INSTANCE is set.",
  },
  faasName: {
    env: "FAAS_NAME",
    kind: "string",
    default: undefined,
    doc: "The `faas_name` label of the `faas_*` metrics (default: K_SERVICE).",
  },
  faasVersion: {
    env: "FAAS_VERSION",
    kind: "string",
    default: undefined,
    doc: "The `faas_version` label (default: K_REVISION).",
  },
  faasInstance: {
    env: "FAAS_INSTANCE",
    kind: "string",
    default: undefined,
    doc: "The `faas_instance` label (default: POD_NAME).",
  },
  metricsStartupQueueMax: {
    env: "KNSTATE_METRICS_STARTUP_QUEUE",
    kind: "integer",
    default: "100000",
    doc: "Observations kept for the metrics until prom-client has loaded after start-up; more are not counted.",
  },
  otel: {
    env: "OTEL_*",
    kind: "prefix",
    default: undefined,
    doc: "The OpenTelemetry variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER…), passed to the tracer as they are; an endpoint turns tracing on.",
  },
  tracesFlushTimeoutMs: {
    env: "KNSTATE_TRACES_FLUSH_TIMEOUT",
    kind: "duration",
    default: "5s",
    doc: "On shutdown, how long buffered spans may take to export.",
  },
} as const satisfies Record<string, SettingSpec>;
