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
  type Link,
  type Span,
} from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import type { IncomingHttpHeaders } from "node:http";
import { toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import { setRequestTrace, type PipelineObserver, type TraceHandle } from "../host/observer.js";
import { isProbe } from "./observers.js";
import { ENTITY_VERSION, eventSpan, requestSpan, stepHooks, type HandlerTime } from "./span-conventions.js";
import type { Tracing, TracingOptions } from "./tracing.js";

/** The trace handle of this tracer: the span and the context it is active in. */
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

function handle(span: Span, context: Context, ceId?: string): SdkTrace {
  const { traceId, spanId, traceFlags } = span.spanContext();
  const sampled = (traceFlags & TraceFlags.SAMPLED) !== 0;
  return { traceId, spanId, sampled, ceId, span, context, handlerMs: 0, handlerRuns: 0 };
}

/**
 * Tracing on the OpenTelemetry Node SDK, for what only the SDK offers: OTLP over gRPC, the
 * console and Zipkin exporters, B3 and Jaeger propagators, other samplers. `OTEL_*` configures
 * it all. Same spans as `tracing-lean.ts`; contexts are passed explicitly, so no async context
 * manager is registered (it would tax every promise in the process).
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
  const tracer = trace.getTracer("knstate");

  /** A finished child span of `parent` that took `seconds` up to now. */
  const child = (
    parent: TraceHandle | undefined,
    name: string,
    seconds: number,
    attributes: Attributes,
  ): void => {
    if (parent === undefined) return;
    const end = performance.timeOrigin + performance.now();
    tracer
      .startSpan(name, { startTime: end - seconds * 1000, attributes }, (parent as SdkTrace).context)
      .end(end);
  };

  const extract = (carrier: Record<string, unknown>) => {
    const ctx = propagation.extract(ROOT_CONTEXT, carrier);
    const spanContext = trace.getSpanContext(ctx);
    return spanContext !== undefined && isSpanContextValid(spanContext) ? ctx : undefined;
  };

  const traceEvent = async (
    event: Parameters<NonNullable<PipelineObserver["traceEvent"]>>[0],
    transport: IncomingHttpHeaders | undefined,
    run: (trace: TraceHandle | undefined) => ReturnType<NonNullable<PipelineObserver["traceEvent"]>>,
  ) => {
    const hop = transport === undefined ? undefined : extract(transport);
    const { traceparent, tracestate } = event.extensions;
    const own =
      typeof traceparent === "string"
        ? extract({ traceparent, ...(typeof tracestate === "string" ? { tracestate } : {}) })
        : undefined;
    // The event's own context wins (it survives the broker); the HTTP hop becomes a link.
    const links: Link[] = [];
    const hopContext = hop === undefined ? undefined : trace.getSpanContext(hop);
    if (
      own !== undefined &&
      hopContext !== undefined &&
      hopContext.traceId !== trace.getSpanContext(own)!.traceId
    ) {
      links.push({ context: hopContext });
    }
    const parent = own ?? hop ?? ROOT_CONTEXT;
    const { name, attributes } = eventSpan(event);
    const span = tracer.startSpan(name, { kind: SpanKind.CONSUMER, attributes, links }, parent);
    const ctx = trace.setSpan(parent, span);
    const current = handle(span, ctx, event.id);
    try {
      const reply = await run(current);
      if (reply === undefined) return undefined;
      const version = reply.extensions.entityversion;
      if (typeof version === "number") span.setAttribute(ENTITY_VERSION, version);
      const out: Record<string, string> = {};
      propagation.inject(ctx, out);
      const extensions: Record<string, string | number | boolean> = { ...reply.extensions };
      if (out.traceparent !== undefined) extensions.traceparent = out.traceparent;
      if (out.tracestate !== undefined) extensions.tracestate = out.tracestate;
      return { ...reply, extensions };
    } catch (error) {
      const hostError = toHostError(error).inTrace(current);
      span.setAttribute("error.type", hostError.problem.type);
      if (hostError.problem === Problem.unknownType) span.updateName("process (unknown type)");
      if (hostError.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: hostError.detail });
      throw hostError;
    } finally {
      span.end();
    }
  };

  const observer: PipelineObserver = {
    traceEvent,
    ...stepHooks(child, (parent, key, value) => (parent as SdkTrace).span.setAttribute(key, value)),
  };

  return {
    observer,
    wrapRequest(kind, req, res, next) {
      // CloudEvents get their span per event, once the message is parsed (see traceEvent).
      if (kind !== "api" || isProbe(req)) return next();
      const parent = extract(req.headers) ?? ROOT_CONTEXT;
      const { name, attributes } = requestSpan(req.method, req.url);
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
      setRequestTrace(req, handle(span, trace.setSpan(parent, span)));
      res.once("close", () => {
        span.setAttribute("http.response.status_code", res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      return next();
    },
    async shutdown(timeoutMs = 5000) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([sdk.shutdown(), deadline]).finally(() => clearTimeout(timer));
    },
  };
}
