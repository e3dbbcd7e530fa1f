import type { ServerResponse } from "node:http";
import type { HostError } from "../errors/host-error.js";

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
