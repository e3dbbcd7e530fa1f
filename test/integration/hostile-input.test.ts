import { describe, expect, it } from "vitest";
import { jsonOf } from "../support/raw-http.js";
import { attributeCases } from "./hostile-input-cases-attributes.js";
import { bodyCases } from "./hostile-input-cases-bodies.js";
import { eventCases } from "./hostile-input-cases-events.js";
import { framingCases } from "./hostile-input-cases-framing.js";
import { nameCases } from "./hostile-input-cases-names.js";
import {
  binary,
  port,
  store,
  structured,
  structuredEvent,
  useHostileHost,
  VICTIM,
  type Case,
} from "./hostile-input-host.js";

/**
 * Hostile and malformed requests over raw sockets, each with the status it must get. A case
 * the host answers itself comes back as an RFC 9457 problem; a case that breaks HTTP framing
 * is refused by Node's HTTP parser (`transport`): the server answers a bare 4xx and closes
 * the connection, or just closes it. The cases live in hostile-input-cases-*.ts, by topic.
 */

useHostileHost();

const cases: Case[] = [...eventCases, ...bodyCases, ...attributeCases, ...framingCases, ...nameCases];

/** Subjects that look like Lua, key patterns or hash tags: stored verbatim, each its own counter. */
const trickySubjects = [
  "{x}",
  "a}b",
  "redis.call('FLUSHALL')",
  "*",
  "ks:counter:victim-1",
  "../../etc",
  "%",
  "\"'; --",
];

async function counterValue(id: string): Promise<{ value: number; version: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/counter/${encodeURIComponent(id)}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { state: { value: number }; version: number };
  return { value: body.state.value, version: body.version };
}

describe("hostile input", () => {
  it("answers every hostile request with its status and a problem, and stays up", async () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
    // Seed the victim so that "unchanged" means something.
    const seeded = await binary({}, '{"by": 7}', "application/json");
    expect(seeded.status).toBe(200);
    const before = await counterValue(VICTIM);
    expect(before).toEqual({ value: 7, version: 1 });
    const rssBefore = process.memoryUsage().rss;
    const appendsBefore = store.appends;

    const failures: string[] = [];
    let passed = 0;
    for (const c of cases) {
      const res = await c.send();
      const problems: string[] = [];
      if (c.transport) {
        if (!(res.closed && (res.status === 0 || res.status === c.status))) {
          problems.push(
            `expected ${c.status} and a closed connection, got ${res.status} (closed: ${res.closed})`,
          );
        }
      } else {
        if (res.status !== c.status) problems.push(`expected ${c.status}, got ${res.status}`);
        if (res.headers["content-type"] !== "application/problem+json") {
          problems.push(`content-type ${res.headers["content-type"]}`);
        }
        const body = jsonOf(res) as { type?: unknown; status?: unknown; detail?: unknown } | undefined;
        if (body?.status !== c.status || typeof body.detail !== "string") {
          problems.push(`body ${res.body.toString("utf8").slice(0, 200)}`);
        }
        if (c.problem !== undefined && body?.type !== c.problem)
          problems.push(`problem type ${String(body?.type)}`);
        if (typeof body?.detail === "string" && body.detail.length > 1000)
          problems.push("detail echoes the input");
      }
      if (res.timedOut) problems.push("timed out");
      if (c.withinMs !== undefined && res.elapsedMs > c.withinMs) {
        problems.push(`took ${Math.round(res.elapsedMs)} ms (limit ${c.withinMs})`);
      }
      if (problems.length > 0) failures.push(`${c.name}: ${problems.join("; ")}`);
      else passed++;
    }
    console.log(`bad_input_cases ${passed}/${cases.length}`);
    expect(failures).toEqual([]);

    // Nothing leaked into the prototypes.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(Object.keys(Array.prototype)).toEqual([]);

    // The host is alive and the victim counter was never touched.
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await counterValue(VICTIM)).toEqual(before);
    expect(store.appends, "no hostile request may reach the store's append").toBe(appendsBefore);
    const growthMiB = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    expect(growthMiB).toBeLessThan(256);
  }, 60_000);

  it("stores brace-laden and script-looking subjects verbatim, each apart from the others", async () => {
    for (const [i, subject] of trickySubjects.entries()) {
      const res = await structured(
        structuredEvent({ subject, data: { by: i + 1 }, datacontenttype: "application/json" }),
      );
      expect(res.status, subject).toBe(200);
      expect(res.headers["ce-subject"]).toBeDefined();
      expect(decodeURIComponent(res.headers["ce-subject"]!)).toBe(subject);
    }
    for (const [i, subject] of trickySubjects.entries()) {
      expect(await counterValue(subject), subject).toEqual({ value: i + 1, version: 1 });
    }
    expect((await counterValue(VICTIM)).value).toBe(7);
  });

  it("accepts constructor and prototype as extension names without touching any prototype", async () => {
    const res = await structured(
      structuredEvent({ subject: "proto-ext", constructor: "x", prototype: "y", tostring: "z" }),
    );
    expect(res.status).toBe(200);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(typeof ({} as { constructor: unknown }).constructor).toBe("function");
    expect((await counterValue("proto-ext")).value).toBe(1);
  });

  it("keeps working after 10,000 distinct subjects", async () => {
    const total = 10_000;
    let next = 0;
    const statuses = new Map<number, number>();
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const res = await fetch(`http://127.0.0.1:${port}/`, {
          method: "POST",
          headers: {
            "ce-specversion": "1.0",
            "ce-id": `many-${i}`,
            "ce-source": "/many",
            "ce-type": "com.example.counter.increment",
            "ce-subject": `many-${i}`,
          },
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    expect(Object.fromEntries(statuses)).toEqual({ 200: total });
    for (const i of [0, 4999, 9999])
      expect(await counterValue(`many-${i}`)).toEqual({ value: 1, version: 1 });
    expect((await counterValue(VICTIM)).value).toBe(7);
  }, 60_000);
});
