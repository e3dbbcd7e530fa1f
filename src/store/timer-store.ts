import type { EntityKey } from "./state-store.js";

/**
 * A timer as the store keeps it. `due` is in ms since the epoch; `every` (ms) or `cron` make it
 * recur. The name is unique per entity.
 */
export interface StoredTimer {
  readonly name: string;
  readonly due: number;
  readonly command: string;
  readonly data: unknown;
  readonly every?: number | undefined;
  readonly cron?: string | undefined;
}

/** One change to an entity's timers in an append: set (replace) `timer`, or cancel `name`. */
export type TimerChange =
  { readonly kind: "set"; readonly timer: StoredTimer } | { readonly kind: "cancel"; readonly name: string };

/** A due timer this process claimed: its entity and the timer as stored when claimed. */
export interface ClaimedTimer {
  readonly key: EntityKey;
  readonly timer: StoredTimer;
}

/**
 * The firing side of timers. Appends write timers (`AppendRequest.timers`); this claims the due
 * ones with a lease and settles them after their command ran.
 */
export interface TimerStore {
  /** Pending timers of one entity, by due time. */
  listTimers(key: EntityKey): Promise<StoredTimer[]>;
  /**
   * Claims up to `limit` timers due at `now` or before: each is hidden from other claims for
   * `leaseMs` (then claimable again, if the claimer did not settle it).
   */
  claimDue(now: number, limit: number, leaseMs: number): Promise<ClaimedTimer[]>;
  /**
   * After the timer's command was applied: removes the timer if it is still the one fired (same
   * due time), or moves it to `nextDue` (recurring). A timer replaced meanwhile is re-indexed at
   * its own due time.
   */
  settle(key: EntityKey, name: string, firedDue: number, nextDue: number | undefined): Promise<void>;
  /** Timers pending in the whole service (for the gauge). */
  countPending(): Promise<number>;
}
