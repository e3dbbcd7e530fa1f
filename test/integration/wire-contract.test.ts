import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreUnavailable } from "../../src/errors/host-error.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { AppendRequest, AppendResult, EntityKey, StateStore } from "../../src/store/state-store.js";
import { allComponents, INTERNAL_SECRET } from "../fixtures/components.js";
import { postEvent, spawnHost, startHost, type RunningHost } from "../support/host.js";

/**
 * The host held to its wire contract (README "Wire contract"): what a Knative broker or an
 * HTTP client sends, and exactly what comes back.
 */

let running: RunningHost;
let url: string;

beforeAll(async () => {
  running = await startHost({ components: allComponents, env: { KNSTATE_PUBLIC_EVENTS: "true" } });
  url = running.url;
});

afterAll(async () => {
  await running?.close();
});

let seq = 0;
const nextId = (prefix = "ev") => `${prefix}-${Date.now().toString(36)}-${++seq}`;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function ceHeadersOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name.startsWith("ce-")) out[name] = value;
  });
  return out;
}

function postStructured(event: Record<string, unknown>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json; charset=UTF-8" },
    body: JSON.stringify({ specversion: "1.0", source: "/test", ...event }),
  });
}

function postBatch(events: ReadonlyArray<Record<string, unknown>>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify(events.map((e) => ({ specversion: "1.0", source: "/test", ...e }))),
  });
}

