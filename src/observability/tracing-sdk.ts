import {
  context,
  createContextKey,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
} from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import type { IncomingEvent } from "../cloudevents/event.js";
import type { OutgoingEvent } from "../cloudevents/reply.js";
import { toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { PipelineObserver } from "../host/observer.js";
import type { Tracing, TracingOptions } from "./tracing.js";
import { isProbe } from "./observers.js";

// Semantic-convention names (CloudEvents and messaging are still "development" there, so they
// are spelled out rather than imported from the incubating entry point).
const CE_ID = "cloudevents.event_id";
const CE_SOURCE = "cloudevents.event_source";
const CE_SPEC_VERSION = "cloudevents.event_spec_version";
const CE_TYPE = "cloudevents.event_type";
const CE_SUBJECT = "cloudevents.event_subject";
const ENTITY_TYPE = "knstate.entity.type";
const ENTITY_VERSION = "knstate.entity.version";
const COMMAND = "knstate.command";

const EVENT_ID_KEY = createContextKey("knstate.cloudevent.id");

/**
 * The tracing of a host, on the OpenTelemetry Node SDK configured by the `OTEL_*` variables
 * (exporter, protocol, sampler, batch delays). No auto-instrumentation: one CONSUMER span per
 * CloudEvent (`process <type>`, messaging conventions) and one SERVER span per API request,
 * with children for state load, handler, append and conflict retries.
 */
export function createTracing(options: TracingOptions): Tracing {
  const resource: Attributes = {};
  if (options.revision !== undefined) resource["service.version"] = options.revision;
  const sdk = new NodeSDK({
    ...(options.serviceNameSet ? {} : { serviceName: options.service }),
    resource: resourceFromAttributes(resource),
    instrumentations: [],
    // Traces only: logs go to stdout, metrics to Prometheus.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  const tracer = trace.getTracer("knstate");

  /** A finished child span of `parent` that took `seconds` up to now. */
  const child = (parent: unknown, name: string, seconds: number, attributes: Attributes): void => {
    const ctx = parent as Context | undefined;
    if (ctx === undefined || trace.getSpan(ctx) === undefined) return;
    const end = performance.timeOrigin + performance.now();
    tracer.startSpan(name, { startTime: end - seconds * 1000, attributes }, ctx).end(end);
  };

  const traceEvent = async (
    event: IncomingEvent,
    run: () => Promise<OutgoingEvent | undefined>,
  ): Promise<OutgoingEvent | undefined> => {
    const carrier = context.active();
    let parent = carrier;
    const links: Link[] = [];
    const traceparent = event.extensions.traceparent;
    if (typeof traceparent === "string") {
      const tracestate = event.extensions.tracestate;
      const fromEvent = propagation.extract(ROOT_CONTEXT, {
        traceparent,
        ...(typeof tracestate === "string" ? { tracestate } : {}),
      });
      const eventSpan = trace.getSpanContext(fromEvent);
      if (eventSpan !== undefined && isSpanContextValid(eventSpan)) {
        // The event's own context wins: it survives the broker. Keep the HTTP hop as a link.
        const hop = trace.getSpanContext(carrier);
        if (hop !== undefined && hop.traceId !== eventSpan.traceId) links.push({ context: hop });
        parent = fromEvent;
      }
    }
    const attributes: Attributes = {
      "messaging.system": "knative",
      "messaging.operation.name": "process",
      "messaging.operation.type": "process",
      "messaging.message.id": event.id,
      [CE_ID]: event.id,
      [CE_SOURCE]: event.source,
      [CE_SPEC_VERSION]: event.specversion,
      [CE_TYPE]: event.type,
    };
    if (event.subject !== undefined) attributes[CE_SUBJECT] = event.subject;
    const span = tracer.startSpan(
      `process ${event.type}`,
      { kind: SpanKind.CONSUMER, attributes, links },
      parent,
    );
    const ctx = trace.setSpan(parent, span).setValue(EVENT_ID_KEY, event.id);
    try {
      const reply = await context.with(ctx, run);
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
      const hostError = toHostError(error);
      span.setAttribute("error.type", hostError.problem.type);
      if (hostError.problem === Problem.unknownType) span.updateName("process (unknown type)");
      if (hostError.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: hostError.detail });
      throw error;
    } finally {
      span.end();
    }
  };

  const observer: PipelineObserver = {
    traceContext: () => context.active(),
    traceEvent,
    handled: (entityType, command, seconds, parent) => {
      const server = trace.getSpan(parent as Context);
      server?.setAttributes({ [ENTITY_TYPE]: entityType, [COMMAND]: command });
      child(parent, `handle ${entityType}.${command}`, seconds, {
        [ENTITY_TYPE]: entityType,
        [COMMAND]: command,
      });
    },
    invalidCommand: (entityType, command) => {
      if (entityType === undefined || command === undefined) return;
      trace.getActiveSpan()?.setAttributes({ [ENTITY_TYPE]: entityType, [COMMAND]: command });
    },
    stateLoaded: (entityType, seconds, eventsReplayed, parent) =>
      child(parent, "load state", seconds, {
        [ENTITY_TYPE]: entityType,
        "knstate.events_replayed": eventsReplayed,
      }),
    appended: (entityType, seconds, events, commands, parent) =>
      child(parent, "append events", seconds, {
        [ENTITY_TYPE]: entityType,
        "knstate.events": events,
        "knstate.commands": commands,
      }),
    conflict: (entityType, attempt, parent) =>
      child(parent, "retry after conflict", 0, { [ENTITY_TYPE]: entityType, "knstate.attempt": attempt }),
  };

  return {
    observer,
    wrapRequest(kind, req, res, next) {
      if (kind === "probe" || isProbe(req)) return next();
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      // CloudEvents get their span per event, once the message is parsed (see traceEvent).
      if (kind === "cloudevent") return context.with(parent, next);
      const method = req.method ?? "GET";
      const route = routeOf(method, req.url ?? "/");
      const span = tracer.startSpan(
        `${method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: { "http.request.method": method, "http.route": route, "url.path": pathOf(req.url) },
        },
        parent,
      );
      res.once("close", () => {
        span.setAttribute("http.response.status_code", res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      return context.with(trace.setSpan(parent, span), next);
    },
    logContext() {
      const active = context.active();
      const span = trace.getSpan(active)?.spanContext();
      if (span === undefined || !isSpanContextValid(span)) return undefined;
      const ceId = active.getValue(EVENT_ID_KEY);
      return {
        traceId: span.traceId,
        spanId: span.spanId,
        ...(typeof ceId === "string" ? { ceId } : {}),
      };
    },
    async shutdown(timeoutMs = 5000) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([sdk.shutdown(), deadline]).finally(() => clearTimeout(timer));
    },
  };
}

function pathOf(url: string | undefined): string {
  const path = (url ?? "/").split("?", 1)[0] ?? "/";
  return path.length > 512 ? path.slice(0, 512) : path;
}

/** The API route template of a request (bounded span names: ids never appear in them). */
function routeOf(method: string, url: string): string {
  const segments = pathOf(url).split("/").filter(Boolean).length;
  if (method === "POST" && segments === 3) return "/{entity}/{id}/{command}";
  if (method === "POST" && segments === 2) return "/{action}/{handler}";
  if (method === "GET" && segments === 2) return "/{entity}/{id}";
  if (method === "GET" && segments === 3) return "/{entity}/{id}/events";
  return "(unmatched)";
}
