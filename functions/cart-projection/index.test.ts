import { describe, expect, it } from "vitest";
import { testEntity } from "knstate/testkit";
import projection from "./index.js";

describe("cart-projection", () => {
  it("adds up the units added to carts", () => {
    const sku = testEntity(projection, "sku:s1");
    sku.run("countAdded", { sku: "s1", quantity: 2 });
    expect(sku.run("countAdded", { sku: "s1", quantity: 3 }).reply).toEqual({ added: 5, checkouts: 0 });
  });

  it("counts checkouts", () => {
    const day = testEntity(projection, "day:2026-03-01");
    day.run("countCheckout");
    expect(day.run("countCheckout").reply).toEqual({ added: 0, checkouts: 2 });
  });

  it("subscribes to the cart's published events, the id from the SKU or the day", () => {
    const subscribe = projection.subscribe!;
    const added = subscribe["com.example.cart.item-added"] as {
      command: string;
      id: (e: unknown) => unknown;
    };
    expect(added.command).toBe("countAdded");
    const event = { id: "cart/c1/1", source: "/shop/cart", type: "t", extensions: {} };
    expect(added.id({ ...event, data: { sku: "s1" } })).toBe("sku:s1");
    expect(added.id({ ...event, data: {} })).toBeUndefined();
    const out = subscribe["com.example.cart.checked-out"] as { id: (e: unknown) => unknown };
    expect(out.id({ ...event, time: "2026-03-01T23:59:00Z", data: {} })).toBe("day:2026-03-01");
  });
});
