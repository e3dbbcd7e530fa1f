import type { SettingSpec } from "./setting.js";

/** The HTTP server, its limits and its lifecycle. */
export const serverSettings = {
  port: {
    env: "PORT",
    flag: "port",
    kind: "port",
    default: "8080",
    doc: "HTTP port (Knative sets PORT).",
  },
  host: {
    env: "KNSTATE_HOST",
    flag: "host",
    kind: "string",
    default: "0.0.0.0",
    doc: "Address to bind.",
  },
  metricsPort: {
    env: "METRICS_PORT",
    flag: "metrics-port",
    kind: "port",
    default: "9464",
    doc: "Port of GET /metrics (Prometheus); 0 turns it off. Never one of Knative's reserved ports.",
  },
  adminPort: {
    env: "ADMIN_PORT",
    flag: "admin-port",
    kind: "port",
    default: "9465",
    doc: "Port of the admin API and console (reach it with kubectl port-forward); 0 turns it off. Never one of Knative's reserved ports.",
  },
  adminToken: {
    env: "KNSTATE_ADMIN_TOKEN",
    kind: "string",
    default: undefined,
    doc: "When set, every admin request needs `Authorization: Bearer <token>`.",
  },
  adminRole: {
    env: "KNSTATE_ADMIN_ROLE",
    kind: "string",
    default: "knstate-admin",
    doc: "With `KNSTATE_API_AUTH=jwt`, the admin port also admits a JWT the API accepts that has this role (`roles`, `realm_access.roles`) or scope.",
  },
  traceUrl: {
    env: "KNSTATE_TRACE_URL",
    kind: "string",
    default: undefined,
    doc: "The console links an event to its trace with this URL, `{traceId}` replaced (e.g. `http://jaeger:16686/trace/{traceId}`).",
  },
  dashboardUrl: {
    env: "KNSTATE_DASHBOARD_URL",
    kind: "string",
    default: undefined,
    doc: "The console links to this dashboard (e.g. the Grafana dashboard of observability/).",
  },
  eventMetadata: {
    env: "KNSTATE_EVENT_METADATA",
    kind: "enum",
    values: ["off", "trace", "full"],
    default: "trace",
    doc: "Stored with each command's events for the admin API: `trace` (time, trace id), `full` (also CloudEvent id and source) or `off`.",
  },
  entityIndex: {
    env: "KNSTATE_ENTITY_INDEX",
    kind: "boolean",
    default: "true",
    doc: "Keep an index of entity ids by creation time (written with an entity's first append) for the admin listing.",
  },
  functions: {
    env: "KNSTATE_FUNCTIONS",
    kind: "list",
    default: undefined,
    doc: "Comma-separated function folders to serve when `knstate serve` names none.",
  },
  bodyLimitBytes: {
    env: "KNSTATE_BODY_LIMIT",
    kind: "size",
    default: "1mb",
    doc: "Largest request body; larger ones get 413.",
  },
  shutdownTimeoutMs: {
    env: "KNSTATE_SHUTDOWN_TIMEOUT",
    kind: "duration",
    default: "25s",
    doc: "On SIGTERM, how long in-flight commands may take before the store is closed.",
  },
  requestTimeoutMs: {
    env: "KNSTATE_REQUEST_TIMEOUT",
    kind: "duration",
    default: "30s",
    doc: "A request whose headers and body have not arrived by then is answered 408 and closed.",
  },
  headersTimeoutMs: {
    env: "KNSTATE_HEADERS_TIMEOUT",
    kind: "duration",
    default: "10s",
    doc: "A request whose headers have not all arrived by then is closed (at most KNSTATE_REQUEST_TIMEOUT).",
  },
  keepAliveTimeoutMs: {
    env: "KNSTATE_KEEP_ALIVE_TIMEOUT",
    kind: "duration",
    default: "65s",
    doc: "How long an idle keep-alive connection stays open (longer than the queue-proxy's, so it closes first).",
  },
  readinessTimeoutMs: {
    env: "KNSTATE_READINESS_TIMEOUT",
    kind: "duration",
    default: "1s",
    doc: "`/readyz` answers 503 when the store has not answered a ping by then.",
  },
  drainQuietMs: {
    env: "KNSTATE_DRAIN_QUIET",
    kind: "duration",
    default: "300ms",
    doc: "On SIGTERM, how long the host keeps accepting after the last request, for requests already routed to it.",
  },
} as const satisfies Record<string, SettingSpec>;
