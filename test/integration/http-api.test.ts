import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allComponents } from "../fixtures/components.js";
import { postEvent, startHost, type RunningHost } from "../support/host.js";

/** The plain HTTP/JSON API: commands, reads, the event log, conditional and idempotent requests. */

let running: RunningHost;
let seq = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++seq}`;

beforeAll(async () => {
  running = await startHost({ components: allComponents, env: { KNSTATE_PUBLIC_EVENTS: "true" } });
});
afterAll(async () => {
  await running?.close();
});

function call(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers["content-type"] ??= "application/json";
  return fetch(`${running.url}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    ...(init.body === undefined
      ? {}
      : { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }),
  });
}

async function problem(res: Response, status: number, type?: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Record<string, unknown>;
  expect(body.status).toBe(status);
  if (type) expect(body.type).toBe(type);
  return body;
}

describe("the event log", () => {
  it("lists stored events with their versions, by range", async () => {
    const id = fresh("log");
    for (const by of [1, 2, 3, 4, 5]) await call(`/counter/${id}/increment`, { body: { by } });
    const all = (await (await call(`/counter/${id}/events`)).json()) as {
      events: Array<{ version: number; type: string; data: { by: number } }>;
    };
    expect(all.events.map((e) => [e.version, e.type, e.data.by])).toEqual([
      [1, "changed", 1],
      [2, "changed", 2],
      [3, "changed", 3],
      [4, "changed", 4],
      [5, "changed", 5],
    ]);
    const some = (await (await call(`/counter/${id}/events?from=2&to=3`)).json()) as {
      events: Array<{ version: number }>;
    };
    expect(some.events.map((e) => e.version)).toEqual([2, 3]);
    const none = (await (await call(`/counter/${id}/events?from=6`)).json()) as { events: unknown[] };
    expect(none.events).toEqual([]);
  });

  it("refuses ranges that are not whole numbers or too wide", async () => {
    await problem(await call("/counter/x/events?from=abc"), 400, "/problems/invalid-request");
    await problem(await call("/counter/x/events?from=-1"), 400, "/problems/invalid-request");
    await problem(await call("/counter/x/events?from=1&to=20000"), 400, "/problems/invalid-request");
    await problem(await call("/nothing/x/events"), 404, "/problems/not-found");
  });
});

describe("conditional requests", () => {
  it("round-trips the ETag of a read into If-Match", async () => {
    const id = fresh("etag");
    await call(`/counter/${id}/increment`, { body: { by: 1 } });
    const read = await call(`/counter/${id}`);
    const etag = read.headers.get("etag")!;
    expect(etag).toBe('"1"');
    const ok = await call(`/counter/${id}/increment`, { body: { by: 1 }, headers: { "if-match": etag } });
    expect(ok.status).toBe(200);
    const stale = await call(`/counter/${id}/increment`, { body: { by: 1 }, headers: { "if-match": etag } });
    expect((await problem(stale, 412, "/problems/precondition-failed")).detail).toMatch(/version 2, not 1/);
  });

  it("accepts weak tags and *, and refuses malformed ones", async () => {
    const id = fresh("weak");
    expect(
      (await call(`/counter/${id}/increment`, { body: {}, headers: { "if-match": 'W/"0"' } })).status,
    ).toBe(200);
    expect((await call(`/counter/${id}/increment`, { body: {}, headers: { "if-match": "*" } })).status).toBe(
      200,
    );
    for (const bad of ['"abc"', "1", '"-1"', '"1", "2"']) {
      await problem(
        await call(`/counter/${id}/increment`, { body: {}, headers: { "if-match": bad } }),
        400,
        "/problems/invalid-request",
      );
    }
    expect(await (await call(`/counter/${id}`)).json()).toMatchObject({ version: 2 });
  });

  it("checks If-Match on value entities too", async () => {
    const id = fresh("vp");
    await call(`/profile/${id}/rename`, { body: { name: "A" } });
    await problem(
      await call(`/profile/${id}/rename`, { body: { name: "B" }, headers: { "if-match": '"0"' } }),
      412,
    );
    expect(
      (await call(`/profile/${id}/rename`, { body: { name: "B" }, headers: { "if-match": '"1"' } })).status,
    ).toBe(200);
  });
});

