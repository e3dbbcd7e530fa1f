import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { cancel, defineEntity, emit, schedule, type ScheduleTimer } from "knstate";
import { testEntity } from "knstate/testkit";

/**
 * `schedule`'s `command` and `data` are checked by the compiler against the entity's own
 * commands: a misspelled command or data of the wrong shape does not compile (`npm run lint`
 * runs tsc over this file, and an `@ts-expect-error` that no longer fails is itself an error).
 */

type S = { readonly rings: readonly number[] };
const initialState = (): S => ({ rings: [] });
const events = { rang: (s: S, e: { n: number }): S => ({ rings: [...s.rings, e.n] }) };
type Ring = { n: number };

describe("schedule's command and data are typed by the entity's commands", () => {
  it("compiles a timer of an existing command with that command's input, and runs it", () => {
    const alarm = defineEntity({
      name: "alarm",
      typePrefix: "com.example",
      initialState,
      events,
      commands: {
        set: (_s: S, d: { n: number }) =>
          emit([], undefined, {
            timers: [
              schedule({ name: "ring", after: 1000, command: "ring", data: { n: d.n } }),
              schedule({ name: "snooze", after: 2000, command: "snooze" }), // no input: data optional
              cancel("old"),
            ],
          }),
        ring: (_s: S, d: Ring) => [{ type: "rang", data: { n: d.n } }],
        snooze: () => [],
        validated: {
          input: z.object({ n: z.number() }),
          handle: (_s: S, d: Ring) =>
            emit([], undefined, { timers: [schedule({ name: "v", after: 0, command: "ring", data: d })] }),
        },
      },
    });
    expectTypeOf(schedule({ name: "t", after: 0, command: "ring", data: { n: 1 } })).toEqualTypeOf<
      ScheduleTimer<"ring", { n: number }>
    >();
    const kit = testEntity(alarm, "a1");
    kit.run("set", { n: 7 });
    const fired = kit.advanceTime(1000);
    expect(fired.flatMap((f) => f.events.map((e) => e.data))).toEqual([{ n: 7 }]);
  });

  it("refuses a misspelled command, wrong data and missing data at compile time", () => {
    const wrong = [
      defineEntity({
        name: "misspelled",
        typePrefix: "com.example",
        initialState,
        events,
        commands: {
          // @ts-expect-error -- "rnig" is not a command of this entity
          set: (_s: S) =>
            emit([], undefined, { timers: [schedule({ name: "t", after: 0, command: "rnig" })] }),
          ring: (_s: S, d: Ring) => [{ type: "rang", data: { n: d.n } }],
        },
      }),
      defineEntity({
        name: "wrongdata",
        typePrefix: "com.example",
        initialState,
        events,
        commands: {
          // @ts-expect-error -- ring takes { n: number }, not a string
          set: (_s: S) =>
            emit([], undefined, {
              timers: [schedule({ name: "t", after: 0, command: "ring", data: { n: "1" } })],
            }),
          ring: (_s: S, d: Ring) => [{ type: "rang", data: { n: d.n } }],
        },
      }),
      defineEntity({
        name: "nodata",
        typePrefix: "com.example",
        initialState,
        events,
        commands: {
          // @ts-expect-error -- ring needs its { n } data
          set: (_s: S) =>
            emit([], undefined, { timers: [schedule({ name: "t", after: 0, command: "ring" })] }),
          ring: (_s: S, d: Ring) => [{ type: "rang", data: { n: d.n } }],
        },
      }),
      defineEntity({
        name: "schemadata",
        typePrefix: "com.example",
        initialState,
        events,
        commands: {
          // @ts-expect-error -- the schema of ring makes n a number
          set: (_s: S) =>
            emit([], undefined, {
              timers: [schedule({ name: "t", after: 0, command: "ring", data: { n: true } })],
            }),
          ring: {
            input: z.object({ n: z.number() }),
            handle: (_s: S, d: Ring) => [{ type: "rang", data: d }],
          },
        },
      }),
    ];
    // The definitions still exist at run time: the host refuses what the compiler was told to allow.
    expect(wrong.map((e) => e.name)).toEqual(["misspelled", "wrongdata", "nodata", "schemadata"]);
  });
});
