import type { IncomingMessage, ServerResponse } from "node:http";
import { truncate } from "../cloudevents/attributes.js";
import type { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import { requestTrace, traceFields, type TraceHandle } from "../host/observer.js";
import type { LogFields, Logger } from "../observability/logger.js";

/** Writes an RFC 9457 problem. 413 and aborted reads close the connection (the body was not consumed). */
export function sendProblem(res: ServerResponse, error: HostError, instance?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const problem = instance === undefined ? error.toProblem() : { ...error.toProblem(), instance };
  const body = JSON.stringify(problem);
  const headers: Record<string, string | number> = {
    "content-type": "application/problem+json",
    "content-length": Buffer.byteLength(body),
  };
  if (error.retryAfterSeconds !== undefined) headers["retry-after"] = error.retryAfterSeconds;
  if (error.status === 413 || error.status === 408) headers.connection = "close";
  res.writeHead(error.status, headers);
  res.end(body);
}

/**
 * Logs a failure the host answers with a 5xx (4xx are the caller's and not logged): a handler
 * that threw as an error, handled trouble (store unavailable, conflicts exhausted) as a
 * warning; with `fields` (what was asked) and the trace of the work that failed (tracing on).
 */
export function logFailure(logger: Logger, error: HostError, fields: LogFields, trace?: TraceHandle): void {
  if (error.status < 500) return;
  const context = { ...fields, ...traceFields(trace) };
  if (error.problem === Problem.handlerFailed)
    logger.error("handler failed", { ...context, error: error.cause });
  else logger.warn(error.detail, { ...context, problem: error.problem.type, error: error.cause });
}

/**
 * Answers a failed HTTP API request with its problem, logged (see `logFailure`) with the path
 * asked for and in the request's trace.
 */
export function answerApiFailure(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  error: HostError,
): void {
  const path = truncate((req.url ?? "/").split("?", 1)[0]!);
  logFailure(logger, error, { path }, requestTrace(req));
  sendProblem(res, error);
}
