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
 * What the command pipeline reports as it works. Metrics and tracing implement it; every
 * method is optional and called synchronously on the hot path, so implementations must be cheap.
 */
export interface PipelineObserver {
  commandFinished?(entityType: string, command: string, outcome: Outcome, seconds: number): void;
  /**
   * `trace` (here and below) is what `traceContext` returned when the command (the first of a
   * group commit) was queued; `undefined` without tracing.
   */
  stateLoaded?(entityType: string, seconds: number, eventsReplayed: number, trace?: unknown): void;
  appended?(entityType: string, seconds: number, events: number, commands: number, trace?: unknown): void;
  conflict?(entityType: string, attempt: number, trace?: unknown): void;
  dedupHit?(entityType: string): void;
  cacheLookup?(entityType: string, hit: boolean): void;
  snapshotWritten?(entityType: string): void;
  inFlight?(delta: 1 | -1): void;
  /** Events just stored for one entity; `firstVersion` is the version of `events[0]`. */
  committed?(
    entityType: string,
    entityId: string,
    firstVersion: number,
    events: readonly DomainEvent[],
  ): void;
  storeAvailability?(up: boolean): void;
  /**
   * A CloudEvent the host could not run as a command: unknown type (names `undefined`), no
   * subject, or data its schema refused. Names are always declared ones.
   */
  invalidCommand?(entityType: string | undefined, command: string | undefined): void;
  /** Tracing: an opaque handle on the caller's context, taken when a command is queued. */
  traceContext?(): unknown;
  /** Tracing: one command handler ran, in the context `trace` (see `traceContext`). */
  handled?(entityType: string, command: string, seconds: number, trace: unknown): void;
  /** Tracing: wraps the handling of one CloudEvent (its span; the reply carries the trace context). */
  traceEvent?(
    event: IncomingEvent,
    run: () => Promise<OutgoingEvent | undefined>,
  ): Promise<OutgoingEvent | undefined>;
}

export const noopObserver: PipelineObserver = {};
