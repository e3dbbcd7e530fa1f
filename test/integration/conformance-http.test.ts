import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHost, type RunningHost } from "../support/host.js";
import {
  blamed,
  invalidBatches,
  invalidEvents,
  notInBinary,
  routed,
  toBinaryMessage,
  validBatches,
  validEvents,
  type Json,
} from "./conformance-events.js";

/**
 * The CloudEvents project's JSON-format conformance events (cloudevents/conformance,
 * format/json) posted to a running host: every valid event and batch is served, every invalid
 * one gets a 400 problem, in structured and batch mode and, where the attributes can be carried
 * as headers, in binary mode.
 */

describe("conformance events, over HTTP", () => {
  let running: RunningHost;
  beforeAll(async () => {
    running = await startHost();
  });
  afterAll(async () => {
    await running?.close();
  });

  const post = (contentType: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(running.url, {
      method: "POST",
      headers: { "content-type": contentType, ...headers },
      body: typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });

  async function problemOf(res: Response, status: number): Promise<Json> {
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as Json;
    expect(problem.status).toBe(status);
    return problem;
  }

  it.each(validEvents.map((t) => [t.id, t] as const))(
    "answers the valid event %s, whose type it does not serve, with the unknown-type 400",
    async (_id, t) => {
      const problem = await problemOf(await post("application/cloudevents+json", t.event), 400);
      expect(problem.type).toBe("/problems/unknown-type");
      expect(problem.detail).toContain("io.cloudevents.test");
    },
  );

  it.each(validEvents.map((t) => [t.id, t] as const))(
    "serves the valid event %s when it is routed to a function",
    async (_id, t) => {
      const res = await post("application/cloudevents+json; charset=UTF-8", routed(t.event));
      expect(res.status).toBe(200);
      expect(res.headers.get("ce-type")).toBe("com.example.echo.say.reply");
      const expected = t.event.data ?? {};
      expect(await res.json()).toEqual(expected);
    },
  );

  it.each(validEvents.map((t) => [t.id, t] as const))(
    "serves the valid event %s in binary mode",
    async (_id, t) => {
      const { headers, body } = toBinaryMessage(routed(t.event));
      const res = await fetch(running.url, { method: "POST", headers, body });
      expect(res.status).toBe(200);
      expect(res.headers.get("ce-type")).toBe("com.example.echo.say.reply");
      await res.arrayBuffer();
    },
  );

  it.each(validBatches.map((t) => [t.id, t] as const))("serves the valid batch %s", async (_id, t) => {
    const unrouted = await post("application/cloudevents-batch+json", t.batch);
    if (t.batch.length === 0) {
      expect(unrouted.status).toBe(202);
      expect(await unrouted.text()).toBe("");
      return;
    }
    const problem = await problemOf(unrouted, 400);
    expect(problem.type).toBe("/problems/unknown-type");
    expect((problem.errors as unknown[]).length).toBe(t.batch.length);

    const res = await post(
      "application/cloudevents-batch+json",
      t.batch.map((e) => routed(e as Json)),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/cloudevents-batch+json");
    const replies = (await res.json()) as Json[];
    expect(replies.map((r) => r.type)).toEqual(t.batch.map(() => "com.example.echo.say.reply"));
  });

  it.each(invalidEvents.map((t) => [t.id, t] as const))(
    "answers the invalid event %s with a 400 problem",
    async (id, t) => {
      const problem = await problemOf(await post("application/cloudevents+json", routed(t.event)), 400);
      expect(problem.type).toBe("/problems/invalid-cloudevent");
      expect(problem.detail).toMatch(blamed[id]!);
    },
  );

  it.each(invalidEvents.filter((t) => !notInBinary.has(t.id)).map((t) => [t.id, t] as const))(
    "answers the invalid event %s in binary mode with a 400 problem",
    async (_id, t) => {
      const { headers, body } = toBinaryMessage(routed(t.event));
      const res = await fetch(running.url, { method: "POST", headers, body });
      const problem = await problemOf(res, 400);
      expect(problem.type).toBe("/problems/invalid-cloudevent");
    },
  );

  it.each(invalidBatches.map((t) => [t.id, t] as const))(
    "answers the invalid batch %s with a 400 problem",
    async (_id, t) => {
      const res = await post(
        "application/cloudevents-batch+json",
        t.batch.map((e) => (typeof e === "object" ? routed(e as Json) : e)),
      );
      const problem = await problemOf(res, 400);
      expect(problem.type).toBe("/problems/invalid-cloudevent");
      expect(problem.detail).toMatch(/batch element \d+/);
    },
  );
});
