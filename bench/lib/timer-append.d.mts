import type { AppendRequest } from "../../src/store/state-store.js";

/** A reminder entity's append that schedules the timer `t` at `due` (see timer-append.mjs). */
export declare function timerAppend(
  entityId: string,
  due: number,
  message: string,
  expectedVersion?: number,
): AppendRequest & { readonly key: { readonly entityType: "reminder"; readonly entityId: string } };
