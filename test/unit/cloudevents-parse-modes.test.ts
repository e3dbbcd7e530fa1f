import { describe, expect, it } from "vitest";
import { modeOf, parseMessage, parseStructured } from "../../src/cloudevents/parse.js";
import { binaryHeaders, structuredBody, thrown } from "./cloudevents-parse-helpers.js";

/** Parsing CloudEvents messages in binary, structured and batch mode. */

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
