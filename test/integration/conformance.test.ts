import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeHeaderValue } from "../../src/cloudevents/header-value.js";
import { parseMessage, parseStructured } from "../../src/cloudevents/parse.js";
import { HostError } from "../../src/errors/host-error.js";
import { ROOT, startHost, type RunningHost } from "../support/host.js";

/**
 * The CloudEvents project's JSON-format conformance events (cloudevents/conformance,
 * format/json): every valid event and batch parses, every invalid one is refused with a 400
 * problem, in structured and batch mode and, where the attributes can be carried as headers,
 * in binary mode.
 */

/** A copy of cloudevents/conformance format/json; provenance and license in its NOTICE and LICENSE. */
const CONFORMANCE_DIR = path.join(ROOT, "test/fixtures/cloudevents-conformance");

type Json = Record<string, unknown>;
interface EventTest {
  readonly id: string;
  readonly event: Json;
}
interface BatchTest {
  readonly id: string;
  readonly batch: readonly unknown[];
}

function load<T>(file: string): readonly T[] {
  const parsed = JSON.parse(readFileSync(path.join(CONFORMANCE_DIR, file), "utf8")) as { tests: T[] };
  if (!Array.isArray(parsed.tests) || parsed.tests.length === 0) throw new Error(`${file} holds no tests`);
  return parsed.tests;
}

const validEvents = load<EventTest>("valid-events.json");
const invalidEvents = load<EventTest>("invalid-events.json");
const validBatches = load<BatchTest>("valid-batches.json");
const invalidBatches = load<BatchTest>("invalid-batches.json");

/** The attribute each invalid event gets wrong: the 400's detail must name it. */
const blamed: Record<string, RegExp> = {
  invalidNoSpecVersion: /specversion/,
  invalidNoId: /"id"/,
  invalidNoType: /"type"/,
  invalidNoSource: /"source"/,
  invalidTimeGarbage: /"time"/,
  invalidTimeToMinute: /"time"/,
  invalidTimeOffsetX: /"time"/,
  invalidTimeOffsetOutOfRange: /"time"/,
  invalidTimeOffsetNonInteger: /"time"/,
  invalidTimeOffsetHourOnly: /"time"/,
  invalidEmptyId: /"id"/,
  invalidEmptyType: /"type"/,
  invalidEmptySource: /"source"/,
  invalidEmptySpecVersion: /specversion/,
  invalidUnknownSpecVersion: /specversion "0\.9"/,
  invalidNonRfc2046DataContentType: /datacontenttype/,
  invalidEmptyDataContentType: /datacontenttype/,
  invalidEmptyDataSchema: /dataschema/,
  invalidEmptySubject: /"subject"/,
  invalidNumericId: /"id"/,
  invalidObjectId: /"id"/,
  invalidCapitalizedExtension: /MyExtension/,
  invalidPunctuatedExtension: /my\.extension/,
  invalidNonIntegerExtensionValue: /my\.extension/,
  invalidBothDataAndDataBase64: /data_base64/,
};

/**
 * Invalid events whose fault cannot travel in headers: header names are case-insensitive and
 * every header value is a string, and binary mode has no data_base64.
 */
const notInBinary = new Set([
  "invalidNumericId",
  "invalidObjectId",
  "invalidCapitalizedExtension",
  "invalidBothDataAndDataBase64",
  "invalidNonIntegerExtensionValue",
]);

/** Routes a conformance event to the echo action, keeping every attribute under test. */
function routed(event: Json): Json {
  return event.type === "io.cloudevents.test" ? { ...event, type: "com.example.echo.say" } : event;
}

/** The event as a binary-mode message: attributes as percent-encoded `ce-` headers, data as the body. */
function toBinaryMessage(event: Json): { headers: Record<string, string>; body: Buffer } {
  const headers: Record<string, string> = {};
  let body = Buffer.alloc(0);
  const contentType = typeof event.datacontenttype === "string" ? event.datacontenttype : undefined;
  for (const [name, value] of Object.entries(event)) {
    if (value === null || value === undefined) continue;
    if (name === "data") {
      const json = contentType === undefined || contentType.includes("json");
      body = Buffer.from(json || typeof value !== "string" ? JSON.stringify(value) : value);
    } else if (name === "data_base64") body = Buffer.from(scalar(value), "base64");
    else if (name === "datacontenttype") headers["content-type"] = scalar(value);
    else headers[`ce-${name}`] = encodeHeaderValue(scalar(value));
  }
  return { headers, body };
}

