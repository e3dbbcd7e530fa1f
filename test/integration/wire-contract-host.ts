import { Agent, request } from "node:http";
import { afterAll, beforeAll, expect } from "vitest";
import { allComponents } from "../fixtures/components.js";
import { startHost, type RunningHost } from "../support/host.js";

/**
 * The host the wire-contract tests talk to (README "Wire contract"), and the requests they send.
 * `url` is a live binding: it holds the host's address once `useWireHost()`'s beforeAll has run.
 */

export let url: string;

/** Starts a host with every fixture component for the calling test file, and closes it after. */
export function useWireHost(): void {
  let running: RunningHost;
  beforeAll(async () => {
    running = await startHost({ components: allComponents, env: { KNSTATE_PUBLIC_EVENTS: "true" } });
    url = running.url;
  });
  afterAll(async () => {
    await running?.close();
  });
}

let seq = 0;
export const nextId = (prefix = "ev") => `${prefix}-${Date.now().toString(36)}-${++seq}`;

export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function ceHeadersOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name.startsWith("ce-")) out[name] = value;
  });
  return out;
}

export function postStructured(event: Record<string, unknown>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json; charset=UTF-8" },
    body: JSON.stringify({ specversion: "1.0", source: "/test", ...event }),
  });
}

export function postBatch(events: ReadonlyArray<Record<string, unknown>>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify(events.map((e) => ({ specversion: "1.0", source: "/test", ...e }))),
  });
}

export function api(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${url}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

export function postJson(
  agent: Agent,
  path: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, hostname, port, path, method: "POST", headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

export async function counter(id: string): Promise<{ value: number; version: number }> {
  const res = await api(`/counter/${encodeURIComponent(id)}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { state: { value: number }; version: number };
  return { value: body.state.value, version: body.version };
}

export async function expectProblem(
  res: Response,
  status: number,
  type?: string,
): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Record<string, unknown>;
  expect(body.status).toBe(status);
  expect(typeof body.title).toBe("string");
  expect(typeof body.detail).toBe("string");
  if (type !== undefined) expect(body.type).toBe(type);
  return body;
}
