import { describe, expect, it } from "vitest";
import { SLOT_COUNT, keySlot, slotTag, slotTagOf } from "../../src/store/slot-tags.js";

describe("slot tags", () => {
  it("gives every slot a tag whose keys land in it", () => {
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const tag = slotTag(slot);
      expect(keySlot(`knstate:svc:_outbox:{${tag}}`), `slot ${slot}`).toBe(slot);
    }
  });

  it("matches Redis's documented slots for known keys", () => {
    // CLUSTER KEYSLOT foo = 12182, bar = 5061 (redis.io, CLUSTER KEYSLOT).
    expect(keySlot("foo")).toBe(12182);
    expect(keySlot("{foo}:anything")).toBe(12182);
    expect(keySlot("bar")).toBe(5061);
  });

  it("puts a per-slot key beside the entity it serves", () => {
    const entityKey = "knstate:svc:cart:{c-42}:m";
    expect(keySlot(`knstate:svc:_outbox:{${slotTagOf(entityKey)}}`)).toBe(keySlot(entityKey));
  });

  it("refuses what is not a slot", () => {
    expect(() => slotTag(SLOT_COUNT)).toThrow(RangeError);
    expect(() => slotTag(-1)).toThrow(RangeError);
    expect(() => slotTag(1.5)).toThrow(RangeError);
  });
});
