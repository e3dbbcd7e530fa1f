import { describe, expect, it } from "vitest";
import { postEvent } from "../support/host.js";
import { api, counter, expectProblem, nextId, url, useWireHost } from "./wire-contract-host.js";

/**
 * The host held to its wire contract (README "Wire contract"): the HTTP API over entities and
 * actions, value entities, and the shopping cart example end to end.
 */

useWireHost();

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
