import type { Logger } from "./logger.js";
import { otlpProtocol } from "./otlp/config.js";
import { redactUrl } from "./redact.js";
import { SAMPLERS } from "./trace-context.js";
import type { Tracing, TracingOptions } from "./tracing.js";

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
 * Why the environment needs the OpenTelemetry SDK rather than knstate's own tracer, or
 * undefined when it does not: knstate's tracer exports OTLP over HTTP (protobuf or JSON),
 * propagates W3C trace context and implements the standard samplers; anything else (gRPC,
 * `console`/`zipkin` exporters, B3 or Jaeger propagation, remote samplers) is the SDK's.
 */
export function sdkNeededFor(env: Env): string | undefined {
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "" && s !== "none");
  if (exporters.some((e) => e !== "otlp")) return `OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER}`;
  const protocol = otlpProtocol(env);
  if (protocol !== "http/protobuf" && protocol !== "http/json") return `OTLP protocol ${protocol}`;
  const propagators = (env.OTEL_PROPAGATORS ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (propagators.some((p) => p !== "tracecontext" && p !== "baggage" && p !== "none")) {
    return `OTEL_PROPAGATORS=${env.OTEL_PROPAGATORS}`;
  }
  const sampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  if (sampler && !(SAMPLERS as readonly string[]).includes(sampler)) return `OTEL_TRACES_SAMPLER=${sampler}`;
  return undefined;
}

/**
 * Starts tracing when the environment configures it (see `tracingConfigured`), else resolves
 * `undefined` without loading any of it, so a cold start without tracing pays nothing for it.
 * Both backends read the usual `OTEL_*` variables (endpoint, protocol, headers, sampler, batch
 * delays, resource attributes); the OpenTelemetry SDK is loaded only when `sdkNeededFor` says so.
 */
export async function startTracing(
  env: Env,
  options: TracingOptions & { readonly logger: Logger },
): Promise<Tracing | undefined> {
  if (!tracingConfigured(env)) return undefined;
  const reason = sdkNeededFor(env);
  const tracing =
    reason === undefined
      ? await (await import("./tracing-lean.js")).createLeanTracing(env, options)
      : (await importSdk(reason)).createTracing({
          service: options.service,
          revision: options.revision,
          serviceNameSet: Boolean(env.OTEL_SERVICE_NAME?.trim()),
        });
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  options.logger.info("tracing on", {
    tracer: reason === undefined ? "knstate" : "opentelemetry-sdk-node",
    ...(reason === undefined ? {} : { sdkFor: reason }),
    exporter: env.OTEL_TRACES_EXPORTER ?? "otlp",
    ...(endpoint ? { endpoint: redactUrl(endpoint) } : {}),
    sampler: env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on",
  });
  return tracing;
}

/** The OpenTelemetry Node SDK is an optional peer dependency: only exotic `OTEL_*` settings need it. */
async function importSdk(reason: string): Promise<typeof import("./tracing-sdk.js")> {
  try {
    return await import("./tracing-sdk.js");
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new Error(
      `${reason} needs the OpenTelemetry Node SDK: npm install @opentelemetry/sdk-node @opentelemetry/api @opentelemetry/resources`,
    );
  }
}
