import { expectTypeOf } from "vitest";
import { z } from "zod";
import { defineEntity, defineValueEntity, emit, reject, reply, update } from "knstate";

/** Entities written for the authoring API tests: an event-sourced tally and a value-entity profile. */

export interface Tally {
  readonly total: number;
  readonly notes: readonly string[];
}

export const tally = defineEntity({
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

export const profile = defineValueEntity({
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
