import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawExchange } from "../support/raw-http.js";
import { startHost, type RunningHost } from "../support/host.js";

let running: RunningHost;

beforeAll(async () => {
  running = await startHost({ env: { KNSTATE_REQUEST_TIMEOUT: "800ms", KNSTATE_BODY_LIMIT: "1kb" } });
});
afterAll(async () => {
  await running?.close();
});

const problemOf = (body: Buffer) => JSON.parse(body.toString()) as { type: string; status: number };

describe("HTTP framing", () => {
  it("answers malformed HTTP with a 400 problem and closes the connection", async () => {
    const res = await rawExchange(
      running.port,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    );
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toBe("application/problem+json");
    expect(problemOf(res.body)).toMatchObject({ type: "/problems/invalid-request", status: 400 });
    expect(res.closed).toBe(true);
  });

  it("answers control bytes in a header with a 400 problem", async () => {
    const res = await rawExchange(
      running.port,
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n",
    );
    expect(res.status).toBe(400);
    expect(problemOf(res.body).type).toBe("/problems/invalid-request");
  });

  it("cuts off a client whose headers never finish, with a 408 problem, within the request timeout", async () => {
    const res = await rawExchange(
      running.port,
      [{ data: "POST / HTTP/1.1\r\nHost: x\r\n" }, { data: "ce-id: 1\r\n", delayMs: 300 }],
      { timeoutMs: 5000 },
    );
    expect(res.timedOut).toBe(false);
    expect(res.closed).toBe(true);
    expect(res.elapsedMs).toBeLessThan(3000);
    if (res.status !== 0) expect(problemOf(res.body).type).toBe("/problems/request-timeout");
  });

  it("refuses an oversized body announced with Expect: 100-continue without asking for it", async () => {
    const res = await rawExchange(
      running.port,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n",
    );
    expect(res.status).toBe(413);
    expect(problemOf(res.body).type).toBe("/problems/payload-too-large");
  });

  it("asks for a body of acceptable size with 100 Continue and then serves it", async () => {
    const body = JSON.stringify({ by: 2 });
    const res = await rawExchange(running.port, [
      {
        data:
          "POST /counter/expect-1/increment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          `Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
      },
      { data: body, delayMs: 100 },
    ]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ value: 2 });
  });
});

describe("methods and paths", () => {
  it("answers a method a known path does not serve with 405 and the Allow list", async () => {
    const cases: Array<[string, string, string]> = [
      ["GET", "/", "OPTIONS, POST"],
      ["PUT", "/", "OPTIONS, POST"],
      ["POST", "/healthz", "GET, HEAD, OPTIONS"],
      ["DELETE", "/counter/x", "GET, HEAD, OPTIONS, POST"],
      ["GET", "/counter/x/increment", "OPTIONS, POST"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await fetch(`${running.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow"), `${method} ${path}`).toBe(allow);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(await res.json()).toMatchObject({ type: "/problems/method-not-allowed", status: 405 });
    }
  });

  it("answers OPTIONS with the Allow list, and HEAD like GET without a body", async () => {
    const options = await fetch(`${running.url}/counter/x`, { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toBe("GET, HEAD, OPTIONS, POST");
    const head = await fetch(`${running.url}/healthz`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("answers an unknown path with a 404 problem without Allow", async () => {
    const res = await fetch(`${running.url}/a/b/c/d`);
    expect(res.status).toBe(404);
    expect(res.headers.get("allow")).toBeNull();
    expect(await res.json()).toMatchObject({ type: "/problems/not-found", status: 404 });
  });
});
