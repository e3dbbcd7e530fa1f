import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAction, defineEntity } from "knstate";
import { testAction, testEntity } from "knstate/testkit";
import counter from "../../functions/counter/index.js";
import echo from "../../functions/echo/index.js";
import cart from "../../functions/shopping-cart/index.js";
import { profile, tally } from "./entity-api-fixtures.js";

/** The testkit: testEntity and testAction run entities and actions like the host. */

describe("testEntity", () => {
  it("runs commands, folds events and replies like the host", () => {
    const kit = testEntity(tally, "t-1");
    expect(kit.run("add", { amount: 2 })).toMatchObject({
      events: [{ type: "added", data: { amount: 2 } }],
      reply: { total: 2 },
      version: 1,
      rejected: undefined,
      invalid: undefined,
    });
    const emitted = kit.run("add", { amount: 3, note: "hi" });
    expect(emitted.events).toHaveLength(2);
    expect(emitted.reply).toEqual({ total: 5, notes: 1 });
    expect(kit.run("total").reply).toBe(5);
    expect(kit.version).toBe(3);
    expect(kit.state).toEqual({ total: 5, notes: ["hi"] });
    expect(kit.events.map((e) => e.type)).toEqual(["added", "added", "noted"]);
  });

  it("reports rejections and invalid input without storing anything", () => {
    const kit = testEntity(tally);
    const rejected = kit.run("add", { amount: 0 });
    expect(rejected.rejected).toBe("amount must not be 0");
    expect(rejected.events).toEqual([]);
    // @ts-expect-error an unknown key: the strict schema refuses it
    expect(kit.run("add", { amount: 1, extra: true }).invalid).toMatch(/extra|Unrecognized/i);
    expect(kit.version).toBe(0);
  });

  it("seeds history with given()", () => {
    const kit = testEntity(counter, "c").given(
      { type: "changed", data: { by: 5 } },
      { type: "reset", data: {} },
    );
    expect(kit.version).toBe(2);
    expect(kit.state).toEqual({ value: 0 });
    expect(kit.run("increment", { by: 2 }).reply).toEqual({ value: 2 });
  });

  it("runs the shopping cart through a whole purchase", () => {
    const kit = testEntity(cart, "cart-1");
    kit.run("addItem", { sku: "apple", name: "Apple", quantity: 2 });
    kit.run("addItem", { sku: "apple", name: "Apple", quantity: 1 });
    expect(kit.run("removeItem", { sku: "pear" }).rejected).toMatch(/not in the cart/);
    expect(kit.run("checkout").reply).toEqual({
      items: [{ sku: "apple", name: "Apple", quantity: 3 }],
      checkedOut: true,
    });
    expect(kit.run("addItem", { sku: "pear", name: "Pear", quantity: 1 }).rejected).toMatch(/checked out/);
  });

  it("stores value entities' whole state, one version per update", () => {
    const kit = testEntity(profile, "p");
    expect(kit.run("rename", { name: "Ada" })).toMatchObject({ reply: { ok: true }, version: 1 });
    expect(kit.run("replace", { name: "Grace" })).toMatchObject({ reply: { current: "Grace" }, version: 2 });
    expect(kit.run("get")).toMatchObject({ reply: { name: "Grace" }, version: 2, events: [] });
    expect(kit.run("rename", { name: "Grace" }).rejected).toMatch(/already/);
    expect(kit.state).toEqual({ name: "Grace" });
  });

  it("catches a command handler that mutates the state in place", () => {
    const mutating = defineEntity({
      name: "mutating",
      typePrefix: "com.example",
      initialState: () => ({ items: [] as string[] }),
      commands: {
        add: (state: { items: string[] }, cmd: { item: string }) => {
          state.items.push(cmd.item);
          return [{ type: "added" as const, data: cmd }];
        },
      },
      events: { added: (s: { items: string[] }, e: { item: string }) => ({ items: [...s.items, e.item] }) },
    });
    expect(() => testEntity(mutating).run("add", { item: "x" })).toThrow(TypeError);
  });

  it("catches an event handler that mutates the state in place", () => {
    const mutating = defineEntity({
      name: "mutating",
      typePrefix: "com.example",
      initialState: () => ({ count: 0 }),
      commands: { bump: () => [{ type: "bumped" as const, data: {} }] },
      events: {
        bumped: (s: { count: number }) => {
          s.count++;
          return s;
        },
      },
    });
    expect(() => testEntity(mutating).run("bump")).toThrow(TypeError);
  });

  it("catches event handlers that replay differently from how they ran", () => {
    let calls = 0;
    const flaky = defineEntity({
      name: "flaky",
      typePrefix: "com.example",
      initialState: () => ({ seen: 0 }),
      commands: { tick: () => [{ type: "ticked" as const, data: {} }] },
      events: { ticked: () => ({ seen: ++calls }) },
    });
    const kit = testEntity(flaky);
    expect(() => kit.run("tick")).toThrow(/replaying the stored events of flaky\/test-entity/);
  });

  it("catches event data that does not survive JSON, as a store would keep it", () => {
    const dated = defineEntity({
      name: "dated",
      typePrefix: "com.example",
      initialState: () => ({ at: "" }),
      commands: {
        stamp: () => [{ type: "stamped" as const, data: { at: new Date(0) } }],
      },
      events: {
        stamped: (_s: { at: string }, e: { at: Date }) => ({
          at: typeof e.at === "string" ? "string" : "date",
        }),
      },
    });
    expect(() => testEntity(dated).run("stamp")).toThrow(/JSON-serializable/);
  });
});

describe("testAction", () => {
  it("runs an action's handler and returns its reply", async () => {
    expect(await testAction(echo).run("say", { hi: 1 })).toEqual({ hi: 1 });
    expect(await testAction(echo).run("say")).toEqual({});
  });

  it("validates input with the handler's schema", async () => {
    const shout = defineAction({
      name: "shout",
      typePrefix: "com.example",
      handlers: {
        loud: {
          input: z.object({ text: z.string() }),
          handle: (d: { text: string }) => d.text.toUpperCase(),
        },
      },
    });
    expect(await testAction(shout).run("loud", { text: "hi" })).toBe("HI");
    await expect(testAction(shout).run("loud", { text: 1 })).rejects.toThrow(/text/);
  });
});
