import { InvalidInput } from "../entity/input.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";

/** The dedup id of a CloudEvent: `source` and `id` (control characters cannot occur in either). */
export function eventDedupId(event: { readonly source: string; readonly id: string }): string {
  return `c\u0000${event.source}\u0000${event.id}`;
}

/** The dedup id of an HTTP command sent with `Idempotency-Key`. */
export function httpDedupId(idempotencyKey: string): string {
  return `h\u0000${idempotencyKey}`;
}

/** Validates a command's data with its schema; the validator's message becomes a 400. */
export function validateData(validate: (data: unknown) => unknown, data: unknown, what: string): unknown {
  try {
    return validate(data);
  } catch (error) {
    if (error instanceof InvalidInput) {
      throw new HostError(Problem.invalidCommandData, `invalid data for ${what}: ${error.message}`);
    }
    throw error;
  }
}