describe("idempotent requests", () => {
  it("refuses an Idempotency-Key over 256 characters", async () => {
    await problem(
      await call("/counter/k/increment", { body: {}, headers: { "idempotency-key": "k".repeat(257) } }),
      400,
      "/problems/invalid-request",
    );
  });

  it("does not remember a rejected command, so a corrected retry is applied", async () => {
    const id = fresh("cart");
    const key = { "idempotency-key": `checkout-${id}` };
    await problem(await call(`/cart/${id}/checkout`, { method: "POST", headers: key }), 422);
    await call(`/cart/${id}/addItem`, { body: { sku: "a", name: "A", quantity: 1 } });
    const done = await call(`/cart/${id}/checkout`, { method: "POST", headers: key });
    expect(done.status).toBe(200);
    const again = await call(`/cart/${id}/checkout`, { method: "POST", headers: key });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(await done.json());
  });
});

describe("entity ids", () => {
  it("decodes percent-encoded ids, and reaches the same entity as a CloudEvent subject", async () => {
    const id = `${fresh("a")}/b c?€`;
    const res = await call(`/counter/${encodeURIComponent(id)}/increment`, { body: { by: 3 } });
    expect(res.status).toBe(200);
    const event = await postEvent(running.url, {
      id: fresh("e"),
      type: "com.example.counter.increment",
      subject: encodeURIComponent(id),
    });
    expect(await event.json()).toEqual({ value: 4 });
    expect(await (await call(`/counter/${encodeURIComponent(id)}`)).json()).toEqual({
      state: { value: 4 },
      version: 2,
    });
  });

  it("takes a trailing slash and a query on a command, and refuses a malformed percent-encoding", async () => {
    const id = fresh("slash");
    expect((await call(`/counter/${id}/increment/?trace=1`, { body: { by: 2 } })).status).toBe(200);
    const res = await call(`/counter/${id}/increment`, { body: { by: 3 } });
    expect(await res.json()).toEqual({ value: 5 });
    expect(res.headers.get("etag")).toBe('"2"');
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const bad = await problem(await call("/counter/%E0%A4%A/increment", { body: { by: 1 } }), 400);
    expect(bad.detail).toMatch(/decode/);
    await problem(await call(`/nothing/${id}/increment`, { body: {} }), 404, "/problems/not-found");
    await problem(await call(`/counter/${id}/explode`, { body: {} }), 404, "/problems/not-found");
  });

  it("keeps entities of different types with the same id apart", async () => {
    const id = fresh("same");
    await call(`/counter/${id}/increment`, { body: { by: 9 } });
    await call(`/profile/${id}/rename`, { body: { name: "x" } });
    expect(await (await call(`/counter/${id}`)).json()).toEqual({ state: { value: 9 }, version: 1 });
    expect(await (await call(`/profile/${id}`)).json()).toEqual({
      state: { name: "x", renames: 1 },
      version: 1,
    });
  });
});

describe("request bodies", () => {
  it("treats an empty body as no data", async () => {
    const res = await call(`/counter/${fresh("empty")}/increment`, { method: "POST" });
    expect(await res.json()).toEqual({ value: 1 });
  });

  it("refuses invalid JSON, other charsets and __proto__ keys", async () => {
    await problem(await call("/counter/j/increment", { body: '{"by": ' }), 400, "/problems/invalid-json");
    await problem(
      await call("/counter/j/increment", {
        body: '{"by": 1}',
        headers: { "content-type": "application/json; charset=ISO-8859-1" },
      }),
      415,
    );
    await problem(
      await call("/counter/j/increment", { body: '{"__proto__": {}}' }),
      400,
      "/problems/invalid-json",
    );
    expect(await (await call("/counter/j")).json()).toMatchObject({ version: 0 });
  });

  it("answers methods it does not serve with a problem", async () => {
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      const res = await call("/counter/x", { method });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      await res.arrayBuffer();
    }
  });
});
