import { readFileSync } from "node:fs";

type Env = Readonly<Record<string, string | undefined>>;

export type OtlpProtocol = "http/protobuf" | "http/json";

/** Where and how spans are exported: the standard `OTEL_EXPORTER_OTLP_*` variables. */
export interface OtlpExportConfig {
  readonly url: URL;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly gzip: boolean;
  /** PEM: the CA to trust, and a client certificate and key for mutual TLS. */
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
}

/** How spans are batched: the standard `OTEL_BSP_*` variables. */
export interface BatchConfig {
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduleDelayMs: number;
  readonly exportTimeoutMs: number;
}

/** The signal-specific variable (`OTEL_EXPORTER_OTLP_TRACES_<name>`), else the general one. */
function otlpVar(env: Env, name: string): string | undefined {
  const value = env[`OTEL_EXPORTER_OTLP_TRACES_${name}`]?.trim() || env[`OTEL_EXPORTER_OTLP_${name}`]?.trim();
  return value === "" ? undefined : value;
}

/** The OTLP protocol the environment asks for (`http/protobuf` by default). */
export function otlpProtocol(env: Env): string {
  return otlpVar(env, "PROTOCOL") ?? "http/protobuf";
}

function positive(env: Env, name: string, fallback: number): number {
  const value = Number(env[name]);
  return env[name]?.trim() && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** `k1=v1,k2=v2`, percent-decoded (the W3C baggage format the OTel variables use). */
export function parseKeyValues(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    try {
      const key = decodeURIComponent(pair.slice(0, at).trim());
      if (key !== "") out[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // A malformed escape: the pair is skipped, as the specification asks.
    }
  }
  return out;
}

function readPem(path: string | undefined): Buffer | undefined {
  return path === undefined ? undefined : readFileSync(path);
}

/**
 * The export settings for traces. A signal-specific endpoint is used as given; the general
 * `OTEL_EXPORTER_OTLP_ENDPOINT` gets `/v1/traces` appended; the default is the local collector
 * (`http://localhost:4318/v1/traces`). Throws when the endpoint is not an http(s) URL or a
 * certificate file cannot be read.
 */
export function otlpExportConfig(env: Env): OtlpExportConfig {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const general = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const endpoint = specific
    ? specific
    : general
      ? `${general.replace(/\/+$/, "")}/v1/traces`
      : "http://localhost:4318/v1/traces";
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT is not a URL: ${endpoint}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`the OTLP endpoint must be http:// or https://, not ${url.protocol}`);
  }
  const protocol = otlpProtocol(env) === "http/json" ? "http/json" : "http/protobuf";
  return {
    url,
    protocol,
    headers: parseKeyValues(otlpVar(env, "HEADERS")),
    timeoutMs: positive(
      env,
      env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT
        ? "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"
        : "OTEL_EXPORTER_OTLP_TIMEOUT",
      10_000,
    ),
    gzip: otlpVar(env, "COMPRESSION") === "gzip",
    ca: readPem(otlpVar(env, "CERTIFICATE")),
    cert: readPem(otlpVar(env, "CLIENT_CERTIFICATE")),
    key: readPem(otlpVar(env, "CLIENT_KEY")),
  };
}

export function batchConfig(env: Env): BatchConfig {
  const maxQueueSize = positive(env, "OTEL_BSP_MAX_QUEUE_SIZE", 2048);
  return {
    maxQueueSize,
    maxExportBatchSize: Math.min(maxQueueSize, positive(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512)),
    scheduleDelayMs: positive(env, "OTEL_BSP_SCHEDULE_DELAY", 5000),
    exportTimeoutMs: positive(env, "OTEL_BSP_EXPORT_TIMEOUT", 30_000),
  };
}
