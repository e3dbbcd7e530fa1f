import { describe, expect, it } from "vitest";
import { testEntity } from "knstate/testkit";
import cart from "./index.js";

const apple = { sku: "apple", name: "Apple", quantity: 2 };
const pear = { sku: "pear", name: "Pear", quantity: 1 };

describe("shopping cart", () => {
  it("adds line items and merges quantities of the same sku", () => {
    const c = testEntity(cart, "cart-1");
    c.run("addItem", apple);
    c.run("addItem", pear);
    const run = c.run("addItem", { ...apple, quantity: 3 });
    expect(run.reply).toEqual({
      items: [
        { sku: "apple", name: "Apple", quantity: 5 },
        { sku: "pear", name: "Pear", quantity: 1 },
      ],
      checkedOut: false,
    });
    expect(c.version).toBe(3);
  });

  it("rejects a non-positive quantity", () => {
    const c = testEntity(cart);
    expect(c.run("addItem", { ...apple, quantity: 0 }).rejected).toMatch(/quantity must be positive/);
    expect(c.run("addItem", { ...apple, quantity: -1 }).rejected).toMatch(/quantity must be positive/);
    expect(c.version).toBe(0);
  });

  it("refuses malformed line items before the handler runs", () => {
    const c = testEntity(cart);
    expect(c.run("addItem", { sku: "a" } as never).invalid).toMatch(/name/);
    expect(c.run("addItem", { ...apple, sku: "__proto__!" }).invalid).toMatch(/sku/);
    expect(c.run("addItem", { ...apple, extra: 1 } as never).invalid).toBeDefined();
  });

  it("removes an item, and rejects removing one that is not in the cart", () => {
    const c = testEntity(cart).given({ type: "item-added", data: apple });
    expect(c.run("removeItem", { sku: "pear" }).rejected).toMatch(/not in the cart/);
    expect(c.run("removeItem", { sku: "apple" }).reply).toEqual({ items: [], checkedOut: false });
  });

  it("checks out once and then refuses every change", () => {
    const c = testEntity(cart).given({ type: "item-added", data: apple });
    expect(c.run("checkout").reply).toEqual({ items: [apple], checkedOut: true });
    expect(c.run("checkout").rejected).toMatch(/already checked out/);
    expect(c.run("addItem", pear).rejected).toMatch(/checked out/);
    expect(c.run("removeItem", { sku: "apple" }).rejected).toMatch(/checked out/);
    expect(c.run("getCart").reply).toEqual({ items: [apple], checkedOut: true });
  });

  it("refuses to check out an empty cart", () => {
    expect(testEntity(cart).run("checkout").rejected).toMatch(/empty cart/);
  });
});

describe("cart expiry", () => {
  it("clears a cart left untouched, and every change pushes the expiry back", async () => {
    const { EXPIRE_AFTER_MS } = await import("./index.js");
    const c = testEntity(cart, "expiring");
    c.run("addItem", { sku: "apple", name: "Apple", quantity: 1 });
    c.advanceTime(EXPIRE_AFTER_MS - 1);
    c.run("addItem", { sku: "pear", name: "Pear", quantity: 2 });
    expect(c.advanceTime(EXPIRE_AFTER_MS - 1)).toEqual([]);
    expect(Object.keys(c.state.items)).toEqual(["apple", "pear"]);
    const fired = c.advanceTime(1);
    expect(fired.map((f) => f.events)).toEqual([[{ type: "cart-expired", data: {} }]]);
    expect(c.state.items).toEqual({});
  });

  it("a checked-out cart does not expire, and only its timer can expire a cart", () => {
    const c = testEntity(cart);
    c.run("addItem", { sku: "apple", name: "Apple", quantity: 1 });
    c.run("checkout");
    expect(c.timers).toEqual([]);
    expect(c.run("expire").rejected).toMatch(/own timer/);
  });
});
