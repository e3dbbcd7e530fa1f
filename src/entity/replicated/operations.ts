import { LETTER, MAX_ELEMENT_BYTES, MAX_VALUE_BYTES, canonicalJson, checkSize, encodeKey } from "./cells.js";
import type {
  CounterSpec,
  EntrySpec,
  FlagSpec,
  LeaseSpec,
  MapSpec,
  RegisterSpec,
  SetSpec,
  ValueSpec,
  VoteSpec,
} from "./types.js";

/** Every operation the store applies (docs/replicated.md gives each one's rule). */
export type OpCode =
  "inc" | "flag" | "lww" | "fww" | "sadd" | "srem" | "vote" | "unvote" | "mrem" | "acq" | "rel" | "fence";

/**
 * One operation on field `F`, already encoded: the cell it changes and up to three arguments.
 * The memory apply and the Redis script read exactly this.
 */
export interface ReplicatedOp<F extends string = string> {
  readonly field: F;
  readonly code: OpCode;
  readonly cell: string;
  readonly a: string;
  readonly b: string;
  readonly c: string;
  /** Inside a map: the entry's `k|` cell, marked as updated by this operation; "" otherwise. */
  readonly entry: string;
}

export interface CounterOps<F extends string> {
  increment(by?: number): ReplicatedOp<F>;
  decrement(by?: number): ReplicatedOp<F>;
}
export interface FlagOps<F extends string> {
  enable(): ReplicatedOp<F>;
}
export interface RegisterOps<F extends string, T> {
  /** `clock`: your own clock (a safe integer ≥ 0, e.g. µs since the epoch); default: the store's. */
  set(value: T, clock?: number): ReplicatedOp<F>;
}
export interface SetOps<F extends string, T> {
  add(element: T): ReplicatedOp<F>;
  remove(element: T): ReplicatedOp<F>;
}
export interface VoteOps<F extends string, T> {
  /** Casts or replaces `voter`'s vote (and restarts its TTL: a heartbeat). */
  vote(voter: string, value: T): ReplicatedOp<F>;
  withdraw(voter: string): ReplicatedOp<F>;
}
export interface LeaseOps<F extends string> {
  /** Takes the lease when free or expired (new token), renews it when `holder` has it. */
  acquire(holder: string, ttlMs: number): ReplicatedOp<F>;
  release(holder: string): ReplicatedOp<F>;
  /** Refuses the whole command unless `token` is the lease's current fencing token. */
  fence(token: number): ReplicatedOp<F>;
}
export interface MapOps<F extends string, V extends EntrySpec> {
  /** The operations on one entry (each also marks the entry as updated). */
  at(key: string): EntryOps<V, F>;
  remove(key: string): ReplicatedOp<F>;
}

type EntryOps<S, F extends string> = S extends CounterSpec
  ? CounterOps<F>
  : S extends FlagSpec
    ? FlagOps<F>
    : S extends RegisterSpec<infer T>
      ? RegisterOps<F, T>
      : S extends SetSpec<infer T>
        ? SetOps<F, T>
        : S extends VoteSpec<infer T>
          ? VoteOps<F, T>
          : S extends LeaseSpec
            ? LeaseOps<F>
            : never;
export type OpsOf<S, F extends string> = S extends MapSpec<infer V> ? MapOps<F, V> : EntryOps<S, F>;

/** The operation builders of an entity's values: `ops.count.increment(2)`. */
export type Operations<V> = { readonly [K in keyof V & string]: OpsOf<V[K], K> };

