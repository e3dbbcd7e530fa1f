import type { IncomingMessage, ServerResponse } from "node:http";
import type { PipelineObserver } from "../host/observer.js";
import type { LogFields, Logger } from "./logger.js";
import { redactUrl } from "./redact.js";

/**
 * Tracing as the rest of the host sees it. Made by `tracing-sdk.ts`, which is imported only
 * when tracing is configured: without it no OpenTelemetry module is loaded at all.
 */
export interface Tracing {
  /** Span hooks of the command pipeline: one span per CloudEvent, children for its steps. */
  readonly observer: PipelineObserver;
  /** `HostOptions.wrapRequest`: continues the HTTP `traceparent`, one span per API request. */
  readonly wrapRequest: (
    kind: "cloudevent" | "api" | "probe",
    req: IncomingMessage,
    res: ServerResponse,
    next: () => Promise<void> | void,
  ) => Promise<void> | void;
  /** Fields for every log line: the current trace and span ids, and the CloudEvent id. */
  readonly logContext: () => LogFields | undefined;
  /** Exports the spans still buffered and stops (bounded by `timeoutMs`). */
  shutdown(timeoutMs?: number): Promise<void>;
}

export interface TracingOptions {
  /** `service.name` unless `OTEL_SERVICE_NAME` names it (`serviceNameSet`). */
  readonly service: string;
  /** True when `OTEL_SERVICE_NAME` is set: the SDK takes the name from there. */
  readonly serviceNameSet?: boolean;
  /** `service.version`: the Knative revision, when known. */
  readonly revision?: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * True when the standard OpenTelemetry variables ask for traces: an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or an explicit
 * `OTEL_TRACES_EXPORTER` other than `none`; never when `OTEL_SDK_DISABLED=true`.
 */
export function tracingConfigured(env: Env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "" && s !== "null");
  if (exporters.length > 0) return !(exporters.length === 1 && exporters[0] === "none");
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts tracing when the environment configures it (see `tracingConfigured`), else resolves
 * `undefined` without loading the SDK, so a cold start without tracing pays nothing for it.
 * The SDK reads the usual `OTEL_*` variables from the process environment itself (sampler,
 * protocol, headers, batch delays).
 */
export async function startTracing(
  env: Env,
  options: TracingOptions & { readonly logger: Logger },
  load: () => Promise<{ createTracing(options: TracingOptions): Tracing }> = () => import("./tracing-sdk.js"),
): Promise<Tracing | undefined> {
  if (!tracingConfigured(env)) return undefined;
  const sdk = await load();
  const tracing = sdk.createTracing({
    service: options.service,
    revision: options.revision,
    serviceNameSet: Boolean(env.OTEL_SERVICE_NAME?.trim()),
  });
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  options.logger.info("tracing on", {
    exporter: env.OTEL_TRACES_EXPORTER ?? "otlp",
    ...(endpoint ? { endpoint: redactUrl(endpoint) } : {}),
    sampler: env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on",
  });
  return tracing;
}
