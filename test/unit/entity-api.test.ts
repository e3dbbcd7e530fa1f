import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  defineAction,
  defineEntity,
  defineValueEntity,
  emit,
  reject,
  reply,
  update,
  type EventOf,
  type EventSourcedEntity,
  type ValueEntity,
} from "knstate";
import { testAction, testEntity, type ActionTestKit, type CommandInput } from "knstate/testkit";
import counter from "../../functions/counter/index.js";
import echo from "../../functions/echo/index.js";
import cart from "../../functions/shopping-cart/index.js";

interface Tally {
  readonly total: number;
  readonly notes: readonly string[];
}

const tally = defineEntity({
  name: "tally",
  typePrefix: "com.example",
  initialState: (): Tally => ({ total: 0, notes: [] }),
  commands: {
    add: {
      input: z.strictObject({ amount: z.number().int(), note: z.string().optional() }),
      handle: (state, cmd) => {
        expectTypeOf(cmd).toEqualTypeOf<{ amount: number; note?: string | undefined }>();
        expectTypeOf(state).toEqualTypeOf<Tally>();
        if (cmd.amount === 0) return reject("amount must not be 0", { amount: cmd.amount });
        return cmd.note === undefined
          ? [{ type: "added", data: { amount: cmd.amount } }]
          : emit(
              [
                { type: "added", data: { amount: cmd.amount } },
                { type: "noted", data: { note: cmd.note } },
              ],
              (after: Tally) => ({ total: after.total, notes: after.notes.length }),
            );
      },
    },
    annotate: (_state: Tally, cmd: { note: string }) => [
      { type: "noted" as const, data: { note: cmd.note } },
    ],
    total: (state) => reply(state.total),
  },
  events: {
    added: (state: Tally, e: { amount: number }): Tally => ({ ...state, total: state.total + e.amount }),
    noted: (state: Tally, e: { note: string }): Tally => ({ ...state, notes: [...state.notes, e.note] }),
  },
  reply: (state) => ({ total: state.total }),
});

describe("the authoring API's types", () => {
  it("infers the event union from the event handlers", () => {
    type Events = EventOf<typeof tally.events>;
    expectTypeOf<Events>().toEqualTypeOf<
      | { readonly type: "added"; readonly data: { amount: number } }
      | { readonly type: "noted"; readonly data: { note: string } }
    >();
    expectTypeOf(tally).toExtend<EventSourcedEntity<Tally>>();
    expectTypeOf(tally.kind).toEqualTypeOf<"event-sourced">();
  });

  it("infers each command's input from its schema or its parameter", () => {
    type Commands = typeof tally.commands;
    expectTypeOf<CommandInput<Commands["add"]>>().toEqualTypeOf<{
      amount: number;
      note?: string | undefined;
    }>();
    expectTypeOf<CommandInput<Commands["annotate"]>>().toEqualTypeOf<{ note: string }>();
    const kit = testEntity(tally);
    kit.run("add", { amount: 1 });
    // @ts-expect-error the schema says amount is a number
    expect(kit.run("add", { amount: "1" }).invalid).toMatch(/amount/);
    // @ts-expect-error tally has no such command
    expect(() => kit.run("subtract", { amount: 1 })).toThrow(/unknown command/);
  });

  it("checks the type and data of emitted events", () => {
    defineEntity({
      name: "typed",
      typePrefix: "com.example",
      initialState: () => ({ n: 0 }),
      commands: {
        // @ts-expect-error "removed" is not one of the entity's events
        bad: () => [{ type: "removed", data: { by: 1 } }],
        // @ts-expect-error the data of "changed" is { by: number }
        wrongData: () => [{ type: "changed", data: { by: "one" } }],
        good: () => [{ type: "changed", data: { by: 1 } }],
      },
      events: { changed: (s: { n: number }, e: { by: number }) => ({ n: s.n + e.by }) },
    });
    expect(true).toBe(true);
  });

  it("types value entities and actions", () => {
    expectTypeOf(profile).toExtend<ValueEntity<{ name: string }>>();
    expectTypeOf(profile.kind).toEqualTypeOf<"value">();
    expectTypeOf(echo.kind).toEqualTypeOf<"action">();
    expectTypeOf<Parameters<ActionTestKit<typeof echo.handlers>["run"]>[0]>().toEqualTypeOf<"say">();
  });
});

const profile = defineValueEntity({
  name: "profile",
  typePrefix: "com.example",
  initialState: () => ({ name: "" }),
  commands: {
    rename: (p: { name: string }, cmd: { name: string }) =>
      cmd.name === p.name
        ? reject("that is already the name")
        : update({ ...p, name: cmd.name }, { ok: true }),
    replace: (_p: { name: string }, cmd: { name: string }) => ({ name: cmd.name }),
    get: (p: { name: string }) => reply(p),
  },
  reply: (p) => ({ current: p.name }),
});

describe("definitions", () => {
  const base = { typePrefix: "com.example", initialState: () => ({}), events: {}, commands: {} };

  it.each(["Counter", "1counter", "my_entity", "", "a".repeat(64), "café"])(
    "refuses the entity name %j",
    (name) => {
      expect(() => defineEntity({ ...base, name })).toThrow(new RegExp(`entity name "${name}"`));
      expect(() => defineValueEntity({ ...base, name })).toThrow(TypeError);
      expect(() => defineAction({ name, typePrefix: "com.example", handlers: {} })).toThrow(/action name/);
    },
  );

  it.each(["", ".com", "com..example", "com example", "com.example."])(
    "refuses the type prefix %j",
    (typePrefix) => {
      expect(() => defineEntity({ ...base, name: "ok", typePrefix })).toThrow(/typePrefix/);
    },
  );

  it.each(["", "1st", "with space", "dotted.name", "a".repeat(64)])(
    "refuses the command name %j",
    (command) => {
      expect(() => defineEntity({ ...base, name: "ok", commands: { [command]: (): never[] => [] } })).toThrow(
        /command name/,
      );
      expect(() =>
        defineAction({ name: "ok", typePrefix: "com.example", handlers: { [command]: () => 1 } }),
      ).toThrow(/command name/);
    },
  );

  it.each([0, -1, 1.5, Number.NaN])("refuses snapshotEvery %d", (snapshotEvery) => {
    expect(() => defineEntity({ ...base, name: "ok", snapshotEvery })).toThrow(/snapshotEvery/);
  });

  it("returns frozen definitions with the defaults filled in", () => {
    const entity = defineEntity({ ...base, name: "ok-1", commands: { do_it: () => [] } });
    expect(Object.isFrozen(entity)).toBe(true);
    expect(entity.snapshotEvery).toBe(100);
    expect(entity.reply).toBeUndefined();
    expect(
      Object.isFrozen(defineAction({ name: "act", typePrefix: "io.x-y", handlers: { go: () => 1 } })),
    ).toBe(true);
  });
});

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
