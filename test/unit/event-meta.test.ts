import { describe, expect, it } from "vitest";
import { eventMetaView } from "../../src/admin/event-meta-view.js";
import { decodeAppend, decodeEvent, encodeAppend, encodeEvent } from "../../src/store/append-encoding.js";
import { decodeMeta, encodeMeta, metaLength } from "../../src/store/event-meta.js";
import type { LoggedEvent } from "../../src/store/introspection.js";
import type { AppendRequest } from "../../src/store/state-store.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const UUID = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b";
const time = Date.UTC(2026, 11, 6, 8, 30, 0, 123);

describe("event metadata", () => {
  it("round-trips time, trace id, a UUID CloudEvent id and a source", () => {
    const meta = { time, traceId: TRACE, eventId: UUID, source: "/sensors/4,2:^~" };
    const text = encodeMeta(meta);
    expect(text.length).toBe(1 + 8 + 1 + 1 + 22 + 1 + 23 + 3 + 15);
    expect(encodeMeta({ time, traceId: TRACE }).length).toBe(1 + 8 + 1 + 1 + 22);
    expect(encodeMeta({ time })).toBe(`^${time.toString(36)},`);
    const stored = `${text}${encodeEvent({ type: "changed", data: { by: 1 } })}`;
    expect(decodeMeta(stored)).toEqual(meta);
    expect(metaLength(stored)).toBe(text.length);
    expect(decodeEvent(stored)).toEqual({ type: "changed", data: { by: 1 } });
  });

  it("keeps a CloudEvent id that is not a UUID as it is, and leaves out what is unknown", () => {
    for (const meta of [
      { time },
      { time, traceId: TRACE },
      { time, eventId: "id with , and :", source: "" },
      { time, eventId: "", source: "/s" },
    ]) {
      const stored = `${encodeMeta(meta)}2@1|t"x"`;
      const expected = Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== ""));
      expect(decodeMeta(stored)).toEqual(expected);
      expect(decodeEvent(stored)).toEqual({ type: "t", data: "x", schemaVersion: 2 });
    }
  });

  it("marks the further events of a command with one byte, and events without metadata with none", () => {
    expect(decodeMeta('~1|t"x"')).toBe("same");
    expect(metaLength('~1|t"x"')).toBe(1);
    expect(decodeMeta('1|t"x"')).toBeUndefined();
    expect(decodeEvent('~1|t"x"')).toEqual({ type: "t", data: "x" });
  });

  it("is encoded with the first event of each command in the append's events section", () => {
    const request: AppendRequest = {
      key: { entityType: "counter", entityId: "c1" },
      expectedVersion: 0,
      events: [1, 2, 3].map((by) => ({ type: "changed", data: { by } })),
      logEvents: true,
      checkDedup: [],
      writeDedup: [],
      dedupTtlMs: 1000,
      meta: [{ time, traceId: TRACE }, null, { time }],
    };
    const plan = decodeAppend(encodeAppend(request));
    expect(plan.events.map(decodeMeta)).toEqual([{ time, traceId: TRACE }, "same", { time }]);
    expect(plan.events.map(decodeEvent)).toEqual(request.events);
    const bare = decodeAppend(encodeAppend({ ...request, meta: undefined }));
    expect(bare.events).toEqual(request.events.map(encodeEvent));
  });

  it("shows a command's metadata on each of its events, and none across a gap", () => {
    const m = { time, traceId: TRACE, eventId: "e1", source: "/s" };
    const events: LoggedEvent[] = [
      { version: 4, type: "a", data: 1, meta: m },
      { version: 5, type: "a", data: 2, meta: "same" },
      { version: 6, type: "a", data: 3, meta: undefined },
      { version: 7, type: "a", data: 4, meta: "same" },
      { version: 9, type: "a", data: 5, meta: "same" },
    ];
    const view = eventMetaView(events);
    expect(view.map((e) => e.command)).toEqual([4, 4, null, null, null]);
    expect(view[1]).toEqual({
      version: 5,
      type: "a",
      data: 2,
      time: new Date(time).toISOString(),
      id: "e1",
      source: "/s",
      traceId: TRACE,
      command: 4,
    });
  });
});