function api(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${url}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

function postJson(agent: Agent, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
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

async function counter(id: string): Promise<{ value: number; version: number }> {
  const res = await api(`/counter/${encodeURIComponent(id)}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { state: { value: number }; version: number };
  return { value: body.state.value, version: body.version };
}

async function expectProblem(res: Response, status: number, type?: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Record<string, unknown>;
  expect(body.status).toBe(status);
  expect(typeof body.title).toBe("string");
  expect(typeof body.detail).toBe("string");
  if (type !== undefined) expect(body.type).toBe(type);
  return body;
}

describe("CloudEvents ingress", () => {
  it("increments c1 from a binary-mode event and replies with a binary-mode event", async () => {
    const id = nextId();
    const res = await postEvent(url, {
      id,
      type: "com.example.counter.increment",
      subject: "c1",
      data: { by: 1 },
    });
    expect(res.status).toBe(200);
    const ce = ceHeadersOf(res);
    expect(Object.keys(ce).sort()).toEqual([
      "ce-entityversion",
      "ce-id",
      "ce-source",
      "ce-specversion",
      "ce-subject",
      "ce-time",
      "ce-type",
    ]);
    expect(ce["ce-specversion"]).toBe("1.0");
    expect(ce["ce-type"]).toBe("com.example.counter.increment.reply");
    expect(ce["ce-subject"]).toBe("c1");
    expect(ce["ce-source"]).toBe("/knstate/counter");
    expect(ce["ce-entityversion"]).toBe("1");
    expect(ce["ce-id"]).toMatch(/^\S+$/);
    expect(ce["ce-id"]).not.toBe(id);
    expect(ce["ce-time"]).toMatch(RFC3339);
    expect(Math.abs(Date.parse(ce["ce-time"]!) - Date.now())).toBeLessThan(60_000);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ value: 1 });
  });

  it("increments c1 from a structured-mode event", async () => {
    const before = await counter("c1");
    const res = await postStructured({
      id: nextId(),
      type: "com.example.counter.increment",
      subject: "c1",
      datacontenttype: "application/json",
      data: { by: 2 },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("ce-type")).toBe("com.example.counter.increment.reply");
    expect(res.headers.get("ce-entityversion")).toBe(String(before.version + 1));
    expect(await res.json()).toEqual({ value: before.value + 2 });
    expect(await counter("c1")).toEqual({ value: before.value + 2, version: before.version + 1 });
  });

  it("answers a batch of three increments with a batch of three replies", async () => {
    const subject = nextId("batch");
    const res = await postBatch(
      [1, 2, 3].map((n) => ({
        id: `${subject}-${n}`,
        type: "com.example.counter.increment",
        subject,
        data: { by: 1 },
      })),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/cloudevents-batch+json");
    const replies = (await res.json()) as Array<Record<string, unknown>>;
    expect(replies).toHaveLength(3);
    expect(replies.map((r) => r.data)).toEqual([{ value: 1 }, { value: 2 }, { value: 3 }]);
    expect(replies.map((r) => r.entityversion)).toEqual([1, 2, 3]);
    for (const reply of replies) {
      expect(reply).toMatchObject({
        specversion: "1.0",
        type: "com.example.counter.increment.reply",
        source: "/knstate/counter",
        subject,
        datacontenttype: "application/json",
      });
      expect(reply.time).toMatch(RFC3339);
    }
    expect(new Set(replies.map((r) => r.id)).size).toBe(3);
    expect(await counter(subject)).toEqual({ value: 3, version: 3 });
  });

  it("applies an event repeated inside one batch once, with the same reply for both", async () => {
    const subject = nextId("bdup");
    const event = { id: `${subject}-x`, type: "com.example.counter.increment", subject, data: { by: 4 } };
    const res = await postBatch([event, event]);
    expect(res.status).toBe(200);
    const replies = (await res.json()) as Array<Record<string, unknown>>;
    expect(replies).toHaveLength(2);
    expect(replies[1]).toEqual({ ...replies[0], time: replies[1]!.time });
    expect(await counter(subject)).toEqual({ value: 4, version: 1 });
  });

  it("answers an empty batch with 202 and an empty body", async () => {
    const res = await postBatch([]);
    expect(res.status).toBe(202);
    expect(await res.text()).toBe("");
  });

  it("applies a redelivered event once and answers it with the first reply", async () => {
    const subject = nextId("dup");
    const event = { id: "same-id", type: "com.example.counter.increment", subject, data: { by: 5 } };
    const first = await postEvent(url, event);
    const second = await postEvent(url, event);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const [a, b] = [ceHeadersOf(first), ceHeadersOf(second)];
    expect(b["ce-id"]).toBe(a["ce-id"]);
    expect(b["ce-entityversion"]).toBe("1");
    expect(await second.json()).toEqual(await first.json());
    // The same id from another source is another event.
    const other = await postEvent(url, { ...event, source: "/elsewhere" });
    expect(await other.json()).toEqual({ value: 10 });
    expect(await counter(subject)).toEqual({ value: 10, version: 2 });
  });

  it("applies concurrent redeliveries of one event once, with one reply for all", async () => {
    const subject = nextId("dupc");
    const event = { id: "concurrent-id", type: "com.example.counter.increment", subject, data: { by: 3 } };
    // Other events for the same entity in between, so the redeliveries share queues and group commits.
    const all = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0
          ? postEvent(url, event)
          : postEvent(url, {
              id: `other-${i}`,
              type: "com.example.counter.increment",
              subject,
              data: { by: 1 },
            }),
      ),
    );
    expect(all.map((r) => r.status)).toEqual(Array.from({ length: 30 }, () => 200));
    const duplicates = all.filter((_, i) => i % 3 === 0);
    const ids = new Set(duplicates.map((r) => r.headers.get("ce-id")));
    const bodies = new Set(await Promise.all(duplicates.map((r) => r.text())));
    expect(ids.size).toBe(1);
    expect(bodies.size).toBe(1);
    expect(await counter(subject)).toEqual({ value: 3 + 20, version: 21 });
  });

  it("counts 1,000 concurrent HTTP increments exactly, with contiguous versions", async () => {
    const subject = nextId("thousand");
    // All 1,000 are in flight at once, each on its own connection.
    const agent = new Agent({ keepAlive: true, maxSockets: 1000 });
    const results = await Promise.all(
      Array.from({ length: 1000 }, () => postJson(agent, `/counter/${subject}/increment`, { by: 1 })),
    );
    agent.destroy();
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(new Set(results.map((r) => (r.body as { value: number }).value)).size).toBe(1000);
    expect(await counter(subject)).toEqual({ value: 1000, version: 1000 });
    const events = (await (await api(`/counter/${subject}/events?from=1&to=1000`)).json()) as {
      events: Array<{ version: number; type: string; data: unknown }>;
    };
    expect(events.events.map((e) => e.version)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(events.events.every((e) => e.type === "changed")).toBe(true);
  }, 60_000);

  it("replies to an action with its data", async () => {
    const res = await postEvent(url, {
      id: nextId(),
      type: "com.example.echo.say",
      data: { hello: "wörld", n: [1, 2] },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("ce-type")).toBe("com.example.echo.say.reply");
    expect(res.headers.get("ce-source")).toBe("/knstate/echo");
    expect(res.headers.get("ce-entityversion")).toBeNull();
    expect(await res.json()).toEqual({ hello: "wörld", n: [1, 2] });
  });

  it("answers 202 with an empty body when an action has nothing to reply", async () => {
    const res = await postEvent(url, { id: nextId(), type: "com.example.quiet.ignore" });
    expect(res.status).toBe(202);
    expect(res.headers.get("content-length")).toBe("0");
    expect(res.headers.get("ce-id")).toBeNull();
    expect(await res.text()).toBe("");
    const batch = await postBatch([{ id: nextId(), type: "com.example.quiet.ignore" }]);
    expect(batch.status).toBe(202);
    expect(await batch.text()).toBe("");
  });

  it("answers 202 with an empty body when a command has nothing to reply, and still applies it once", async () => {
    const subject = nextId("ledger");
    const event = { id: `${subject}-1`, type: "com.example.ledger.record", subject };
    for (let i = 0; i < 2; i++) {
      const res = await postEvent(url, event);
      expect(res.status).toBe(202);
      expect(res.headers.get("ce-type")).toBeNull();
      expect(await res.text()).toBe("");
    }
    const viaApi = await api(`/ledger/${subject}/record`, { method: "POST" });
    expect(viaApi.status).toBe(204);
    expect(viaApi.headers.get("etag")).toBe('"2"');
    expect(await (await api(`/ledger/${subject}`)).json()).toEqual({ state: { entries: 2 }, version: 2 });
  });

  it("percent-encodes reply attributes that need it", async () => {
    const subject = "Euro € 😀";
    const res = await postStructured({ id: nextId(), type: "com.example.counter.increment", subject });
    expect(res.status).toBe(200);
    expect(res.headers.get("ce-subject")).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
    expect(await counter(subject)).toEqual({ value: 1, version: 1 });
  });

  it("answers a throwing handler with a 500 problem that shows no internals, and keeps serving", async () => {
    for (const res of [
      await postEvent(url, { id: nextId(), type: "com.example.quiet.explode" }),
      await postEvent(url, { id: nextId(), type: "com.example.fragile.explode", subject: "f1" }),
      await api("/fragile/f1/explode", { method: "POST" }),
      await api("/quiet/explode", { method: "POST" }),
      await postEvent(url, { id: nextId(), type: "com.example.quiet.upstream" }),
      await api("/quiet/upstream", { method: "POST" }),
    ]) {
      const text = await res.clone().text();
      await expectProblem(res, 500, "/problems/handler-failed");
      expect(text).not.toContain("hunter2");
      expect(text).not.toContain(INTERNAL_SECRET);
      expect(text).not.toMatch(/at .*\.ts:\d+/);
    }
    const after = await postEvent(url, { id: nextId(), type: "com.example.fragile.poke", subject: "f1" });
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ pokes: 1 });
  });

  it("rejects a command without a subject, and unknown or invalid commands, with 400", async () => {
    await expectProblem(
      await postEvent(url, { id: nextId(), type: "com.example.counter.increment" }),
      400,
      "/problems/missing-subject",
    );
    await expectProblem(
      await postEvent(url, { id: nextId(), type: "com.example.counter.multiply", subject: "c1" }),
      400,
      "/problems/unknown-type",
    );
    await expectProblem(
      await postEvent(url, {
        id: nextId(),
        type: "com.example.counter.increment",
        subject: "c1",
        data: { by: "x" },
      }),
      400,
      "/problems/invalid-command-data",
    );
  });

  it("answers a batch with a failed event with a problem listing the failure", async () => {
    const subject = nextId("bf");
    const res = await postBatch([
      { id: `${subject}-1`, type: "com.example.counter.increment", subject },
      { id: `${subject}-2`, type: "com.example.cart.checkout", subject },
    ]);
    const body = await expectProblem(res, 422, "/problems/command-rejected");
    expect(body.errors).toEqual([
      expect.objectContaining({ index: 1, status: 422, type: "/problems/command-rejected" }),
    ]);
  });
});

describe("HTTP API", () => {
  it("answers GET of a fresh entity with its initial state at version 0", async () => {
    const res = await api(`/counter/${nextId("fresh")}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"0"');
    expect(await res.json()).toEqual({ state: { value: 0 }, version: 0 });
  });

  it("runs a command with a JSON reply and an ETag of the new version", async () => {
    const id = nextId("h");
    const res = await api(`/counter/${id}/increment`, { body: { by: 4 } });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"1"');
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ value: 4 });
  });

  it("applies a command sent again with the same Idempotency-Key once", async () => {
    const id = nextId("idem");
    const send = () =>
      api(`/counter/${id}/increment`, { body: { by: 2 }, headers: { "idempotency-key": `key-${id}` } });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(second.headers.get("etag")).toBe('"1"');
    expect(await second.json()).toEqual(await first.json());
    expect(await counter(id)).toEqual({ value: 2, version: 1 });
    const other = await api(`/counter/${id}/increment`, {
      body: { by: 2 },
      headers: { "idempotency-key": "other" },
    });
    expect(await other.json()).toEqual({ value: 4 });
  });

  it("applies a command with If-Match only at that version (412 otherwise)", async () => {
    const id = nextId("ifm");
    const ok = await api(`/counter/${id}/increment`, { body: { by: 1 }, headers: { "if-match": '"0"' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("etag")).toBe('"1"');
    const stale = await api(`/counter/${id}/increment`, { body: { by: 1 }, headers: { "if-match": '"0"' } });
    const problem = await expectProblem(stale, 412, "/problems/precondition-failed");
    expect(problem.version).toBe(1);
    const current = await api(`/counter/${id}/increment`, {
      body: { by: 1 },
      headers: { "if-match": '"1"' },
    });
    expect(current.status).toBe(200);
    expect(await counter(id)).toEqual({ value: 2, version: 2 });
    await expectProblem(
      await api(`/counter/${id}/increment`, { body: { by: 1 }, headers: { "if-match": "2" } }),
      400,
      "/problems/invalid-request",
    );
  });

  it("answers 404 for unknown entities, commands and actions", async () => {
    await expectProblem(await api("/nope/1"), 404, "/problems/not-found");
    await expectProblem(await api("/counter/1/multiply", { body: {} }), 404, "/problems/not-found");
    await expectProblem(await api("/echo/shout", { body: {} }), 404, "/problems/not-found");
  });

  it("answers 415 for command data that is not JSON", async () => {
    const res = await fetch(`${url}/counter/x/increment`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "by=1",
    });
    await expectProblem(res, 415, "/problems/unsupported-media-type");
  });

  it("answers 413 for a body over the limit", async () => {
    const res = await fetch(`${url}/echo/say`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pad: "x".repeat(1024 * 1024) }),
    });
    await expectProblem(res, 413, "/problems/payload-too-large");
  });

  it("runs an action with a JSON reply, or 204 when it has none", async () => {
    const echo = await api("/echo/say", { body: { a: 1 } });
    expect(echo.status).toBe(200);
    expect(await echo.json()).toEqual({ a: 1 });
    const quiet = await api("/quiet/ignore", { method: "POST" });
    expect(quiet.status).toBe(204);
    expect(await quiet.text()).toBe("");
  });
});

