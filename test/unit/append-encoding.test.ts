import { describe, expect, it } from "vitest";
import {
  decodeAppend,
  decodeEvent,
  decodeRecord,
  dedupField,
  encodeAppend,
  encodeEvent,
  encodeRecord,
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

  it("refuses a list whose counts do not match its length", () => {
    const args = encodeAppend(request);
    expect(() => decodeAppend([...args, "0"])).toThrow(/wrong number of arguments/);
    // The last section's count missing.
    expect(() => decodeAppend(args.slice(0, -1))).toThrow(/bad counts/);
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
});
