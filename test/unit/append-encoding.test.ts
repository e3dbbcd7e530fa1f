import { describe, expect, it } from "vitest";
import {
  decodeAppend,
  decodeEvent,
  decodeRecord,
  decodeSnapshot,
  dedupField,
  encodeAppend,
  encodeEvent,
  encodeRecord,
  encodeSnapshot,
} from "../../src/store/append-encoding.js";
import type { AppendRequest } from "../../src/store/state-store.js";

const request: AppendRequest = {
  key: { entityType: "cart", entityId: "c1" },
  expectedVersion: 7,
  events: [
    { type: "added|item", data: { sku: "a|b", n: 2 } },
    { type: "", data: undefined },
  ],
  logEvents: true,
  snapshot: { version: 9, state: { items: ["a"] } },
  checkDedup: ["short", "/source\u0000" + "x".repeat(40)],
  writeDedup: [
    ["short", { version: 9, reply: { ok: true }, replyId: "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b" }],
  ],
  dedupTtlMs: 600_000,
};

describe("the append encoding", () => {
  it("decodes to the plan both stores commit", () => {
    const plan = decodeAppend(encodeAppend(request, 32));
    expect(plan).toMatchObject({ expectedVersion: 7, logEvents: true, dedupTtlMs: 600_000, spill: 32 });
    expect(plan.events.map(decodeEvent)).toEqual(request.events);
    expect(plan.snapshot).toEqual({ version: 9, state: '{"items":["a"]}' });
    expect(plan.check).toEqual(request.checkDedup.map(dedupField));
    expect(plan.write.map(([f, r]) => [f, decodeRecord(r, false)])).toEqual([
      [dedupField("short"), request.writeDedup[0]![1]],
    ]);
  });

  it("adds the entity to its type's index when asked (first append, or first after an erasure)", () => {
    const first = { ...request, expectedVersion: 0 };
    expect(decodeAppend(encodeAppend(first, 32, true)).index).toBe("c1");
    expect(decodeAppend(encodeAppend(first, 32, false)).index).toBeUndefined();
    expect(decodeAppend(encodeAppend(request, 32, true)).index).toBe("c1");
    expect(encodeAppend(first, 32, true).slice(-3, -1)).toEqual(["1", "c1"]);
    const odd = { ...first, key: { entityType: "cart", entityId: "a b\ud800" } };
    expect(decodeAppend(encodeAppend(odd, 32, true)).index).toBe("a%20b%uD800");
    expect(encodeAppend(first, 32).at(-2)).toBe("0");
  });

  it("refuses a list whose counts do not match its length", () => {
    const args = encodeAppend(request);
    expect(() => decodeAppend([...args, "0"])).toThrow(/wrong number of arguments/);
    // The last section's count missing.
    expect(() => decodeAppend(args.slice(0, -1))).toThrow(/wrong number of arguments/);
    expect(() => decodeAppend(["2", ...args.slice(1)])).toThrow(/unknown encoding/);
  });

  it("round-trips records with any reply id, and reads the former JSON records", () => {
    for (const replyId of [
      "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b",
      "r|1",
      "",
      "6F1C2A9E-3B4D-4E5F-8A7B-9C0D1E2F3A4B",
    ]) {
      const record = { version: 3, reply: undefined, replyId };
      expect(decodeRecord(encodeRecord(record), false)).toEqual(record);
      expect(decodeRecord(`18c0f00|${encodeRecord(record)}`, true)).toEqual(record);
    }
    expect(
      encodeRecord({ version: 1, reply: { value: 1 }, replyId: "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b" })
        .length,
    ).toBeLessThan(40);
    expect(decodeRecord('{"version":2,"reply":1,"replyId":"r"}', true)).toEqual({
      version: 2,
      reply: 1,
      replyId: "r",
    });
    expect(encodeEvent({ type: "t", data: 1 })).toBe("1|t1");
  });

  it("gives distinct, short fields to distinct dedup ids", () => {
    const ids = [
      "a",
      "%ud800",
      "\ud800",
      "\udc00",
      "x".repeat(32),
      "x".repeat(33),
      "é".repeat(17),
      "rx",
      "#x",
    ];
    const fields = ids.map(dedupField);
    expect(new Set(fields).size).toBe(ids.length);
    for (const f of fields) expect(Buffer.byteLength(f)).toBeLessThanOrEqual(33);
  });

  it("stores an event's schema version only above 1, and a snapshot's version and fingerprint", () => {
    expect(encodeEvent({ type: "t", data: 1, schemaVersion: 1 })).toBe("1|t1");
    const v2 = { type: "a@b|c", data: { x: "@|" }, schemaVersion: 2 };
    expect(encodeEvent(v2)).toBe('2@5|a@b|c{"x":"@|"}');
    expect(decodeEvent(encodeEvent(v2))).toEqual(v2);
    expect(decodeEvent("3|abc")).toEqual({ type: "abc", data: undefined });

    expect(encodeSnapshot({ version: 4, state: { value: 4 } })).toBe('{"value":4}');
    const fp = { version: 4, state: { value: 4 }, schemaVersion: 1, fingerprint: "abcdefghijk" };
    expect(encodeSnapshot(fp)).toBe('~|abcdefghijk|{"value":4}');
    expect(decodeSnapshot(encodeSnapshot(fp), 4)).toEqual(fp);
    const v3 = { version: 9, state: "~|x", schemaVersion: 3 };
    expect(decodeSnapshot(encodeSnapshot(v3), 9)).toEqual(v3);
    expect(decodeSnapshot('{"value":4}', 4)).toEqual({ version: 4, state: { value: 4 } });
    const args = encodeAppend({
      key: { entityType: "c", entityId: "1" },
      expectedVersion: 0,
      events: [v2],
      logEvents: true,
      snapshot: { version: 1, state: 1, schemaVersion: 2, fingerprint: "f" },
      checkDedup: [],
      writeDedup: [],
      dedupTtlMs: 1000,
    });
    const plan = decodeAppend(args);
    expect(decodeEvent(plan.events[0]!)).toEqual(v2);
    expect(decodeSnapshot(plan.snapshot!.state, plan.snapshot!.version)).toMatchObject({
      schemaVersion: 2,
      fingerprint: "f",
    });
  });
});
