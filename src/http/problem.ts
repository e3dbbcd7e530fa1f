import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { truncate } from "../cloudevents/attributes.js";
import { HostError } from "../errors/host-error.js";
import { Problem, type ProblemKind } from "../errors/problems.js";
import { AuthRefused } from "./edge-auth.js";
import { requestTrace, traceFields, type TraceHandle } from "../observability/pipeline-observer.js";
import type { LogFields, Logger } from "../observability/logger.js";

/**
 * The one rendering of an RFC 9457 problem: status, headers and `application/problem+json`
 * body. 413 and 408 close the connection (the body was not consumed); a retryable problem
 * carries `Retry-After`.
 */
export function renderProblem(
  error: HostError,
  extraHeaders?: OutgoingHttpHeaders,
): { status: number; headers: OutgoingHttpHeaders; body: string } {
  const body = JSON.stringify(error.toProblem());
  const headers: OutgoingHttpHeaders = {
    ...extraHeaders,
    ...(error instanceof AuthRefused ? error.headers : {}),
    "content-type": "application/problem+json",
    "content-length": Buffer.byteLength(body),
  };
  if (error.retryAfterSeconds !== undefined) headers["retry-after"] = String(error.retryAfterSeconds);
  if (error.status === 413 || error.status === 408) headers.connection = "close";
  return { status: error.status, headers, body };
}

/** Answers `res` with the problem; a response already started is cut off instead. */
export function sendProblem(res: ServerResponse, error: HostError, extraHeaders?: OutgoingHttpHeaders): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, headers, body } = renderProblem(error, extraHeaders);
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * Answers on a raw socket (HTTP that Node could not parse never becomes a request), then
 * closes the connection.
 */
export function sendProblemOnSocket(socket: Duplex, problem: ProblemKind, detail: string): void {
  const { status, headers, body } = renderProblem(new HostError(problem, detail), { connection: "close" });
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${String(value)}\r\n`)
    .join("");
  socket.end(`HTTP/1.1 ${status} ${problem.title}\r\n${head}\r\n${body}`, () => socket.destroy());
}

/** The problem of a client error Node reports before any request exists. */
export function clientErrorProblem(code: string | undefined): ProblemKind {
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return Problem.requestTimeout;
  if (code === "HPE_HEADER_OVERFLOW") return Problem.headersTooLarge;
  return Problem.invalidRequest;
}

const unreadableLogged = new Set<string>();

/**
 * Logs a failure the host answers with a 5xx (4xx are the caller's and not logged): a handler
 * that threw as an error, handled trouble (store unavailable, conflicts exhausted) as a
 * warning; with `fields` (what was asked) and the trace of the work that failed (tracing on).
 */
export function logFailure(logger: Logger, error: HostError, fields: LogFields, trace?: TraceHandle): void {
  if (error.status < 500) return;
  // A stored event or state this definition cannot read fails every command of the entity:
  // log it the first time only (the answer names it each time).
  if (error.problem === Problem.unreadableState) {
    if (unreadableLogged.has(error.detail) || unreadableLogged.size >= 1000) return;
    unreadableLogged.add(error.detail);
  }
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
  extraHeaders?: OutgoingHttpHeaders,
): void {
  const path = truncate((req.url ?? "/").split("?", 1)[0]!);
  logFailure(logger, error, { path }, requestTrace(req));
  sendProblem(res, error, extraHeaders);
}
