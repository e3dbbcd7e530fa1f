import { describe, expect, it } from "vitest";
import { checkMediaType, checkTime } from "../../src/cloudevents/attributes.js";
import { decodeHeaderValue, encodeHeaderValue } from "../../src/cloudevents/header-value.js";
import { checkCharset, essence, isJsonMediaType, MAX_DEPTH, parseJson } from "../../src/cloudevents/json.js";
import { modeOf, parseMessage, parseStructured } from "../../src/cloudevents/parse.js";
import { HostError } from "../../src/errors/host-error.js";

function thrown(run: () => unknown): HostError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HostError);
    return error as HostError;
  }
  throw new Error("expected a HostError, but nothing was thrown");
}

const binaryHeaders = (extra: Record<string, string> = {}): string[] =>
  Object.entries({
    "ce-specversion": "1.0",
    "ce-id": "1",
    "ce-source": "/test",
    "ce-type": "com.example.counter.increment",
    ...extra,
  }).flat();

const structuredBody = (event: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ specversion: "1.0", id: "1", source: "/test", type: "t", ...event }));

describe("header values", () => {
  it("percent-decodes UTF-8 as the HTTP binding's example shows", () => {
    expect(decodeHeaderValue("subject", "Euro%20%E2%82%AC%20%F0%9F%98%80")).toBe("Euro € 😀");
  });

  it("accepts lower-case and unnecessary escapes", () => {
    expect(decodeHeaderValue("subject", "%e2%82%ac%41")).toBe("€A");
  });

  it("keeps a % that does not start an escape, as unencoding senders send it", () => {
    expect(decodeHeaderValue("subject", "100%")).toBe("100%");
    expect(decodeHeaderValue("subject", "50% off")).toBe("50% off");
    expect(decodeHeaderValue("subject", "%zz%4")).toBe("%zz%4");
    expect(decodeHeaderValue("subject", "%25")).toBe("%");
  });

  it("rejects percent-encodings that are not UTF-8", () => {
    for (const bad of ["%C0%A0", "%E2%82", "%ED%A0%80", "%FF"]) {
      const error = thrown(() => decodeHeaderValue("subject", bad));
      expect(error.status).toBe(400);
      expect(error.detail).toMatch(/ce-subject.*UTF-8/);
    }
  });

  it("decodes raw UTF-8 bytes, which Node reads as latin-1, and rejects invalid ones", () => {
    expect(decodeHeaderValue("subject", Buffer.from("Grüße €", "utf8").toString("latin1"))).toBe("Grüße €");
    expect(thrown(() => decodeHeaderValue("subject", "\u00c0\u00a0")).detail).toMatch(/not valid UTF-8/);
  });

  it("unquotes an RFC 7230 quoted-string before percent-decoding", () => {
    expect(decodeHeaderValue("subject", '"hello world"')).toBe("hello world");
    expect(decodeHeaderValue("subject", '"a\\"b\\\\c"')).toBe('a"b\\c');
    expect(decodeHeaderValue("subject", '"a%20b"')).toBe("a b");
    expect(decodeHeaderValue("subject", '"')).toBe('"');
    expect(decodeHeaderValue("subject", 'a"b')).toBe('a"b');
  });

  it("encodes space, quote, percent and non-ASCII, and round-trips every string", () => {
    expect(encodeHeaderValue("Euro € 😀")).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
    expect(encodeHeaderValue('"100%"')).toBe("%22100%25%22");
    expect(encodeHeaderValue("plain-ascii_~")).toBe("plain-ascii_~");
    for (const s of ["", "a b", "%", "%%41", '"quoted"', "tab\there", "ÿ", "😀😀", "\u007f"]) {
      expect(decodeHeaderValue("x", encodeHeaderValue(s))).toBe(s);
    }
  });
});