function safeInteger(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`${what} must be a safe integer, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}
function text(value: unknown, what: string): string {
  if (typeof value !== "string") throw new TypeError(`${what} must be a string, got ${typeof value}`);
  return checkSize(value, MAX_ELEMENT_BYTES, what);
}

/** Builders for one value at `path` (`field`, or `field|encodedKey` inside a map). */
function entryOps(spec: EntrySpec, field: string, path: string, entry: string): object {
  const op = (code: OpCode, cell: string, a = "", b = "", c = ""): ReplicatedOp =>
    Object.freeze({ field, code, cell, a, b, c, entry });
  const cell = `${LETTER[spec.kind]}|${path}`;
  const where = `${field}${path === field ? "" : ` key ${path.slice(field.length + 1)}`}`;
  switch (spec.kind) {
    case "counter": {
      const change = (by: unknown, sign: 1 | -1) => {
        const n = safeInteger(by ?? 1, `the amount of ${where}`);
        return op("inc", cell, String(sign * n || 0));
      };
      return { increment: (by?: number) => change(by, 1), decrement: (by?: number) => change(by, -1) };
    }
    case "flag":
      return { enable: () => op("flag", cell) };
    case "register":
      return {
        set(value: unknown, clock?: number) {
          const json = checkSize(canonicalJson(value, `the value of ${where}`), MAX_VALUE_BYTES, where);
          if (spec.wins === "first") {
            if (clock !== undefined) throw new TypeError(`${where} keeps its first write: it takes no clock`);
            return op("fww", cell, json);
          }
          if (clock === undefined) return op("lww", cell, json);
          const at = safeInteger(clock, "a clock");
          if (at < 0) throw new TypeError(`a clock must not be negative, got ${at}`);
          return op("lww", cell, json, String(at));
        },
      };
    case "set": {
      const element = (value: unknown) =>
        checkSize(
          canonicalJson(value, `an element of ${where}`),
          MAX_ELEMENT_BYTES,
          `an element of ${where}`,
        );
      return {
        add: (value: unknown) => op("sadd", `${cell}|${element(value)}`),
        remove: (value: unknown) => op("srem", `${cell}|${element(value)}`),
      };
    }
    case "vote":
      return {
        vote(voter: unknown, value: unknown) {
          if (!["string", "number", "boolean"].includes(typeof value)) {
            throw new TypeError(`a vote of ${where} must be a string, number or boolean`);
          }
          const json = checkSize(canonicalJson(value, `a vote of ${where}`), MAX_VALUE_BYTES, where);
          return op("vote", `${cell}|${text(voter, "a voter")}`, json, String(spec.ttlMs), `${cell}|`);
        },
        withdraw: (voter: unknown) => op("unvote", `${cell}|${text(voter, "a voter")}`),
      };
    case "lease":
      return {
        acquire(holder: unknown, ttlMs: unknown) {
          const ttl = safeInteger(ttlMs, "a lease TTL");
          if (ttl < 1) throw new TypeError("a lease TTL must be at least 1 ms");
          if (holder === "") throw new TypeError("a lease holder must not be empty");
          return op("acq", cell, text(holder, "a lease holder"), String(ttl));
        },
        release: (holder: unknown) => op("rel", cell, text(holder, "a lease holder")),
        fence: (token: unknown) => op("fence", cell, String(safeInteger(token, "a fencing token"))),
      };
  }
}

function valueOps(spec: ValueSpec, field: string): object {
  if (spec.kind !== "map") return entryOps(spec, field, field, "");
  const inner = spec.value;
  const entry = (key: unknown) => `${field}|${encodeKey(text(key, `a key of ${field}`))}`;
  return {
    at(key: unknown) {
      const path = entry(key);
      return entryOps(inner, field, path, `k|${path}`);
    },
    remove(key: unknown) {
      const path = entry(key);
      const letter = LETTER[inner.kind];
      const collection = inner.kind === "set" || inner.kind === "vote";
      return {
        field,
        code: "mrem",
        cell: `k|${path}`,
        a: collection ? "" : `${letter}|${path}`,
        b: collection ? `${letter}|${path}|` : "",
        c: "",
        entry: "",
      } satisfies ReplicatedOp;
    },
  };
}

/**
 * The operation builders of declared values. Using a field that is not declared throws (in
 * TypeScript it does not compile), and so does a bad argument: a fractional increment, an
 * element over `MAX_ELEMENT_BYTES`, a value that is not JSON.
 */
export function operations<const V extends Readonly<Record<string, ValueSpec>>>(
  values: V,
  entityName = "this entity",
): Operations<V> {
  const built: Record<string, object> = {};
  for (const [field, spec] of Object.entries(values)) built[field] = Object.freeze(valueOps(spec, field));
  return new Proxy(Object.freeze(built), {
    get(target, name) {
      if (typeof name === "string" && !Object.hasOwn(target, name) && name !== "then" && name !== "toJSON") {
        throw new TypeError(`${entityName} declares no replicated value "${name}"`);
      }
      return target[name as string];
    },
  }) as Operations<V>;
}
