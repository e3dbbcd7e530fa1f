import type { Logger } from "./logger.js";
import { batchConfig, otlpExportConfig } from "./otlp/config.js";
import { SpanExporter } from "./otlp/exporter.js";
import { traceResource } from "./otlp/resource.js";
import { SpanKind, StatusCode, type Attributes, type SpanRecord } from "./otlp/span.js";
import {
  formatTraceparent,
  IdGenerator,
  parseTraceparent,
  samplerFromEnv,
  type SpanContext,
} from "./trace-context.js";
import { createTracer, type SpanBackend } from "./tracer.js";
import type { Tracing, TracingOptions } from "./tracing.js";

type Env = Readonly<Record<string, string | undefined>>;

const ORIGIN = performance.timeOrigin;
const now = () => ORIGIN + performance.now();

/** What an unsampled span is described with: nothing (it is never exported). */
const UNSAMPLED = Object.freeze({ name: "", attributes: Object.freeze({}) as Attributes });

/**
 * Tracing with knstate's own spans: plain records, W3C trace context, the `OTEL_TRACES_SAMPLER`
 * samplers, and batches sent to an OTLP/HTTP collector (protobuf or JSON) as the `OTEL_*`
 * variables configure. Same spans as the OpenTelemetry SDK records (both render `tracer.ts`),
 * at a fraction of the cost per span, and no OpenTelemetry module on the start-up path.
 */
export async function createLeanTracing(
  env: Env,
  options: TracingOptions & { readonly logger: Logger },
): Promise<Tracing> {
  const exporter = await SpanExporter.create(
    otlpExportConfig(env),
    batchConfig(env),
    traceResource(env, options),
    options.logger,
  );
  return createTracer(leanBackend(exporter, samplerFromEnv(env)));
}

function leanBackend(
  exporter: SpanExporter,
  sample: ReturnType<typeof samplerFromEnv>,
): SpanBackend<SpanRecord, SpanContext> {
  const ids = new IdGenerator();
  return {
    extract(carrier) {
      const { traceparent, tracestate } = carrier;
      if (typeof traceparent !== "string") return undefined;
      return parseTraceparent(traceparent, typeof tracestate === "string" ? tracestate : undefined);
    },
    traceIdOf: (parent) => parent.traceId,
    start(describe, kind, parent, links, ceId) {
      const start = now();
      let traceId: string;
      let spanId: string;
      if (parent === undefined) {
        const both = ids.traceAndSpanId();
        traceId = both.slice(0, 32);
        spanId = both.slice(32);
      } else {
        traceId = parent.traceId;
        spanId = ids.spanId();
      }
      const sampled = sample(traceId, parent);
      // A span's name and attributes are made only when it is sampled.
      const { name, attributes } = sampled ? describe() : UNSAMPLED;
      return {
        traceId,
        spanId,
        parentSpanId: parent?.spanId,
        remoteParent: parent !== undefined,
        traceState: parent?.traceState,
        sampled,
        name,
        kind: kind === "server" ? SpanKind.server : SpanKind.consumer,
        start,
        end: start,
        attributes,
        links,
        status: StatusCode.unset,
        statusMessage: undefined,
        ceId,
        handlerMs: 0,
        handlerRuns: 0,
      };
    },
    setAttribute(span, key, value) {
      if (span.sampled) span.attributes[key] = value;
    },
    rename(span, name) {
      span.name = name;
    },
    setError(span, message) {
      span.status = StatusCode.error;
      span.statusMessage = message;
    },
    child(parent, name, seconds, attributes) {
      const at = now();
      exporter.add({
        traceId: parent.traceId,
        spanId: ids.spanId(),
        parentSpanId: parent.spanId,
        remoteParent: false,
        traceState: parent.traceState,
        sampled: true,
        name,
        kind: SpanKind.internal,
        start: at - seconds * 1000,
        end: at,
        attributes,
        links: [],
        status: StatusCode.unset,
        statusMessage: undefined,
        ceId: undefined,
        handlerMs: 0,
        handlerRuns: 0,
      });
    },
    inject(span) {
      const traceparent = formatTraceparent(span);
      return span.traceState === undefined ? { traceparent } : { traceparent, tracestate: span.traceState };
    },
    end(span) {
      span.end = now();
      if (span.sampled) exporter.add(span);
    },
    shutdown: () => exporter.shutdown(),
  };
}
