import { cancel, defineEntity, emit, schedule } from "knstate";
import { z } from "zod";

const Name = z.string().min(1).max(200);
const Schedule = z.strictObject({
  name: Name,
  afterMs: z.number().int().min(0),
  message: z.string().max(10_000),
});
const Cancel = z.strictObject({ name: Name });
const Fire = z.strictObject({ name: Name, message: z.string().max(10_000) });

export interface Fired {
  readonly name: string;
  readonly message: string;
  /** When the reminder fired (ISO 8601). */
  readonly firedAt: string;
}

export interface Reminders {
  readonly fired: readonly Fired[];
  /** Names of the reminders scheduled and not yet fired or cancelled. */
  readonly pending: readonly string[];
}

const without = (names: readonly string[], name: string) => names.filter((n) => n !== name);

/**
 * Reminders: `schedule` sets a durable timer that runs `fire` after `afterMs` (scheduling a name
 * again replaces it), `cancel` drops it, and `fire` records the reminder. The timer is stored
 * with the `scheduled` event, so it survives any host's death and scale-to-zero.
 */
export default defineEntity({
  name: "reminder",
  typePrefix: "com.example",
  initialState: (): Reminders => ({ fired: [], pending: [] }),
  commands: {
    schedule: {
      input: Schedule,
      handle: (_state, { name, afterMs, message }) =>
        emit([{ type: "scheduled", data: { name, afterMs } }], undefined, {
          timers: [schedule({ name, after: afterMs, command: "fire", data: { name, message } })],
        }),
    },
    cancel: {
      input: Cancel,
      handle: (_state, { name }) =>
        emit([{ type: "cancelled", data: { name } }], undefined, { timers: [cancel(name)] }),
    },
    fire: {
      input: Fire,
      handle: (_state, { name, message }) => [
        { type: "fired", data: { name, message, firedAt: new Date().toISOString() } },
      ],
    },
  },
  events: {
    scheduled: (state, { name }: { name: string; afterMs: number }): Reminders => ({
      ...state,
      pending: [...without(state.pending, name), name],
    }),
    cancelled: (state, { name }: { name: string }): Reminders => ({
      ...state,
      pending: without(state.pending, name),
    }),
    fired: (state, fired: Fired): Reminders => ({
      fired: [...state.fired, fired],
      pending: without(state.pending, fired.name),
    }),
  },
});