describe("value entities", () => {
  it("stores the whole state and counts one version per update", async () => {
    const id = nextId("p");
    const renamed = await api(`/profile/${id}/rename`, { body: { name: "Ada" } });
    expect(renamed.status).toBe(200);
    expect(renamed.headers.get("etag")).toBe('"1"');
    expect(await renamed.json()).toEqual({ renamed: "Ada" });

    const viaEvent = await postEvent(url, {
      id: nextId(),
      type: "com.example.profile.rename",
      subject: id,
      data: { name: "Grace" },
    });
    expect(viaEvent.status).toBe(200);
    expect(viaEvent.headers.get("ce-entityversion")).toBe("2");
    expect(await viaEvent.json()).toEqual({ renamed: "Grace" });

    const read = await api(`/profile/${id}/get`, { method: "POST" });
    expect(read.headers.get("etag")).toBe('"2"');
    expect(await read.json()).toEqual({ name: "Grace", renames: 2 });

    const touched = await api(`/profile/${id}/touch`, { method: "POST" });
    expect(touched.headers.get("etag")).toBe('"3"');
    expect(await touched.json()).toEqual({ name: "Grace", renames: 2 });

    await expectProblem(
      await api(`/profile/${id}/rename`, { body: { name: "" } }),
      422,
      "/problems/command-rejected",
    );
    await expectProblem(
      await api(`/profile/${id}/rename`, { body: { name: 7 } }),
      400,
      "/problems/invalid-command-data",
    );

    const state = await api(`/profile/${id}`);
    expect(await state.json()).toEqual({ state: { name: "Grace", renames: 2 }, version: 3 });
  });
});

