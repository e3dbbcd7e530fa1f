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
  stateLoaded?(entityType: string, seconds: number, eventsReplayed: number): void;
  appended?(entityType: string, seconds: number, events: number, commands: number): void;
  conflict?(entityType: string, attempt: number): void;
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
}

export const noopObserver: PipelineObserver = {};
