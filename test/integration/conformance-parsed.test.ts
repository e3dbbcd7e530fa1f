import { describe, expect, it } from "vitest";
import { parseMessage, parseStructured } from "../../src/cloudevents/parse.js";
import {
  blamed,
  expectHostError,
  invalidBatches,
  invalidEvents,
  notInBinary,
  rawHeadersOf,
  toBinaryMessage,
  validBatches,
  validEvents,
  type Json,
} from "./conformance-events.js";

/**
 * The CloudEvents project's JSON-format conformance events (cloudevents/conformance,
 * format/json), parsed without a server: every valid event and batch parses, every invalid one
 * is refused with a 400, in structured and batch mode and, where the attributes can be carried
 * as headers, in binary mode.
 */

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
