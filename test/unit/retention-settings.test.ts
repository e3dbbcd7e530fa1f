import { describe, expect, it } from "vitest";
import { parseRetention, trimThrough } from "../../src/store/retention.js";

describe("KNSTATE_RETAIN_EVENTS", () => {
  it("keeps every event when unset", () => {
    expect(parseRetention(undefined)("cart")).toBeUndefined();
    expect(parseRetention([])("cart")).toBeUndefined();
  });

  it("gives each named kind its tail and the others the * default, if any", () => {
    const named = parseRetention(["cart=0", "order=100"]);
    expect([named("cart"), named("order"), named("counter")]).toEqual([0, 100, undefined]);
    const all = parseRetention(["*=5", "cart=0"]);
    expect([all("cart"), all("counter")]).toEqual([0, 5]);
  });

  it("lists every malformed item in one error naming the variable", () => {
    expect(() => parseRetention(["cart", "Order=1", "x=-1", "cart=2", "cart=3"])).toThrow(
      /KNSTATE_RETAIN_EVENTS: "cart" is not .*"Order=1" is not .*"x=-1" is not .*"cart" is named twice/,
    );
  });

  it("trims up to the snapshot minus the tail, never below version 1", () => {
    expect(trimThrough(100, 10)).toBe(90);
    expect(trimThrough(5, 10)).toBe(0);
    expect(trimThrough(100, undefined)).toBe(0);
  });
});
