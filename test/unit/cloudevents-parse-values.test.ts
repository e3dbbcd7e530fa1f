import { describe, expect, it } from "vitest";
import { checkMediaType, checkTime } from "../../src/cloudevents/attributes.js";
import { decodeHeaderValue, encodeHeaderValue } from "../../src/cloudevents/header-value.js";
import { checkCharset, essence, isJsonMediaType, MAX_DEPTH, parseJson } from "../../src/cloudevents/json.js";
import { thrown } from "./cloudevents-parse-helpers.js";

/** Parsing CloudEvents values: header encodings, times, media types and JSON bodies. */

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
