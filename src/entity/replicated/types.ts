/**
 * The replicated value types an entity is made of. Each declaration says how its value is
 * stored and merged; `StateOf` is what a handler reads, `ops` (see operations.ts) what it
 * returns. Semantics are in docs/replicated.md.
 */

/** A JSON value, as registers and set elements hold. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
/** What a vote may be (it is tallied by its string form). */
export type VoteValue = string | number | boolean;

declare const ELEMENT: unique symbol;

export interface CounterSpec {
  readonly kind: "counter";
}
export interface FlagSpec {
  readonly kind: "flag";
}
export interface RegisterSpec<T extends Json = Json> {
  readonly kind: "register";
  /** `last`: the latest write wins (by clock); `first`: the first write stays. */
  readonly wins: "last" | "first";
  readonly [ELEMENT]?: T;
}
export interface SetSpec<T extends Json = Json> {
  readonly kind: "set";
  readonly [ELEMENT]?: T;
}
export interface VoteSpec<T extends VoteValue = VoteValue> {
  readonly kind: "vote";
  /** A voter's vote expires this long after it was cast (0: never). */
  readonly ttlMs: number;
  readonly [ELEMENT]?: T;
}
export interface LeaseSpec {
  readonly kind: "lease";
}
/** What a map may hold: any type but another map. */
export type EntrySpec = CounterSpec | FlagSpec | RegisterSpec | SetSpec | VoteSpec | LeaseSpec;
export interface MapSpec<V extends EntrySpec = EntrySpec> {
  readonly kind: "map";
  readonly value: V;
}
export type ValueSpec = EntrySpec | MapSpec;
/** The declared values of a replicated entity, by field name. */
export type ValueSpecs = Readonly<Record<string, ValueSpec>>;

/** A vote's merged value: every live voter's vote and the tallies derived from them. */
export interface VoteState<T extends VoteValue = VoteValue> {
  /** Each voter's current vote (expired votes are gone). */
  readonly votes: Readonly<Record<string, T>>;
  /** How many voters have a live vote. */
  readonly voters: number;
  /** Voters per vote value, keyed by `String(value)`. */
  readonly tally: Readonly<Record<string, number>>;
  /** Votes that are `true`: at least one, more than half of the voters, every voter (false when none). */
  readonly atLeastOne: boolean;
  readonly majority: boolean;
  readonly all: boolean;
}

/** A lease: who holds it (null when free or expired), its fencing token, when it expires (ms). */
export interface LeaseState {
  readonly holder: string | null;
  readonly token: number;
  readonly expiresAt: number;
}

/** The value a handler reads for one declaration. */
export type StateOf<S> = S extends CounterSpec
  ? number
  : S extends FlagSpec
    ? boolean
    : S extends RegisterSpec<infer T>
      ? T | undefined
      : S extends SetSpec<infer T>
        ? readonly T[]
        : S extends VoteSpec<infer T>
          ? VoteState<T>
          : S extends LeaseSpec
            ? LeaseState
            : S extends MapSpec<infer V>
              ? Readonly<Record<string, StateOf<V>>>
              : never;

/** The merged values of an entity, as its handlers read them. */
export type Values<V> = { readonly [K in keyof V]: StateOf<V[K]> };

/** A counter: increments and decrements add up, whatever their order (safe integers). */
export const counter = (): CounterSpec => ({ kind: "counter" });

/** A flag: false until enabled, then true for good. */
export const flag = (): FlagSpec => ({ kind: "flag" });

/**
 * A register holding one JSON value: the write with the highest clock wins (default), or the
 * first write stays (`{ wins: "first" }`).
 */
export const register = <T extends Json>(options: { wins?: "last" | "first" } = {}): RegisterSpec<T> => ({
  kind: "register",
  wins: options.wins ?? "last",
});

/** A set of JSON values: add and remove, a concurrent add wins over a remove. */
export const set = <T extends Json>(): SetSpec<T> => ({ kind: "set" });

/**
 * One vote per voter, replaced by their next vote. With `ttlMs`, a vote expires unless cast
 * again in time (a heartbeat), which makes a presence list.
 */
export const vote = <T extends VoteValue = boolean>(options: { ttlMs?: number } = {}): VoteSpec<T> => {
  const ttlMs = options.ttlMs ?? 0;
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 0) {
    throw new TypeError(`vote ttlMs must be a non-negative integer, got ${String(options.ttlMs)}`);
  }
  return { kind: "vote", ttlMs };
};

/** A named lease with a TTL and a fencing token that grows with every new holder. */
export const lease = (): LeaseSpec => ({ kind: "lease" });

/** Keys to values of one type; removing a key loses to a concurrent update of its entry. */
export const map = <V extends EntrySpec>(value: V): MapSpec<V> => ({ kind: "map", value });
