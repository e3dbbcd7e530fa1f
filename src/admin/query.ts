import type { IncomingMessage, ServerResponse } from "node:http";
import { truncate } from "../cloudevents/attributes.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";

/** The query of a request. */
export function queryOf(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? "";
  const at = url.indexOf("?");
  return new URLSearchParams(at === -1 ? "" : url.slice(at + 1));
}

/**
 * A whole-number query parameter in [min, max], `fallback` when absent; anything else (repeated,
 * negative, fractional, too large) is the client's 400.
 */
export function intParam(
  query: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number;
export function intParam(
  query: URLSearchParams,
  name: string,
  fallback: undefined,
  min: number,
  max: number,
): number | undefined;
export function intParam(
  query: URLSearchParams,
  name: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number | undefined {
  const values = query.getAll(name);
  if (values.length === 0) return fallback;
  const text = values[0]!;
  if (values.length > 1 || !/^\d{1,15}$/.test(text)) {
    throw new HostError(Problem.invalidRequest, `${name} must be a whole number from ${min} to ${max}`);
  }
  const value = Number(text);
  if (value < min || value > max) {
    throw new HostError(
      Problem.invalidRequest,
      `${name} must be from ${min} to ${max} (got ${truncate(text)})`,
    );
  }
  return value;
}

/** A string query parameter ("" when absent); repeated is a 400. */
export function stringParam(query: URLSearchParams, name: string): string {
  const values = query.getAll(name);
  if (values.length > 1) throw new HostError(Problem.invalidRequest, `give ${name} once`);
  return values[0] ?? "";
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(body);
}
