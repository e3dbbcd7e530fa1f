import { Problem, type ProblemKind } from "./problems.js";

/** An RFC 9457 problem details object, as sent on the wire. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly [extension: string]: unknown;
}

/**
 * A failure with a place in the problem catalogue. Everything the host answers with a
 * non-2xx status is a `HostError`; anything else that escapes is a bug and becomes a
 * generic 500 with no internal detail. Immutable: one error can fail several commands of a group
 * commit, each in its own trace, so the trace goes to the log line (`logFailure`), not here.
 */
export class HostError extends Error {
  readonly problem: ProblemKind;
  readonly detail: string;
  /** Extra members for the problem body (e.g. `errors` for a batch). */
  readonly extensions: Readonly<Record<string, unknown>>;
  /** Seconds for a `Retry-After` header, on retryable problems. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    problem: ProblemKind,
    detail: string,
    options: { cause?: unknown; extensions?: Record<string, unknown>; retryAfterSeconds?: number } = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HostError";
    this.problem = problem;
    this.detail = detail;
    this.extensions = options.extensions ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return this.problem.status;
  }

  toProblem(): ProblemDetails {
    return {
      ...this.extensions,
      type: this.problem.type,
      title: this.problem.title,
      status: this.problem.status,
      detail: this.detail,
    };
  }
}

/** The handler rejected the command: final, the caller should not retry (422). */
export class CommandRejected extends HostError {
  readonly reason: string;
  constructor(reason: string, details?: unknown) {
    super(Problem.commandRejected, reason, details === undefined ? {} : { extensions: { details } });
    this.name = "CommandRejected";
    this.reason = reason;
  }
}

/**
 * The store could not be reached, or an append's outcome is unknown (a timeout or a dropped
 * connection after the request was sent). Answered with 503 and `Retry-After`: redelivery is
 * safe because the dedup record and the expected version make a second apply impossible.
 */
export class StoreUnavailable extends HostError {
  constructor(detail: string, cause?: unknown, retryAfterSeconds = 1) {
    super(Problem.storeUnavailable, detail, { cause, retryAfterSeconds });
    this.name = "StoreUnavailable";
  }
}

/** Turns anything thrown into a `HostError`, hiding the internals of unexpected errors. */
export function toHostError(error: unknown): HostError {
  if (error instanceof HostError) return error;
  return new HostError(Problem.handlerFailed, "The request could not be processed.", { cause: error });
}