describe("time", () => {
  it.each([
    "2018-04-05T17:31:00Z",
    "1985-04-12T23:20:50.52Z",
    "1996-12-19T16:39:57-08:00",
    "2016-12-31T23:59:60Z",
    "2024-02-29T00:00:00Z",
    "2018-04-05t17:31:00z",
    "2018-04-05T17:31:00.123456789123Z",
    "0001-01-01T00:00:00+23:59",
  ])("accepts the RFC 3339 timestamp %s", (time) => {
    expect(checkTime(time)).toBe(time);
  });

  it.each([
    "2023-02-29T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-00-10T00:00:00Z",
    "2024-01-00T00:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T23:60:00Z",
    "2024-01-01T23:59:61Z",
    "2024-01-01T00:00:00+24:00",
    "2024-01-01T00:00:00+23:60",
    "2024-01-01T00:00Z",
    "2024-01-01 00:00:00Z",
    "2024-01-01T00:00:00",
    "2024-01-01T00:00:00.Z",
    "lunchtime",
  ])("rejects %s with a 400 that quotes it", (time) => {
    const error = thrown(() => checkTime(time));
    expect(error.status).toBe(400);
    expect(error.detail).toContain('"time"');
  });

  it("does not echo a huge value back", () => {
    expect(thrown(() => checkTime("x".repeat(10_000))).detail.length).toBeLessThan(200);
  });
});

describe("media types", () => {
  it.each(["application/json", "text/plain; charset=utf-8", "application/vnd.api+json", "image/svg+xml"])(
    "accepts %s",
    (type) => {
      expect(checkMediaType("datacontenttype", type)).toBe(type);
    },
  );

  it.each(["xyz", "/json", "application/", "application json", "application/json/x"])(
    "rejects %s",
    (type) => {
      expect(thrown(() => checkMediaType("datacontenttype", type)).status).toBe(400);
    },
  );

  it("recognises JSON media types by their essence", () => {
    expect(essence("Application/JSON; charset=UTF-8")).toBe("application/json");
    expect(isJsonMediaType("application/json")).toBe(true);
    expect(isJsonMediaType("text/json")).toBe(true);
    expect(isJsonMediaType("application/vnd.example+json; v=1")).toBe(true);
    expect(isJsonMediaType("application/jsonx")).toBe(false);
    expect(isJsonMediaType("text/plain")).toBe(false);
  });

  it("accepts UTF-8 and refuses other charsets with 415", () => {
    expect(() => checkCharset("application/json; charset=UTF-8")).not.toThrow();
    expect(() => checkCharset('application/json; charset="utf8"')).not.toThrow();
    expect(thrown(() => checkCharset("application/json; charset=ISO-8859-1")).status).toBe(415);
  });
});