describe("shopping cart", () => {
  const cartEvent = (cart: string, command: string, data?: unknown) =>
    postEvent(url, {
      id: nextId(),
      type: `com.example.cart.${command}`,
      subject: cart,
      ...(data === undefined ? {} : { data }),
    });

  it("adds, merges, removes and checks out items", async () => {
    const cart = nextId("cart");
    expect((await cartEvent(cart, "addItem", { sku: "apple", name: "Apple", quantity: 2 })).status).toBe(200);
    const merged = await cartEvent(cart, "addItem", { sku: "apple", name: "Apple", quantity: 3 });
    expect(await merged.json()).toEqual({
      items: [{ sku: "apple", name: "Apple", quantity: 5 }],
      checkedOut: false,
    });
    await cartEvent(cart, "addItem", { sku: "pear", name: "Pear", quantity: 1 });
    const removed = await cartEvent(cart, "removeItem", { sku: "apple" });
    expect(removed.headers.get("ce-entityversion")).toBe("4");
    expect(await removed.json()).toEqual({
      items: [{ sku: "pear", name: "Pear", quantity: 1 }],
      checkedOut: false,
    });

    const read = await cartEvent(cart, "getCart");
    expect(read.headers.get("ce-type")).toBe("com.example.cart.getCart.reply");
    expect(read.headers.get("ce-entityversion")).toBe("4");

    const checkout = await api(`/cart/${cart}/checkout`, { method: "POST" });
    expect(checkout.status).toBe(200);
    expect(await checkout.json()).toEqual({
      items: [{ sku: "pear", name: "Pear", quantity: 1 }],
      checkedOut: true,
    });
    expect(await (await api(`/cart/${cart}`)).json()).toMatchObject({ version: 5 });
  });

  it("rejects what a cart cannot do with 422 and invalid items with 400", async () => {
    const cart = nextId("cartx");
    const rejected = async (res: Response, detail: RegExp) => {
      const body = await expectProblem(res, 422, "/problems/command-rejected");
      expect(body.detail).toMatch(detail);
    };
    await rejected(await cartEvent(cart, "checkout"), /empty cart/);
    await rejected(await cartEvent(cart, "removeItem", { sku: "ghost" }), /not in the cart/);
    await rejected(
      await cartEvent(cart, "addItem", { sku: "a", name: "A", quantity: 0 }),
      /quantity must be positive/,
    );
    await rejected(
      await cartEvent(cart, "addItem", { sku: "a", name: "A", quantity: -2 }),
      /quantity must be positive/,
    );
    for (const bad of [
      { sku: "no spaces", name: "A", quantity: 1 },
      { sku: "a", name: "", quantity: 1 },
      { sku: "a", name: "A", quantity: 1.5 },
      { sku: "a", name: "A", quantity: 1, extra: true },
      { sku: "a", name: "A" },
    ]) {
      await expectProblem(await cartEvent(cart, "addItem", bad), 400, "/problems/invalid-command-data");
    }
    expect((await cartEvent(cart, "addItem", { sku: "a", name: "A", quantity: 1 })).status).toBe(200);
    expect((await cartEvent(cart, "checkout")).status).toBe(200);
    await rejected(await cartEvent(cart, "checkout"), /already checked out/);
    await rejected(await cartEvent(cart, "addItem", { sku: "b", name: "B", quantity: 1 }), /checked out/);
    await rejected(await cartEvent(cart, "removeItem", { sku: "a" }), /checked out/);
    await rejected(
      await api(`/cart/${cart}/addItem`, { body: { sku: "b", name: "B", quantity: 1 } }),
      /checked out/,
    );
    expect(await (await api(`/cart/${cart}`)).json()).toMatchObject({ version: 2 });
  });
});

