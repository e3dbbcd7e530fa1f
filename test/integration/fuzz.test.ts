import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allComponents } from "../fixtures/components.js";
import { startHost, type RunningHost } from "../support/host.js";
import { jsonOf, rawExchange, rawRequest, type RawResponse } from "../support/raw-http.js";
import { body, contentType, headerName, headerValue, mutatedEvent } from "./fuzz-arbitraries.js";

/**
 * Seeded fuzzing of the ingress: random attribute maps (structured and binary), random bodies
 * under every content type, and random bytes on the socket. Whatever arrives, the host never
 * answers 5xx, never hangs, stays up, and explains every 4xx it writes with a problem. The
 * arbitraries it draws from are in fuzz-arbitraries.ts.
 */

const SEED = 20_261_127;
const PER_REQUEST_TIMEOUT_MS = 3000;

let running: RunningHost;
beforeAll(async () => {
  running = await startHost({ components: allComponents });
});
afterAll(async () => {
  await running?.close();
});

/** How often each status was seen: the fuzzing must reach past validation, not only produce 400s. */
const seen = new Map<number, number>();

/** Asserts the host's answer to one fuzzed request, naming the input in any failure. */
function check(res: RawResponse, input: unknown, fromHost = true): void {
  seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
  const where = JSON.stringify(input).slice(0, 300);
  expect(res.timedOut, `no answer within ${PER_REQUEST_TIMEOUT_MS} ms for ${where}`).toBe(false);
  expect(res.status, `5xx for ${where}: ${res.body.toString("utf8").slice(0, 200)}`).toBeLessThan(500);
  if (res.status === 0) {
    expect(fromHost, `connection closed without an answer for ${where}`).toBe(false);
    return;
  }
  if (res.status >= 400 && (fromHost || res.headers["content-type"] !== undefined)) {
    expect(res.headers["content-type"], `4xx without a problem for ${where}`).toBe(
      "application/problem+json",
    );
    const problem = jsonOf(res) as { status?: unknown; type?: unknown; detail?: unknown } | undefined;
    expect(problem?.status).toBe(res.status);
    expect(typeof problem?.type).toBe("string");
    expect(typeof problem?.detail).toBe("string");
  }
}

describe("fuzzing the ingress", () => {
  it("answers random structured events with 2xx or a 4xx problem", async () => {
    await fc.assert(
      fc.asyncProperty(mutatedEvent, fc.boolean(), async (event, asBatch) => {
        const res = await rawRequest(
          running.port,
          {
            headers: [
              [
                "Content-Type",
                asBatch ? "application/cloudevents-batch+json" : "application/cloudevents+json",
              ],
            ],
            body: JSON.stringify(asBatch ? [event] : event),
          },
          { timeoutMs: PER_REQUEST_TIMEOUT_MS },
        );
        check(res, event);
      }),
      { seed: SEED, numRuns: 150 },
    );
  }, 30_000);

  it("answers random binary-mode headers with 2xx or a 4xx problem", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(headerName, headerValue), { maxLength: 10 }),
        fc.boolean(),
        body,
        async (randomHeaders, withBase, data) => {
          const base: Array<[string, string]> = withBase
            ? [
                ["ce-specversion", "1.0"],
                ["ce-id", "fuzz"],
                ["ce-source", "/fuzz"],
                ["ce-type", "com.example.counter.increment"],
              ]
            : [];
          const headers = [...base, ...randomHeaders];
          const res = await rawRequest(
            running.port,
            { headers, body: data },
            { timeoutMs: PER_REQUEST_TIMEOUT_MS },
          );
          check(res, headers);
        },
      ),
      { seed: SEED + 1, numRuns: 150 },
    );
  }, 30_000);

  it("answers random bodies under every content type with 2xx or a 4xx problem", async () => {
    await fc.assert(
      fc.asyncProperty(contentType, body, async (type, data) => {
        const res = await rawRequest(
          running.port,
          { headers: type === "" ? [] : [["Content-Type", type]], body: data },
          { timeoutMs: PER_REQUEST_TIMEOUT_MS },
        );
        check(res, { type, data: data.toString("latin1").slice(0, 100) });
      }),
      { seed: SEED + 2, numRuns: 100 },
    );
  }, 30_000);

  it("answers random requests to the HTTP API with 2xx or a 4xx problem", async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        "counter",
        "cart",
        "profile",
        "echo",
        "quiet",
        "increment",
        "addItem",
        "say",
        "events",
        "c1",
      ),
      fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
      fc.constantFrom("%", "%E0%A4%A", "%00", "..", "__proto__", "constructor", "%2F", ""),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "PUT", "DELETE"),
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.option(fc.constantFrom("?from=1&to=3", "?from=x", "?from=1&from=2", "?to=99999999"), { nil: "" }),
        fc.array(
          fc.tuple(
            fc.constantFrom("If-Match", "Idempotency-Key", "Content-Type"),
            fc.oneof(
              fc.constantFrom('"0"', '"1"', "*", 'W/"2"', "application/json", "text/plain"),
              fc.stringMatching(/^[\x21-\x7e]{0,20}$/),
            ),
          ),
          { maxLength: 3 },
        ),
        body,
        async (method, segments, query, headers, data) => {
          const res = await rawRequest(
            running.port,
            { method, path: `/${segments.join("/")}${query}`, headers, body: method === "GET" ? "" : data },
            { timeoutMs: PER_REQUEST_TIMEOUT_MS },
          );
          check(res, { method, segments, query, headers });
        },
      ),
      { seed: SEED + 4, numRuns: 120 },
    );
  }, 30_000);

  it("answers or closes on random bytes after the request line, never hanging", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
        const res = await rawExchange(
          running.port,
          Buffer.concat([Buffer.from("POST / HTTP/1.1\r\n"), Buffer.from(bytes), Buffer.from("\r\n\r\n")]),
          { timeoutMs: PER_REQUEST_TIMEOUT_MS, endAfterWrite: true },
        );
        // Garbage framing is refused by Node's HTTP parser (a bare 400 and a close), not by the host.
        check(res, Buffer.from(bytes).toString("latin1"), false);
      }),
      { seed: SEED + 3, numRuns: 60 },
    );
  }, 30_000);

  it("is still up and counting after the fuzzing", async () => {
    const statuses = Object.fromEntries(seen);
    expect((statuses[200] ?? 0) + (statuses[202] ?? 0), JSON.stringify(statuses)).toBeGreaterThanOrEqual(15);
    expect(statuses[400], JSON.stringify(statuses)).toBeGreaterThan(20);
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(400);
    const health = await fetch(`${running.url}/healthz`);
    expect(health.status).toBe(200);
    const before = (await (await fetch(`${running.url}/counter/after-fuzz`)).json()) as { version: number };
    const res = await fetch(`${running.url}/counter/after-fuzz/increment`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe(`"${before.version + 1}"`);
  });
});
