import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { createHost, type Host } from "../../src/host/host.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { AppendRequest } from "../../src/store/state-store.js";
import { allComponents } from "../fixtures/components.js";
import { jsonOf, rawExchange, rawRequest, type RawResponse } from "../support/raw-http.js";

/**
 * Hostile and malformed requests over raw sockets, each with the status it must get. A case
 * the host answers itself comes back as an RFC 9457 problem; a case that breaks HTTP framing
 * is refused by Node's HTTP parser (`transport`): the server answers a bare 4xx and closes
 * the connection, or just closes it.
 */

const REQUEST_TIMEOUT_MS = 1000;
const BODY_LIMIT = 1024 * 1024;
const VICTIM = "victim-1";

let host: Host;
let port: number;

/** The store, counting what reaches it: a hostile request must not write anything. */
class WatchedStore extends MemoryStore {
  appends = 0;
  override append(request: AppendRequest) {
    this.appends++;
    return super.append(request);
  }
}
const store = new WatchedStore();

beforeAll(async () => {
  const config = loadConfig({
    PORT: "0",
    METRICS_PORT: "0",
    ADMIN_PORT: "0",
    KNSTATE_HOST: "127.0.0.1",
    KNSTATE_REQUEST_TIMEOUT: `${REQUEST_TIMEOUT_MS}ms`,
  });
  host = createHost({ config, components: allComponents, store });
  port = await host.listen(0, "127.0.0.1");
});

afterAll(async () => {
  await host?.close();
});

type Headers = ReadonlyArray<readonly [string, string]>;

const ceHeaders = (overrides: Record<string, string | undefined> = {}): Headers => {
  const base: Record<string, string | undefined> = {
    "ce-specversion": "1.0",
    "ce-id": `hostile-${Math.random().toString(36).slice(2)}`,
    "ce-source": "/hostile",
    "ce-type": "com.example.counter.increment",
    "ce-subject": VICTIM,
    ...overrides,
  };
  return Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined);
};

const binary = (
  overrides: Record<string, string | undefined>,
  body?: string | Buffer,
  contentType?: string,
) =>
  rawRequest(port, {
    headers: [...ceHeaders(overrides), ...(contentType ? ([["Content-Type", contentType]] as const) : [])],
    ...(body === undefined ? {} : { body }),
  });

const structuredEvent = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
  const event: Record<string, unknown> = {
    specversion: "1.0",
    id: `hostile-${Math.random().toString(36).slice(2)}`,
    source: "/hostile",
    type: "com.example.counter.increment",
    subject: VICTIM,
    ...overrides,
  };
  for (const key of Object.keys(event)) if (event[key] === undefined) delete event[key];
  return event;
};

const structured = (
  body: string | Buffer | Record<string, unknown>,
  contentType = "application/cloudevents+json",
) =>
  rawRequest(port, {
    headers: [["Content-Type", contentType]],
    body: typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });

const deep = (levels: number) => "[".repeat(levels) + "]".repeat(levels);

/** `{"k0":0,"k1":0,…}` with short base-36 keys, so 100,000 of them stay under the body limit. */
const manyKeys = (count: number) => {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`"${i.toString(36)}":0`);
  return `{${parts.join(",")}}`;
};

/** 64 MiB of zeros, gzipped to about 64 KiB: inflating it would be a memory bomb. */
const gzipBomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));

interface Case {
  readonly name: string;
  readonly send: () => Promise<RawResponse>;
  readonly status: number;
  /** The problem `type`, when it matters which one. */
  readonly problem?: string;
  /** Refused by HTTP framing: a bare 4xx and a closed connection, or just a closed connection. */
  readonly transport?: boolean;
  /** Must be answered within this many milliseconds. */
  readonly withinMs?: number;
}

const invalidEvent = "/problems/invalid-cloudevent";
const invalidJson = "/problems/invalid-json";
const invalidData = "/problems/invalid-command-data";