describe("modes", () => {
  it("tells the mode from the Content-Type", () => {
    expect(modeOf(undefined)).toBe("binary");
    expect(modeOf("application/json")).toBe("binary");
    expect(modeOf("application/cloudevents+json; charset=UTF-8")).toBe("structured");
    expect(modeOf("Application/CloudEvents-Batch+JSON")).toBe("batch");
    expect(modeOf("application/cloudevents+xml")).toBe("structured");
  });

  it("reads a binary-mode event, with header names in any case", () => {
    const { mode, events } = parseMessage(
      [
        ...binaryHeaders(),
        "CE-Subject",
        "c1",
        "Ce-TraceParent",
        "00-abc-def-01",
        "Content-Type",
        "application/json",
      ],
      Buffer.from('{"by": 2}'),
    );
    expect(mode).toBe("binary");
    expect(events[0]).toMatchObject({
      id: "1",
      subject: "c1",
      datacontenttype: "application/json",
      extensions: { traceparent: "00-abc-def-01" },
      dataKind: "json",
      data: { by: 2 },
    });
  });

  it("reads binary data by its media type: JSON values as JSON, text as text, the rest as bytes", () => {
    const read = (type: string | undefined, body: string) =>
      parseMessage([...binaryHeaders(), ...(type ? ["content-type", type] : [])], Buffer.from(body))
        .events[0]!;
    expect(read(undefined, "42")).toMatchObject({ dataKind: "json", data: 42 });
    expect(read("application/json", '"hi"')).toMatchObject({ dataKind: "json", data: "hi" });
    expect(read("application/json", "null")).toMatchObject({ dataKind: "json", data: null });
    expect(read("text/plain", "hello")).toMatchObject({ dataKind: "text", data: "hello" });
    const bytes = read("application/octet-stream", "\u0001\u0002");
    expect(bytes.dataKind).toBe("binary");
    expect(Buffer.isBuffer(bytes.data)).toBe(true);
    expect(read("application/json", "")).toMatchObject({ dataKind: "none", data: undefined });
  });

  it("explains how to send an event when a request carries none", () => {
    const error = thrown(() => parseMessage(["content-type", "application/json"], Buffer.from("{}")));
    expect(error.status).toBe(400);
    expect(error.detail).toMatch(/ce-specversion/);
    expect(error.detail).toMatch(/application\/cloudevents\+json/);
  });

  it("keeps a URI's own escapes from senders that do not percent-encode headers", () => {
    const source = (value: string, extra: Record<string, string> = {}) =>
      parseMessage(binaryHeaders({ "ce-source": value, ...extra }), Buffer.alloc(0)).events[0]!;
    expect(source("https://x.example/a%20b").source).toBe("https://x.example/a%20b");
    expect(source("urn:x:%E2%82%AC").source).toBe("urn:x:%E2%82%AC");
    // An encoding sender escapes the escape: one round of decoding gives the URI back.
    expect(source("https://x.example/a%2520b").source).toBe("https://x.example/a%20b");
    expect(source("/a", { "ce-dataschema": "https://x.example/s%20v1" }).dataschema).toBe(
      "https://x.example/s%20v1",
    );
    // Neither reading is a URI: still refused.
    expect(thrown(() => source("a%20b c")).detail).toMatch(/"source" must be a URI-reference/);
    expect(thrown(() => source("/a", { "ce-dataschema": "relative%20path" })).detail).toMatch(
      /"dataschema" must be/,
    );
  });

  it("refuses repeated attributes and ce-datacontenttype in binary mode", () => {
    expect(thrown(() => parseMessage([...binaryHeaders(), "ce-id", "2"], Buffer.alloc(0))).detail).toMatch(
      /repeated/,
    );
    expect(
      thrown(() => parseMessage([...binaryHeaders(), "ce-datacontenttype", "text/plain"], Buffer.alloc(0)))
        .detail,
    ).toMatch(/Content-Type/);
  });

  it("reads the attributes of a structured event from the body, not from ce- headers", () => {
    const { mode, events } = parseMessage(
      ["content-type", "application/cloudevents+json; charset=UTF-8", "ce-id", "from-header"],
      structuredBody({ id: "from-body" }),
    );
    expect(mode).toBe("structured");
    expect(events[0]!.id).toBe("from-body");
  });

  it("reads structured data: JSON as is, data_base64 as bytes, null as an explicit null", () => {
    const read = (event: Record<string, unknown>) =>
      parseStructured(JSON.parse(structuredBody(event).toString()));
    expect(read({ data: { a: 1 } })).toMatchObject({ dataKind: "json", data: { a: 1 } });
    expect(read({ data: "{}" })).toMatchObject({ dataKind: "json", data: "{}" });
    expect(read({ data: null })).toMatchObject({ dataKind: "json", data: null });
    expect(read({})).toMatchObject({ dataKind: "none", data: undefined });
    expect(read({ datacontenttype: "text/plain", data: "hi" })).toMatchObject({
      dataKind: "text",
      data: "hi",
    });
    const binary = read({ datacontenttype: "application/octet-stream", data_base64: "AAEC" });
    expect(binary.dataKind).toBe("binary");
    expect([...(binary.data as Buffer)]).toEqual([0, 1, 2]);
    expect(read({ data_base64: Buffer.from('{"by":3}').toString("base64") })).toMatchObject({
      data: { by: 3 },
    });
  });

  it("types structured extensions: strings, booleans and 32-bit integers only", () => {
    const event = parseStructured(
      JSON.parse(structuredBody({ a: "x", b: true, c: -2147483648, d: null }).toString()),
    );
    expect(event.extensions).toEqual({ a: "x", b: true, c: -2147483648 });
    expect(
      thrown(() => parseStructured({ ...JSON.parse(structuredBody({}).toString()), c: 2147483648 })).status,
    ).toBe(400);
  });

  it("reads a batch and names the element that is wrong", () => {
    const batch = ["content-type", "application/cloudevents-batch+json"];
    const ok = parseMessage(
      batch,
      Buffer.from(JSON.stringify([{ specversion: "1.0", id: "a", source: "/s", type: "t" }])),
    );
    expect(ok.mode).toBe("batch");
    expect(ok.events).toHaveLength(1);
    const error = thrown(() =>
      parseMessage(
        batch,
        Buffer.from(JSON.stringify([{ specversion: "1.0", id: "a", source: "/s", type: "t" }, {}])),
      ),
    );
    expect(error.detail).toMatch(/batch element 1/);
  });

  it("refuses compressed bodies with 415 without reading them", () => {
    const error = thrown(() =>
      parseMessage([...binaryHeaders(), "Content-Encoding", "gzip"], Buffer.from("\u001f")),
    );
    expect(error.status).toBe(415);
    expect(() =>
      parseMessage([...binaryHeaders(), "content-encoding", "identity"], Buffer.alloc(0)),
    ).not.toThrow();
  });

  it("refuses a repeated Content-Type, and a coding hidden behind a later identity", () => {
    const twice = ["content-type", "application/cloudevents+json", "Content-Type", "application/json"];
    expect(thrown(() => parseMessage([...binaryHeaders(), ...twice], Buffer.from("{}"))).detail).toMatch(
      /Content-Type is repeated/,
    );
    const hidden = ["content-encoding", "gzip", "content-encoding", "identity"];
    expect(thrown(() => parseMessage([...binaryHeaders(), ...hidden], Buffer.alloc(0))).status).toBe(415);
  });

  it("refuses structured formats other than JSON with 415", () => {
    expect(
      thrown(() => parseMessage(["content-type", "application/cloudevents+avro"], Buffer.alloc(1))).status,
    ).toBe(415);
  });
});

