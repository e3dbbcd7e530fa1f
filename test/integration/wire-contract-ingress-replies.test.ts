import { describe, expect, it } from "vitest";
import { INTERNAL_SECRET } from "../fixtures/components.js";
import { postEvent } from "../support/host.js";
import {
  api,
  counter,
  expectProblem,
  nextId,
  postBatch,
  postStructured,
  url,
  useWireHost,
} from "./wire-contract-host.js";

/**
 * The host held to its wire contract (README "Wire contract"): what an ingress event gets back
 * (replies, empty answers, encoded attributes) and the problems a bad or failing event gets.
 */

useWireHost();

describe("CloudEvents ingress", () => {
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
