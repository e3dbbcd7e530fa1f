import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeDedupId,
  encodeEntityId,
  encodeSegment,
  KeyLayout,
  MAX_ENCODED_ID,
} from "../../src/store/redis-keys.js";

/** What Redis hashes for the slot: the first `{…}` with something inside, else the whole key. */
function hashTag(key: string): string {
  const open = key.indexOf("{");
  const close = open < 0 ? -1 : key.indexOf("}", open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

const layout = new KeyLayout("ks", "svc");
const anyId = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: fc.constantFrom("a", ":", "{", "}", "%", "#", "-", "u", "\ud800"), maxLength: 30 }),
  fc.string({ unit: fc.constantFrom("a", "%", "{"), minLength: 60, maxLength: 400 }),
);

describe("Redis key layout", () => {
  it("encodes distinct entity ids to distinct tags", () => {
    fc.assert(
      fc.property(anyId, anyId, (a, b) => {
        fc.pre(a !== b);
        expect(encodeEntityId(a)).not.toBe(encodeEntityId(b));
      }),
      { numRuns: 2000 },
    );
  });

  it("never puts a brace, a colon or a percent sign out of an escape into the tag", () => {
    fc.assert(
      fc.property(anyId, (id) => {
        const encoded = encodeEntityId(id);
        expect(encoded).not.toMatch(/[{}:]/);
        expect(encoded.length).toBeLessThanOrEqual(Math.max(MAX_ENCODED_ID, 65));
        expect(encoded.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it("gives every key of one entity the same hash tag, and only its own", () => {
    fc.assert(
      fc.property(anyId, anyId, fc.string({ unit: "binary", maxLength: 300 }), (a, b, dedup) => {
        const ka = layout.entity({ entityType: "counter", entityId: a });
        const tag = hashTag(ka.meta);
        expect(hashTag(ka.events)).toBe(tag);
        expect(hashTag(ka.dedup(dedup))).toBe(tag);
        if (a !== b)
          expect(hashTag(layout.entity({ entityType: "counter", entityId: b }).meta)).not.toBe(tag);
      }),
      { numRuns: 1000 },
    );
  });

  it("keeps readable ids readable", () => {
    expect(layout.entity({ entityType: "counter", entityId: "c-1.x_y~z" }).meta).toBe(
      "ks:svc:counter:{c-1.x_y~z}:m",
    );
    expect(encodeEntityId("a}b")).toBe("a%7Db");
    expect(encodeEntityId("{x}")).toBe("%7Bx%7D");
    expect(encodeEntityId("é")).toBe("%C3%A9");
    expect(encodeEntityId("\ud800")).toBe("%uD800");
    expect(encodeEntityId("")).toBe("%-");
  });

  it("hashes ids too long for a key to a fixed length", () => {
    const long = "x".repeat(10_240);
    expect(encodeEntityId(long)).toMatch(/^#[0-9a-f]{64}$/);
    expect(encodeEntityId(long)).not.toBe(encodeEntityId(long + "y"));
    expect(encodeDedupId("d".repeat(5000))).toMatch(/^h:[0-9a-f]{64}$/);
    expect(encodeDedupId("src\u0000id")).toBe("r:src\u0000id");
    expect(encodeDedupId("\ud800")).not.toBe(encodeDedupId("\udc00"));
  });

  it("separates services and entity types that contain separators", () => {
    const a = new KeyLayout("ks", "a:b").entity({ entityType: "c", entityId: "1" }).meta;
    const b = new KeyLayout("ks", "a").entity({ entityType: "b:c", entityId: "1" }).meta;
    expect(a).not.toBe(b);
    expect(encodeSegment("a:b")).toBe("a%3Ab");
  });

  it("refuses a key prefix with a brace, which would move the hash tag", () => {
    expect(() => new KeyLayout("ks{x}", "svc")).toThrow(/KNSTATE_KEY_PREFIX/);
  });
});
