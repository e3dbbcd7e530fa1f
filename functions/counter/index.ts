import { defineEntity, reject } from "knstate";

export interface Counter {
  readonly value: number;
}

/** `{"by": n}` with n a safe integer (default 1); no other keys. */
function amount(input: unknown): { by: number } {
  if (input === undefined || input === null) return { by: 1 };
  if (typeof input !== "object" || Array.isArray(input)) throw new Error('expected an object like {"by": 1}');
  const { by = 1, ...rest } = input as { by?: unknown };
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new Error(`unexpected key "${extra[0]}"`);
  if (typeof by !== "number" || !Number.isSafeInteger(by)) throw new Error("by must be a safe integer");
  return { by };
}

const change = (counter: Counter, by: number) =>
  Number.isSafeInteger(counter.value + by)
    ? [{ type: "changed" as const, data: { by } }]
    : reject(`the counter would leave the safe integer range (${counter.value} + ${by})`);

/**
 * A counter: `com.example.counter.increment` with subject `c1` and data `{"by": 2}` adds 2 to
 * counter c1. Every command replies `{"value": <current value>}`.
 */
export default defineEntity({
  name: "counter",
  typePrefix: "com.example",
  initialState: (): Counter => ({ value: 0 }),
  commands: {
    increment: { input: amount, handle: (counter, { by }) => change(counter, by) },
    decrement: { input: amount, handle: (counter, { by }) => change(counter, -by) },
    reset: (counter) => (counter.value === 0 ? [] : [{ type: "reset" as const, data: {} }]),
    get: () => [],
  },
  events: {
    changed: (counter, event: { by: number }): Counter => ({ value: counter.value + event.by }),
    reset: (): Counter => ({ value: 0 }),
  },
  reply: (counter) => ({ value: counter.value }),
  // Every committed event goes to K_SINK (when it is set) through the outbox.
  publish: true,
});
