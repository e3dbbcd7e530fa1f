import {
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type ContextManager,
  type Span,
} from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import type { HandlerTime } from "./span-shape.js";
import { createTracer, type SpanBackend } from "./tracer.js";
import type { Tracing, TracingOptions } from "./tracing.js";

/** The trace handle of this backend: the span and the context it is active in. */
interface SdkTrace extends HandlerTime {
  readonly span: Span;
  readonly context: Context;
}

/** Contexts are passed explicitly: no tracking across async calls, nothing to pay for it. */
const explicitContexts: ContextManager = {
  active: () => ROOT_CONTEXT,
  with: (_context, fn, thisArg, ...args) => fn.call(thisArg, ...args),
  bind: (_context, target) => target,
  enable() {
    return this;
  },
  disable() {
    return this;
  },
};

/**
 * Tracing on the OpenTelemetry Node SDK, for what only the SDK offers: OTLP over gRPC, the
 * console and Zipkin exporters, B3 and Jaeger propagators, other samplers. `OTEL_*` configures
 * it all. The spans are those of `tracer.ts`, as with knstate's own backend; contexts are passed
 * explicitly, so no async context manager is registered (it would tax every promise).
 */
export function createTracing(options: TracingOptions): Tracing {
  const resource: Attributes = {};
  if (options.revision !== undefined) resource["service.version"] = options.revision;
  const sdk = new NodeSDK({
    ...(options.serviceNameSet ? {} : { serviceName: options.service }),
    resource: resourceFromAttributes(resource),
    instrumentations: [],
    contextManager: explicitContexts,
    // Traces only: logs go to stdout, metrics to Prometheus.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return createTracer(sdkBackend(sdk));
}

function sdkBackend(sdk: NodeSDK): SpanBackend<SdkTrace, Context> {
  const tracer = trace.getTracer("knstate");
  const handle = (span: Span, context: Context, ceId?: string): SdkTrace => {
    const { traceId, spanId, traceFlags } = span.spanContext();
    const sampled = (traceFlags & TraceFlags.SAMPLED) !== 0;
    return { traceId, spanId, sampled, ceId, span, context, handlerMs: 0, handlerRuns: 0 };
  };
  return {
    extract(carrier) {
      const context = propagation.extract(ROOT_CONTEXT, carrier);
      const spanContext = trace.getSpanContext(context);
      return spanContext !== undefined && isSpanContextValid(spanContext) ? context : undefined;
    },
    traceIdOf: (parent) => trace.getSpanContext(parent)!.traceId,
    start(describe, kind, parent, links, ceId) {
      const { name, attributes } = describe();
      const options = {
        kind: kind === "server" ? SpanKind.SERVER : SpanKind.CONSUMER,
        attributes,
        links: links.map((link) => ({ context: trace.getSpanContext(link)! })),
      };
      const span = tracer.startSpan(name, options, parent ?? ROOT_CONTEXT);
      return handle(span, trace.setSpan(parent ?? ROOT_CONTEXT, span), ceId);
    },
    setAttribute: (trace, key, value) => trace.span.setAttribute(key, value),
    rename: (trace, name) => trace.span.updateName(name),
    setError: (trace, message) =>
      trace.span.setStatus(
        message === undefined ? { code: SpanStatusCode.ERROR } : { code: SpanStatusCode.ERROR, message },
      ),
    child(parent, name, seconds, attributes) {
      const end = performance.timeOrigin + performance.now();
      tracer.startSpan(name, { startTime: end - seconds * 1000, attributes }, parent.context).end(end);
    },
    inject(trace) {
      const out: Record<string, string> = {};
      propagation.inject(trace.context, out);
      const extensions: Record<string, string> = {};
      if (out.traceparent !== undefined) extensions.traceparent = out.traceparent;
      if (out.tracestate !== undefined) extensions.tracestate = out.tracestate;
      return extensions;
    },
    end: (trace) => trace.span.end(),
    shutdown: () => sdk.shutdown(),
  };
}