const cases: Case[] = [
  // JSON
  {
    name: "bad JSON (structured)",
    send: () => structured('{"specversion": "1.0", id}'),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "truncated JSON data (binary)",
    send: () => binary({}, '{"by": ', "application/json"),
    status: 400,
    problem: invalidJson,
  },
  { name: "empty structured body", send: () => structured(""), status: 400, problem: invalidJson },
  {
    name: "structured body that is an array",
    send: () => structured("[]"),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "100,000 levels of nesting (structured)",
    send: () => structured(deep(100_000)),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "100,000 levels of nesting as command data",
    send: () => binary({}, `{"by": ${deep(100_000)}}`, "application/json"),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "100,000 levels of nesting echoed by an action",
    send: () => binary({ "ce-type": "com.example.echo.say" }, deep(100_000), "application/json"),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "100,000 keys in the event",
    send: () => structured(`${manyKeys(100_000).slice(0, -1)},"specversion":"1.0"}`),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "100,000 keys in the command data",
    send: () => binary({}, manyKeys(100_000), "application/json"),
    status: 400,
    problem: invalidData,
  },
  {
    name: "body that is not UTF-8 (binary JSON data)",
    send: () => binary({}, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), "application/json"),
    status: 400,
    problem: invalidJson,
  },
  // specversion
  {
    name: "wrong specversion (binary)",
    send: () => binary({ "ce-specversion": "0.3" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "missing specversion (binary)",
    send: () => binary({ "ce-specversion": undefined }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "empty specversion (binary)",
    send: () => binary({ "ce-specversion": "" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "wrong specversion (structured)",
    send: () => structured(structuredEvent({ specversion: "2.0" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "numeric specversion (structured)",
    send: () => structured(structuredEvent({ specversion: 1 })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "missing specversion (structured)",
    send: () => structured(structuredEvent({ specversion: undefined })),
    status: 400,
    problem: invalidEvent,
  },
  // required attributes
  {
    name: "missing id (binary)",
    send: () => binary({ "ce-id": undefined }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "missing source (binary)",
    send: () => binary({ "ce-source": undefined }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "missing type (binary)",
    send: () => binary({ "ce-type": undefined }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "missing id (structured)",
    send: () => structured(structuredEvent({ id: undefined })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "numeric id (structured)",
    send: () => structured(structuredEvent({ id: 42 })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "missing subject on a command",
    send: () => binary({ "ce-subject": undefined }),
    status: 400,
    problem: "/problems/missing-subject",
  },
  {
    name: "empty subject header",
    send: () => binary({ "ce-subject": "" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "no CloudEvent at all",
    send: () => rawRequest(port, { body: "" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "unknown type",
    send: () => binary({ "ce-type": "com.example.counter.explode" }),
    status: 400,
    problem: "/problems/unknown-type",
  },
  {
    name: "50,000-character type (structured)",
    send: () => structured(structuredEvent({ type: `com.${"a.".repeat(25_000)}x` })),
    status: 400,
    problem: "/problems/unknown-type",
    withinMs: 500,
  },
  {
    name: "50,000-character source full of near-URI characters",
    send: () => structured(structuredEvent({ source: `${"%a".repeat(25_000)} ` })),
    status: 400,
    problem: invalidEvent,
    withinMs: 500,
  },
  {
    name: "50,000-character datacontenttype built to backtrack",
    send: () =>
      structured(
        structuredEvent({
          datacontenttype: `application/${"a+".repeat(25_000)}json; charset=${";".repeat(100)}`,
        }),
      ),
    status: 400,
    problem: invalidEvent,
    withinMs: 500,
  },
  {
    name: "50,000-character type header (over Node's header size limit)",
    send: () => binary({ "ce-type": "a".repeat(50_000) }),
    status: 431,
    transport: true,
    withinMs: 500,
  },
  // size
  {
    name: "Content-Length over the body limit",
    send: () =>
      rawExchange(
        port,
        `POST / HTTP/1.1\r\nHost: x\r\nce-specversion: 1.0\r\nContent-Type: application/json\r\nContent-Length: ${BODY_LIMIT * 2}\r\n\r\n{"by":`,
      ),
    status: 413,
    problem: "/problems/payload-too-large",
  },
  {
    name: "chunked body growing over the limit",
    send: () => {
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      const framed = Buffer.concat([
        Buffer.from(`${chunk.length.toString(16)}\r\n`),
        chunk,
        Buffer.from("\r\n"),
      ]);
      return rawExchange(port, [
        {
          data: `POST / HTTP/1.1\r\nHost: x\r\n${ceHeaders()
            .map(([n, v]) => `${n}: ${v}\r\n`)
            .join("")}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        },
        ...Array.from({ length: 6 }, () => ({ data: framed, delayMs: 5 })),
      ]);
    },
    status: 413,
    problem: "/problems/payload-too-large",
  },
  // media types and encodings
  {
    name: "structured mode in a format other than JSON",
    send: () => structured("<event/>", "application/cloudevents+xml"),
    status: 415,
    problem: "/problems/unsupported-media-type",
  },
  {
    name: "structured JSON in latin-1",
    send: () => structured(structuredEvent(), "application/cloudevents+json; charset=ISO-8859-1"),
    status: 415,
    problem: "/problems/unsupported-media-type",
  },
  {
    name: "command data that is not JSON",
    send: () => binary({}, "by=1", "text/plain"),
    status: 415,
    problem: "/problems/unsupported-media-type",
  },
  {
    name: "a gzip bomb",
    send: () =>
      rawRequest(port, {
        headers: [...ceHeaders(), ["Content-Type", "application/json"], ["Content-Encoding", "gzip"]],
        body: gzipBomb,
      }),
    status: 415,
    problem: "/problems/unsupported-media-type",
    withinMs: 1000,
  },
  {
    name: "a media type that is not one",
    send: () => binary({}, '{"by":1}', "json please"),
    status: 400,
    problem: invalidEvent,
  },
  // strings
  {
    name: "invalid UTF-8 bytes in a header",
    send: () =>
      rawExchange(
        port,
        Buffer.concat([
          Buffer.from(
            `POST / HTTP/1.1\r\nHost: x\r\n${ceHeaders({ "ce-subject": undefined })
              .map(([n, v]) => `${n}: ${v}\r\n`)
              .join("")}ce-subject: a`,
          ),
          Buffer.from([0xc0, 0xa0]),
          Buffer.from("b\r\nContent-Length: 0\r\n\r\n"),
        ]),
      ),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "percent-encoded invalid UTF-8 in a header",
    send: () => binary({ "ce-subject": "a%C0%A0b" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "percent-encoded lone surrogate in a header",
    send: () => binary({ "ce-subject": "a%ED%A0%80b" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "percent-encoded control character in a header",
    send: () => binary({ "ce-subject": "a%01b" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "raw control character in a header",
    send: () => binary({ "ce-subject": "a\u0001b" }),
    status: 400,
    transport: true,
  },
  {
    name: "lone surrogate in a structured attribute",
    send: () =>
      structured(
        '{"specversion":"1.0","id":"x","source":"/h","type":"com.example.counter.get","subject":"a\\ud800b"}',
      ),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "control character in a structured attribute",
    send: () => structured(structuredEvent({ subject: "a\u0007b" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "NUL in a structured id",
    send: () => structured(structuredEvent({ id: "a\u0000b" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "C1 control in an extension",
    send: () => structured(structuredEvent({ note: "a\u0085b" })),
    status: 400,
    problem: invalidEvent,
  },
  // attribute formats
  {
    name: "invalid time (structured)",
    send: () => structured(structuredEvent({ time: "yesterday" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "out-of-range time (binary)",
    send: () => binary({ "ce-time": "2024-02-30T10:00:00Z" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "relative dataschema",
    send: () => structured(structuredEvent({ dataschema: "/schemas/x" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "dataschema with spaces (binary)",
    send: () => binary({ "ce-dataschema": "https://x/a%20b c" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "source that is not a URI-reference",
    send: () => binary({ "ce-source": "a%20b%zz" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "upper-case extension name",
    send: () => structured(structuredEvent({ MyExt: "x" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "punctuated extension name",
    send: () => structured(structuredEvent({ "my.ext": "x" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "punctuated extension header",
    send: () => binary({ "ce-my_ext": "x" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "non-integer extension value",
    send: () => structured(structuredEvent({ weight: 1.5 })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "object extension value",
    send: () => structured(structuredEvent({ meta: { a: 1 } })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "ce-datacontenttype header in binary mode",
    send: () => binary({ "ce-datacontenttype": "application/json" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "both data and data_base64",
    send: () => structured(structuredEvent({ data: { by: 1 }, data_base64: "eyJieSI6MX0=" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "data_base64 that is not base64",
    send: () => structured(structuredEvent({ data_base64: "!!!" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "more than 64 attributes",
    send: () => binary(Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`ce-x${i}`, "1"]))),
    status: 400,
    problem: invalidEvent,
  },
  // HTTP framing
  {
    name: "duplicate ce-id headers",
    send: () => rawRequest(port, { headers: [...ceHeaders(), ["ce-id", "second"]] }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "two Content-Types that disagree on the mode",
    send: () =>
      rawRequest(port, {
        headers: [
          ...ceHeaders(),
          ["Content-Type", "application/json"],
          ["Content-Type", "application/cloudevents+json"],
        ],
        body: JSON.stringify(structuredEvent({ subject: "smuggled" })),
      }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "gzip hidden behind a later Content-Encoding: identity",
    send: () =>
      rawRequest(port, {
        headers: [
          ...ceHeaders({ "ce-type": "com.example.echo.say" }),
          ["Content-Type", "application/octet-stream"],
          ["Content-Encoding", "gzip"],
          ["Content-Encoding", "identity"],
        ],
        body: gzipBomb,
      }),
    status: 415,
    problem: "/problems/unsupported-media-type",
  },
  {
    name: "Content-Length shorter than the body (the rest is a garbage second request)",
    send: () =>
      rawRequest(port, {
        headers: [...ceHeaders(), ["Content-Type", "application/json"], ["Content-Length", "5"]],
        body: '{"by": 1000}',
      }),
    status: 400,
    transport: true,
  },
  {
    name: "Content-Length longer than the body",
    send: () =>
      rawRequest(
        port,
        {
          headers: [...ceHeaders(), ["Content-Type", "application/json"], ["Content-Length", "100"]],
          body: '{"by": 1000}',
        },
        { endAfterWrite: true },
      ),
    status: 400,
    transport: true,
  },
  {
    name: "Content-Length longer than the body, connection left open",
    send: () =>
      rawRequest(
        port,
        {
          headers: [...ceHeaders(), ["Content-Type", "application/json"], ["Content-Length", "100"]],
          body: '{"by": 1000}',
        },
        { timeoutMs: REQUEST_TIMEOUT_MS + 3000 },
      ),
    status: 408,
    transport: true,
    withinMs: REQUEST_TIMEOUT_MS + 2000,
  },
  {
    name: "both Content-Length and Transfer-Encoding (request smuggling)",
    send: () =>
      rawRequest(port, {
        headers: [...ceHeaders(), ["Content-Length", "4"], ["Transfer-Encoding", "chunked"]],
        body: "0\r\n\r\n",
      }),
    status: 400,
    transport: true,
  },
  {
    name: "a client that sends its headers too slowly",
    send: () =>
      rawExchange(
        port,
        Array.from({ length: 40 }, (_, i) => ({
          data: i === 0 ? "POST / HTTP/1.1\r\nHost: x\r\n" : `x-slow-${i}: 1\r\n`,
          delayMs: i === 0 ? 0 : 100,
        })),
        { timeoutMs: REQUEST_TIMEOUT_MS + 3000 },
      ),
    status: 408,
    transport: true,
    withinMs: REQUEST_TIMEOUT_MS + 2000,
  },
  // command data
  {
    name: "huge number 1e400",
    send: () => binary({}, '{"by": 1e400}', "application/json"),
    status: 400,
    problem: invalidData,
  },
  {
    name: "integer beyond 2^53 (9007199254740993)",
    send: () => binary({}, '{"by": 9007199254740993}', "application/json"),
    status: 400,
    problem: invalidData,
  },
  {
    name: "non-integer by",
    send: () => binary({}, '{"by": 1.5}', "application/json"),
    status: 400,
    problem: invalidData,
  },
  {
    name: "by as a string",
    send: () => binary({}, '{"by": "1"}', "application/json"),
    status: 400,
    problem: invalidData,
  },
  // prototype pollution
  {
    name: "__proto__ in the command data",
    send: () => binary({}, '{"by": 1, "__proto__": {"polluted": true}}', "application/json"),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "escaped __proto__ key in the command data",
    send: () => binary({}, '{"by": 1, "\\u005f_proto__": {"polluted": true}}', "application/json"),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "__proto__ in the event",
    send: () =>
      structured(
        `{"specversion":"1.0","id":"p","source":"/h","type":"com.example.counter.increment","subject":"${VICTIM}","__proto__":{"polluted":true}}`,
      ),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "constructor.prototype in the command data",
    send: () => binary({}, '{"by": 1, "constructor": {"prototype": {"polluted": true}}}', "application/json"),
    status: 400,
    problem: invalidData,
  },
  {
    name: "constructor in a cart item",
    send: () =>
      binary(
        { "ce-type": "com.example.cart.addItem" },
        '{"sku":"a","name":"A","quantity":1,"constructor":{"prototype":{"polluted":true}}}',
        "application/json",
      ),
    status: 400,
    problem: invalidData,
  },
  {
    name: "__proto__ through the HTTP API",
    send: () =>
      rawRequest(port, {
        path: `/counter/${VICTIM}/increment`,
        headers: [["Content-Type", "application/json"]],
        body: '{"__proto__": {"polluted": true}}',
      }),
    status: 400,
    problem: invalidJson,
  },
  // names that exist on every object
  {
    name: "a command named constructor",
    send: () => binary({ "ce-type": "com.example.counter.constructor" }),
    status: 400,
    problem: "/problems/unknown-type",
  },
  {
    name: "a command named __proto__",
    send: () => binary({ "ce-type": "com.example.counter.__proto__" }),
    status: 400,
    problem: "/problems/unknown-type",
  },
  {
    name: "a command named toString through the HTTP API",
    send: () => rawRequest(port, { path: `/counter/${VICTIM}/toString` }),
    status: 404,
    problem: "/problems/not-found",
  },
  {
    name: "an action handler named constructor",
    send: () => rawRequest(port, { path: "/echo/constructor" }),
    status: 404,
    problem: "/problems/not-found",
  },
  {
    name: "an entity named __proto__",
    send: () => rawRequest(port, { method: "GET", path: "/__proto__/x" }),
    status: 404,
    problem: "/problems/not-found",
  },
  {
    name: "Expect: 100-continue with a body over the limit",
    send: () =>
      rawExchange(
        port,
        `POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: ${BODY_LIMIT + 1}\r\n\r\n`,
      ),
    status: 413,
    problem: "/problems/payload-too-large",
  },
  // paths
  {
    name: "/metrics on the public port",
    send: () => rawRequest(port, { method: "GET", path: "/metrics" }),
    status: 404,
    problem: "/problems/not-found",
  },
  {
    name: "unknown path of the HTTP API",
    send: () =>
      rawRequest(port, {
        path: "/nothing/here/at-all",
        headers: [["Content-Type", "application/json"]],
        body: "{}",
      }),
    status: 404,
    problem: "/problems/not-found",
  },
  {
    name: "malformed percent-encoding in a path",
    send: () => rawRequest(port, { method: "GET", path: "/counter/%E0%A4%A" }),
    status: 400,
  },
  // batches
  {
    name: "batch that is not an array",
    send: () => structured("{}", "application/cloudevents-batch+json"),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "batch over 1,000 events",
    send: () =>
      structured(
        JSON.stringify(Array.from({ length: 1001 }, (_, i) => structuredEvent({ id: `b${i}` }))),
        "application/cloudevents-batch+json",
      ),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "batch with one invalid event applies none",
    send: () =>
      structured(
        JSON.stringify([structuredEvent(), structuredEvent({ source: undefined })]),
        "application/cloudevents-batch+json",
      ),
    status: 400,
    problem: invalidEvent,
  },
];

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