describe("JSON bodies", () => {
  it("refuses a __proto__ key, even escaped, but allows constructor", () => {
    expect(thrown(() => parseJson('{"__proto__": {"x": 1}}')).detail).toMatch(/__proto__/);
    expect(thrown(() => parseJson('{"a": {"\\u005f_proto__": 1}}')).detail).toMatch(/__proto__/);
    expect(parseJson('{"constructor": {"prototype": 1}}')).toEqual({ constructor: { prototype: 1 } });
    expect(parseJson('"__proto__"')).toBe("__proto__");
  });

  it(`accepts nesting up to ${MAX_DEPTH} levels and refuses deeper with a 400`, () => {
    const nested = (n: number) => "[".repeat(n) + "]".repeat(n);
    expect(() => parseJson(nested(MAX_DEPTH))).not.toThrow();
    const error = thrown(() => parseJson(nested(MAX_DEPTH + 1)));
    expect(error.status).toBe(400);
    expect(error.detail).toMatch(/deeper/);
    expect(parseJson(`["${"[{".repeat(5000)}"]`)).toHaveLength(1);
    expect(parseJson(`["\\\\", ${nested(10)}]`)).toHaveLength(2);
  });

  it("says what is wrong with invalid JSON", () => {
    const error = thrown(() => parseJson('{"by": ', "the event data"));
    expect(error.status).toBe(400);
    expect(error.detail).toMatch(/^the event data is not valid JSON/);
  });
});