/** An attribute value as binary mode carries it: a string. */
function scalar(value: unknown): string {
  if (typeof value === "string") return value;
  return typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
}

const rawHeadersOf = (headers: Record<string, string>) => Object.entries(headers).flat();

function expectHostError(run: () => unknown, detail?: RegExp): HostError {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(HostError);
  const error = thrown as HostError;
  expect(error.status).toBe(400);
  expect(error.detail.length).toBeGreaterThan(10);
  if (detail) expect(error.detail).toMatch(detail);
  return error;
}

describe("conformance events, parsed", () => {
  it.each(validEvents.map((t) => [t.id, t] as const))("parses the valid event %s", (_id, t) => {
    const parsed = parseStructured(t.event);
    expect(parsed).toMatchObject({
      specversion: "1.0",
      id: t.event.id,
      source: t.event.source,
      type: t.event.type,
    });
    for (const [name, value] of Object.entries(t.event)) {
      if (["specversion", "id", "source", "type", "data", "data_base64"].includes(name)) continue;
      const core = ["subject", "time", "datacontenttype", "dataschema"].includes(name);
      const actual = core ? (parsed as unknown as Json)[name] : parsed.extensions[name];
      expect(actual, name).toBe(value ?? undefined);
    }
    if (t.event.data !== undefined) expect(parsed.data).toEqual(t.event.data);
    const viaMessage = parseMessage(
      ["Content-Type", "application/cloudevents+json"],
      Buffer.from(JSON.stringify(t.event)),
    );
    expect(viaMessage).toEqual({ mode: "structured", events: [parsed] });
  });

  it.each(validBatches.map((t) => [t.id, t] as const))("parses the valid batch %s", (_id, t) => {
    const parsed = parseMessage(
      ["content-type", "application/cloudevents-batch+json"],
      Buffer.from(JSON.stringify(t.batch)),
    );
    expect(parsed.mode).toBe("batch");
    expect(parsed.events.map((e) => e.id)).toEqual(t.batch.map((e) => (e as Json).id));
  });

  it.each(invalidEvents.map((t) => [t.id, t] as const))(
    "refuses the invalid event %s, naming the fault",
    (id, t) => {
      const detail = blamed[id];
      expect(detail, `no expected detail for ${id}: add it to the table`).toBeDefined();
      expectHostError(() => parseStructured(t.event), detail);
      expectHostError(
        () =>
          parseMessage(
            ["Content-Type", "application/cloudevents+json"],
            Buffer.from(JSON.stringify(t.event)),
          ),
        detail,
      );
    },
  );

  it.each(invalidBatches.map((t) => [t.id, t] as const))(
    "refuses the invalid batch %s, naming the element",
    (_id, t) => {
      expectHostError(
        () =>
          parseMessage(
            ["Content-Type", "application/cloudevents-batch+json"],
            Buffer.from(JSON.stringify(t.batch)),
          ),
        /batch element \d+/,
      );
    },
  );

  it.each(validEvents.map((t) => [t.id, t] as const))(
    "parses the valid event %s in binary mode",
    (_id, t) => {
      const { headers, body } = toBinaryMessage(t.event);
      const parsed = parseMessage(rawHeadersOf(headers), body);
      expect(parsed.mode).toBe("binary");
      expect(parsed.events[0]).toMatchObject({ id: t.event.id, source: t.event.source, type: t.event.type });
      for (const [name, value] of Object.entries(t.event)) {
        if (
          value === null ||
          ["specversion", "id", "source", "type", "data", "datacontenttype"].includes(name)
        )
          continue;
        const core = ["subject", "time", "dataschema"].includes(name);
        const actual = core
          ? (parsed.events[0] as unknown as Json)[name]
          : parsed.events[0]!.extensions[name];
        // Binary mode carries every attribute as a string.
        expect(actual, name).toBe(String(value as string | number | boolean));
      }
    },
  );

  it.each(invalidEvents.filter((t) => !notInBinary.has(t.id)).map((t) => [t.id, t] as const))(
    "refuses the invalid event %s in binary mode",
    (_id, t) => {
      const { headers, body } = toBinaryMessage(t.event);
      expectHostError(() => parseMessage(rawHeadersOf(headers), body));
    },
  );
});

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
