import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { IncomingEvent } from "../cloudevents/event.js";
import type { OutgoingEvent } from "../cloudevents/reply.js";
import type { DomainEvent } from "../entity/model.js";

/** Outcome labels of a command, bounded (they become metric label values). */
export const Outcome = {
  ok: "ok",
  rejected: "rejected",
  invalid: "invalid",
  conflictExhausted: "conflict-exhausted",
  error: "error",
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/**
 * The trace a piece of work belongs to, passed along explicitly (no async context tracking:
 * it would tax every promise in the process). Tracing implementations extend it with their own
 * state; the pipeline only reads the ids, for log lines.
 */
export interface TraceHandle {
  readonly traceId: string;
  readonly spanId: string;
  /** Whether the span is recorded (the W3C `sampled` flag it propagates). */
  readonly sampled: boolean;
  /** The id of the CloudEvent being handled, when there is one. */
  readonly ceId?: string | undefined;
}

/** How a batch of replicated commands was written (see `PipelineObserver.replicatedBatch`). */
export type ReplicatedPath = "predicted" | "script" | "stale";

/**
 * What the command pipeline reports as it works. Metrics and tracing implement it; every
 * method is optional and called synchronously on the hot path, so implementations must be cheap.
 */
export interface PipelineObserver {
  /**
   * `trace` (here and below) is the command's trace (for load, append and conflict: that of
   * the first command of a group commit); `undefined` without tracing.
   */
  commandFinished?(
    entityType: string,
    command: string,
    outcome: Outcome,
    seconds: number,
    trace?: TraceHandle,
  ): void;
  stateLoaded?(entityType: string, seconds: number, eventsReplayed: number, trace?: TraceHandle): void;
  appended?(entityType: string, seconds: number, events: number, commands: number, trace?: TraceHandle): void;
  conflict?(entityType: string, attempt: number, trace?: TraceHandle): void;
  dedupHit?(entityType: string): void;
  /**
   * A batch of `commands` commands to one replicated entity was written: `predicted` (computed
   * by the host, checked and written by Redis), `script` (applied by the apply script), or
   * `stale` (a prediction another writer overtook, then applied by the apply script).
   */
  replicatedBatch?(entityType: string, path: ReplicatedPath, commands: number): void;
  cacheLookup?(entityType: string, hit: boolean): void;
  snapshotWritten?(entityType: string): void;
  inFlight?(delta: 1 | -1): void;
  /** Events just stored for one entity; `firstVersion` is the version of `events[0]`. */
  committed?(
    entityType: string,
    entityId: string,
    firstVersion: number,
    events: readonly DomainEvent[],
    trace?: TraceHandle,
  ): void;
  storeAvailability?(up: boolean): void;
  /**
   * A CloudEvent the host could not run as a command: unknown type (names `undefined`), no
   * subject, or data its schema refused. Names are always declared ones.
   */
  invalidCommand?(entityType: string | undefined, command: string | undefined, trace?: TraceHandle): void;
  /** Tracing: one command handler ran, as part of `trace`. */
  handled?(entityType: string, command: string, seconds: number, trace: TraceHandle | undefined): void;
  /**
   * Tracing: wraps the handling of one CloudEvent in its span; `run` gets the span's trace and
   * the reply carries its context. `transport` are the HTTP headers the event came with (their
   * `traceparent` is the hop that delivered it).
   */
  traceEvent?(
    event: IncomingEvent,
    transport: IncomingHttpHeaders | undefined,
    run: (trace: TraceHandle | undefined) => Promise<OutgoingEvent | undefined>,
  ): Promise<OutgoingEvent | undefined>;
}

const REQUEST_TRACE = Symbol("knstate.trace");

/** Attaches the trace of an HTTP request (its server span) for the handlers that serve it. */
export function setRequestTrace(req: IncomingMessage, trace: TraceHandle): void {
  (req as IncomingMessage & { [REQUEST_TRACE]?: TraceHandle })[REQUEST_TRACE] = trace;
}

/** The trace of an HTTP request, when tracing made a span for it. */
export function requestTrace(req: IncomingMessage): TraceHandle | undefined {
  return (req as IncomingMessage & { [REQUEST_TRACE]?: TraceHandle })[REQUEST_TRACE];
}

/** Log fields naming a trace: its ids and the CloudEvent's. */
export function traceFields(
  trace: TraceHandle | undefined,
): { traceId: string; spanId: string; ceId?: string } | undefined {
  if (trace === undefined) return undefined;
  return trace.ceId === undefined
    ? { traceId: trace.traceId, spanId: trace.spanId }
    : { traceId: trace.traceId, spanId: trace.spanId, ceId: trace.ceId };
}

export const noopObserver: PipelineObserver = {};
