import { describe, expect, it } from "vitest";
import { testEntity } from "knstate/testkit";
import order, { PAYMENT_WINDOW_MS } from "./index.js";

const item = { sku: "book", quantity: 1, amount: 1200 };

describe("order saga", () => {
  it("completes when paid in time, and the timeout never fires", () => {
    const o = testEntity(order, "o1");
    o.run("place", item);
    expect(o.timers.map((t) => t.name)).toEqual(["payment"]);
    o.advanceTime(PAYMENT_WINDOW_MS - 1);
    expect(o.run("pay", { amount: 1200 }).events).toEqual([{ type: "paid", data: { amount: 1200 } }]);
    expect(o.timers).toEqual([]);
    expect(o.advanceTime(PAYMENT_WINDOW_MS)).toEqual([]);
    expect(o.state.status).toBe("paid");
  });

  it("releases the stock and cancels when the payment does not arrive in time", () => {
    const o = testEntity(order);
    o.run("place", item);
    const [fired] = o.advanceTime(PAYMENT_WINDOW_MS);
    expect(fired?.timer).toBe("payment");
    expect(fired?.events.map((e) => e.type)).toEqual(["stock-released", "cancelled"]);
    expect(o.state).toMatchObject({ status: "cancelled", reason: "payment not received in time" });
    expect(o.run("pay", { amount: 1200 }).rejected).toMatch(/cancelled/);
  });

  it("a rejected placement starts no timer; a caller cannot end the window", () => {
    const o = testEntity(order);
    o.run("place", item);
    expect(o.run("place", item).rejected).toMatch(/reserved/);
    expect(o.timers).toHaveLength(1);
    expect(o.run("paymentTimeout").rejected).toMatch(/own timer/);
  });
});
