import { describe, expect, expectTypeOf, it } from "vitest";
import { defineEntity, type EventOf, type EventSourcedEntity, type ValueEntity } from "knstate";
import { testEntity, type ActionTestKit, type CommandInput } from "knstate/testkit";
import echo from "../../functions/echo/index.js";
import { profile, tally, type Tally } from "./entity-api-fixtures.js";

/** The authoring API's types, pinned with expectTypeOf. */

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
