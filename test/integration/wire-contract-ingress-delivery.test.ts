import { Agent } from "node:http";
import { describe, expect, it } from "vitest";
import { postEvent } from "../support/host.js";
import {
  api,
  ceHeadersOf,
  counter,
  nextId,
  postBatch,
  postJson,
  postStructured,
  RFC3339,
  url,
  useWireHost,
} from "./wire-contract-host.js";

/**
 * The host held to its wire contract (README "Wire contract"): how it takes CloudEvents from a
 * Knative broker (binary, structured, batch; redelivered and concurrent), applying each once.
 */

useWireHost();

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
});