/** A memory store that can be switched to failing (as a lost Redis) or to losing every append race. */
class UnreliableStore implements StateStore {
  readonly name = "unreliable";
  mode: "ok" | "down" | "contended" = "ok";
  readonly #inner = new MemoryStore();

  #gate(): void {
    if (this.mode === "down") throw new StoreUnavailable("connection to the store lost");
  }
  load(key: EntityKey, dedupIds: readonly string[]) {
    this.#gate();
    return this.#inner.load(key, dedupIds);
  }
  check(key: EntityKey, dedupIds: readonly string[]) {
    this.#gate();
    return this.#inner.check(key, dedupIds);
  }
  async append(request: AppendRequest): Promise<AppendResult> {
    this.#gate();
    if (this.mode === "contended") return { kind: "conflict", version: request.expectedVersion + 1 };
    return this.#inner.append(request);
  }
  readEvents(key: EntityKey, from: number, to?: number) {
    this.#gate();
    return this.#inner.readEvents(key, from, to);
  }
  delete(key: EntityKey) {
    this.#gate();
    return this.#inner.delete(key);
  }
  ping() {
    return this.mode === "down" ? Promise.reject(new Error("down")) : Promise.resolve();
  }
  close() {
    return this.#inner.close();
  }
}

describe("when the store fails", () => {
  let store: UnreliableStore;
  let failing: RunningHost;
  beforeAll(async () => {
    store = new UnreliableStore();
    failing = await startHost({ store, env: { KNSTATE_CONFLICT_RETRIES: "2", KNSTATE_CACHE: "false" } });
  });
  afterAll(async () => {
    await failing?.close();
  });

  it("answers 503 with Retry-After while the store is unavailable, and recovers", async () => {
    store.mode = "down";
    const viaEvent = await postEvent(failing.url, {
      id: "down-1",
      type: "com.example.counter.increment",
      subject: "s1",
    });
    const problem = await expectProblem(viaEvent, 503, "/problems/store-unavailable");
    expect(problem.detail).not.toMatch(/at .*\.ts/);
    expect(viaEvent.headers.get("retry-after")).toBe("1");
    const viaApi = await fetch(`${failing.url}/counter/s1/increment`, { method: "POST" });
    await expectProblem(viaApi, 503, "/problems/store-unavailable");
    expect(viaApi.headers.get("retry-after")).toBe("1");
    expect((await fetch(`${failing.url}/readyz`)).status).toBe(503);

    store.mode = "ok";
    const retried = await postEvent(failing.url, {
      id: "down-1",
      type: "com.example.counter.increment",
      subject: "s1",
    });
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual({ value: 1 });
  });

  it("answers 503 with Retry-After when concurrent writers keep winning", async () => {
    store.mode = "contended";
    try {
      const res = await postEvent(failing.url, {
        id: "race-1",
        type: "com.example.counter.increment",
        subject: "s2",
      });
      await expectProblem(res, 503, "/problems/conflict-retries-exhausted");
      expect(res.headers.get("retry-after")).toBe("1");
    } finally {
      store.mode = "ok";
    }
    const res = await postEvent(failing.url, {
      id: "race-1",
      type: "com.example.counter.increment",
      subject: "s2",
    });
    expect(await res.json()).toEqual({ value: 1 });
  });
});

describe("the knstate CLI", () => {
  it("serves binary and structured events and exits cleanly on SIGTERM", async () => {
    const proc = await spawnHost({ functions: ["counter"] });
    try {
      const binary = await postEvent(proc.url, {
        id: "cli-1",
        type: "com.example.counter.increment",
        subject: "c1",
        data: { by: 2 },
      });
      expect(binary.status).toBe(200);
      expect(binary.headers.get("ce-type")).toBe("com.example.counter.increment.reply");
      expect(await binary.json()).toEqual({ value: 2 });
      const structured = await fetch(proc.url, {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify({
          specversion: "1.0",
          id: "cli-2",
          source: "/test",
          type: "com.example.counter.increment",
          subject: "c1",
        }),
      });
      expect(await structured.json()).toEqual({ value: 3 });
      expect(structured.headers.get("ce-entityversion")).toBe("2");
      const unknown = await postEvent(proc.url, { id: "cli-3", type: "com.example.echo.say" });
      expect(unknown.status).toBe(400);
      expect(await proc.stop("SIGTERM")).toBe(0);
    } finally {
      await proc.stop("SIGKILL");
    }
  }, 40_000);
});
