import type { IncomingMessage, ServerResponse } from "node:http";
import type { PipelineObserver, TraceHandle } from "./pipeline-observer.js";

/**
 * Tracing as the rest of the host sees it: the one interface both backends implement (knstate's
 * own spans and OTLP exporter, `tracing-lean.ts`, or the OpenTelemetry SDK, `tracing-sdk.ts`),
 * both through `tracer.ts`. This module is a leaf: it imports types only, so nothing that
 * depends on it pulls a backend in. `start-tracing.ts` picks the backend from the environment.
 */
export interface Tracing {
  /** Span hooks of the command pipeline: one span per CloudEvent, children for its steps. */
  readonly observer: PipelineObserver;
  /** `HostOptions.wrapRequest`: one SERVER span per API request, continuing its `traceparent`. */
  readonly wrapRequest: (
    kind: "cloudevent" | "api" | "probe",
    req: IncomingMessage,
    res: ServerResponse,
    next: () => Promise<void> | void,
  ) => Promise<void> | void;
  /** Exports the spans still buffered and stops (bounded by `timeoutMs`). */
  shutdown(timeoutMs?: number): Promise<void>;
}

export interface TracingOptions {
  /** `service.name` unless `OTEL_SERVICE_NAME` names it (`serviceNameSet`). */
  readonly service: string;
  /** True when `OTEL_SERVICE_NAME` is set: the tracer takes the name from there. */
  readonly serviceNameSet?: boolean;
  /** `service.version`: the Knative revision, when known. */
  readonly revision?: string | undefined;
}

const EVENT_TRACES = new WeakMap<object, TraceHandle>();

/**
 * Records that `event` (a parsed CloudEvent) is handled in `trace`, so the log line of its
 * failure can name the trace. Errors are not touched: one error can fail several commands of a
 * group commit, each in its own trace, and each event finds its own here.
 */
export function setEventTrace(event: object, trace: TraceHandle): void {
  EVENT_TRACES.set(event, trace);
}

/** The trace `event` was handled in, when tracing made a span for it. */
export function eventTrace(event: object | undefined): TraceHandle | undefined {
  return event === undefined ? undefined : EVENT_TRACES.get(event);
}
