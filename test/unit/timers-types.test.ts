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
/** What the definitions that must not compile share: all but their name and commands. */
const wrongBase = (name: string) => ({ name, typePrefix: "com.example", initialState, events });
const ringCommand = { ring: (_s: S, d: Ring) => [{ type: "rang" as const, data: { n: d.n } }] };
/** A timer firing `ring` with `data`, whatever its type. */
const timer = <D>(data: D) => schedule({ name: "t", after: 0, command: "ring", data });

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
    // Each definition differs from a valid one only in its `set` command.
    const wrong = [
      defineEntity({
        ...wrongBase("misspelled"),
        commands: {
          ...ringCommand,
          // @ts-expect-error -- "rnig" is not a command of this entity
          set: (_s: S) =>
            emit([], undefined, { timers: [schedule({ name: "t", after: 0, command: "rnig" })] }),
        },
      }),
      defineEntity({
        ...wrongBase("wrongdata"),
        commands: {
          ...ringCommand,
          // @ts-expect-error -- ring takes { n: number }, not a string
          set: (_s: S) => emit([], undefined, { timers: [timer({ n: "1" })] }),
        },
      }),
      defineEntity({
        ...wrongBase("nodata"),
        commands: {
          ...ringCommand,
          // @ts-expect-error -- ring needs its { n } data
          set: (_s: S) =>
            emit([], undefined, { timers: [schedule({ name: "t", after: 0, command: "ring" })] }),
        },
      }),
      defineEntity({
        ...wrongBase("schemadata"),
        commands: {
          // @ts-expect-error -- the schema of ring makes n a number
          set: (_s: S) => emit([], undefined, { timers: [timer({ n: true })] }),
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
