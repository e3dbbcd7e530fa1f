import { defineEntity } from "knstate";

/** What the load client sends: which delivery attempt this is (1 for the first). */
interface RecordInput {
  readonly attempt: number;
}

function recordInput(input: unknown): RecordInput {
  const attempt = (input as { attempt?: unknown } | null)?.attempt;
  if (typeof attempt !== "number" || !Number.isSafeInteger(attempt) || attempt < 1) {
    throw new Error('expected {"attempt": n} with n a positive integer');
  }
  return { attempt };
}

/**
 * The entity the fault suite loads: every `record` command stores one event holding the
 * CloudEvent id and the delivery attempt that carried it, so a checker reading the stored
 * events can tell which acknowledged commands are missing, which were applied twice and which
 * were applied by an attempt the client saw fail. Served as CloudEvent type
 * `com.example.faults.ledger.record`, subject = entity id.
 */
export default defineEntity({
  name: "ledger",
  typePrefix: "com.example.faults",
  initialState: (): { readonly count: number } => ({ count: 0 }),
  commands: {
    record: {
      input: recordInput,
      handle: (_state, { attempt }, ctx) => [
        { type: "recorded" as const, data: { id: ctx.event?.id ?? "", attempt } },
      ],
    },
  },
  events: {
    recorded: (state, _event: { id: string; attempt: number }) => ({ count: state.count + 1 }),
  },
  reply: (state) => ({ count: state.count }),
});
