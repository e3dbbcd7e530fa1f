import fc from "fast-check";
import { JSON_FORMAT_MEMBERS } from "../../src/cloudevents/event.js";

/**
 * The fast-check arbitraries the ingress fuzzing draws from: attribute names and values, mostly
 * valid events with random changes, binary-mode headers, content types and bodies.
 */

const attributeName = fc.oneof(
  fc.constantFrom(...JSON_FORMAT_MEMBERS, "traceparent", "__proto__", "constructor", "prototype"),
  fc.stringMatching(/^[a-z0-9]{1,24}$/),
  fc.string({ maxLength: 24, unit: "binary" }),
);

const attributeValue = fc.oneof(
  fc.constantFrom(
    "1.0",
    "com.example.counter.increment",
    "com.example.echo.say",
    "com.example.cart.addItem",
    "com.example.quiet.ignore",
    "application/json",
    "text/plain",
    "2024-02-29T23:59:60.123456789+14:00",
    "https://example.com/schema",
    "/fuzz",
    "",
  ),
  fc.string({ maxLength: 40, unit: "binary" }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Mostly a valid event, with random attributes added, replaced or removed. */
export const mutatedEvent = fc
  .tuple(
    fc.record({
      specversion: fc.oneof({ weight: 8, arbitrary: fc.constant("1.0") }, fc.constantFrom("0.3", "", "1")),
      id: fc.string({ minLength: 1, maxLength: 30 }),
      source: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom("/fuzz", "urn:fuzz", "https://x.example/a?b#c") },
        fc.constantFrom("bad source", ""),
      ),
      type: fc.constantFrom(
        "com.example.counter.increment",
        "com.example.counter.increment",
        "com.example.echo.say",
        "com.example.cart.addItem",
        "com.example.profile.rename",
        "com.example.quiet.ignore",
        "com.example.nothing",
      ),
      subject: fc.oneof(
        { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,12}$/) },
        { weight: 1, arbitrary: fc.string({ maxLength: 20, unit: "grapheme" }) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      ),
      data: fc.oneof(
        { weight: 3, arbitrary: fc.record({ by: fc.integer({ min: -1000, max: 1000 }) }) },
        { weight: 1, arbitrary: fc.record({ sku: fc.string(), name: fc.string(), quantity: fc.integer() }) },
        { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
        { weight: 2, arbitrary: fc.constant(undefined) },
      ),
    }),
    fc.oneof(
      { weight: 3, arbitrary: fc.constant({}) },
      { weight: 2, arbitrary: fc.dictionary(attributeName, attributeValue, { maxKeys: 4 }) },
    ),
    fc.oneof(
      { weight: 4, arbitrary: fc.constant([]) },
      {
        weight: 1,
        arbitrary: fc.array(fc.constantFrom("specversion", "id", "source", "type", "subject"), {
          maxLength: 2,
        }),
      },
    ),
  )
  .map(([base, extra, removed]) => {
    const event: Record<string, unknown> = { ...base, ...extra };
    for (const name of removed) delete event[name];
    for (const key of Object.keys(event)) if (event[key] === undefined) delete event[key];
    return event;
  });

/** Header names Node accepts (RFC 9110 tokens) and values it accepts (no CR, LF, NUL or other controls). */
export const headerName = fc.oneof(
  fc.constantFrom(
    "ce-specversion",
    "ce-id",
    "ce-source",
    "ce-type",
    "ce-subject",
    "ce-time",
    "ce-dataschema",
  ),
  fc.stringMatching(/^ce-[A-Za-z0-9!#$&'*+.^_`|~-]{1,20}$/),
  fc.constantFrom("content-type", "content-encoding", "idempotency-key", "if-match", "prefer", "traceparent"),
);
export const headerValue = fc.oneof(
  fc.constantFrom(
    "1.0",
    "com.example.counter.increment",
    "com.example.echo.say",
    "/fuzz",
    "application/json",
  ),
  fc.stringMatching(/^[\t\x20-\x7e]{0,40}$/),
  fc
    .uint8Array({ maxLength: 40 })
    .map((bytes) => Buffer.from(bytes.map((b) => (b < 0x20 || b === 0x7f ? 0x41 : b))).toString("latin1")),
  fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom("%", "%%", "%C0%A0", "%ED%A0%80", '"quoted"', '"', "%F0%9F%98%80"),
);

export const contentType = fc.constantFrom(
  "application/cloudevents+json",
  "application/cloudevents-batch+json",
  "application/cloudevents+json; charset=utf-16",
  "application/cloudevents+xml",
  "application/json",
  "text/plain",
  "application/octet-stream",
  "multipart/form-data; boundary=x",
  "",
  ";;;",
);

export const body = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.string({ maxLength: 200, unit: "binary" }).map((s) => Buffer.from(s)),
  mutatedEvent.map((e) => Buffer.from(JSON.stringify(e))),
  fc.array(mutatedEvent, { maxLength: 4 }).map((e) => Buffer.from(JSON.stringify(e))),
);
