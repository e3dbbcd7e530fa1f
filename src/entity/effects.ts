import type { TimerEffect } from "./timers.js";

const REJECTION = Symbol.for("knstate.rejection");
const EMIT = Symbol.for("knstate.emit");
const UPDATE = Symbol.for("knstate.update");
const REPLY = Symbol.for("knstate.reply");

/** A business refusal: the host answers 422 and the caller should not retry. */
export interface Rejection {
  readonly [REJECTION]: true;
  readonly reason: string;
  readonly details?: unknown;
}

/** Events to append, with an explicit reply (a value, or a function of the state after the events). */
export interface Emit<E, S = unknown, T extends TimerEffect = TimerEffect> {
  readonly [EMIT]: true;
  readonly events: readonly E[];
  readonly reply: unknown;
  readonly replyFrom?: (state: S) => unknown;
  /** Timers scheduled or cancelled with the events (see timers.ts). */
  readonly timers?: readonly T[];
}

/** A value entity's new state, with an explicit reply. */
export interface Update<S> {
  readonly [UPDATE]: true;
  readonly state: S;
  readonly reply: unknown;
}

/** A reply that changes nothing (a read). */
export interface Reply {
  readonly [REPLY]: true;
  readonly value: unknown;
}

/**
 * Refuses a command. The host answers `422 Command rejected` with the reason; no event is stored.
 *
 * @example
 * addItem: (cart, item: Item) => (item.quantity < 1 ? reject("quantity must be at least 1") : [...])
 */
export function reject(reason: string, details?: unknown): Rejection {
  return details === undefined ? { [REJECTION]: true, reason } : { [REJECTION]: true, reason, details };
}

/**
 * Emits events and chooses the reply. `reply` may be a value or a function of the state after
 * the events are applied.
 *
 * @example
 * checkout: (cart) => emit([{ type: "checked-out", data: {} }], (after) => ({ items: after.items }))
 */
export function emit<const E, S = unknown, T extends TimerEffect = never>(
  events: readonly E[],
  reply?: unknown,
  options?: { readonly timers?: readonly T[] },
): Emit<E, S, T> {
  const timers = options?.timers !== undefined && options.timers.length > 0 ? { timers: options.timers } : {};
  if (typeof reply === "function") {
    return { [EMIT]: true, events, reply: undefined, replyFrom: reply as (state: S) => unknown, ...timers };
  }
  return { [EMIT]: true, events, reply, ...timers };
}

/**
 * Replies without changing anything.
 *
 * @example
 * get: (counter) => reply({ value: counter.value })
 */
export function reply(value: unknown): Reply {
  return { [REPLY]: true, value };
}

/**
 * A value entity's new state with an explicit reply (a plain returned object means "new state,
 * default reply").
 *
 * @example
 * rename: (profile, { name }: { name: string }) => update({ ...profile, name }, { ok: true })
 */
export function update<S>(state: S, replyValue?: unknown): Update<S> {
  return { [UPDATE]: true, state, reply: replyValue };
}

export function isRejection(value: unknown): value is Rejection {
  return typeof value === "object" && value !== null && REJECTION in value;
}
export function isEmit(value: unknown): value is Emit<unknown> {
  return typeof value === "object" && value !== null && EMIT in value;
}
export function isUpdate(value: unknown): value is Update<unknown> {
  return typeof value === "object" && value !== null && UPDATE in value;
}
export function isReply(value: unknown): value is Reply {
  return typeof value === "object" && value !== null && REPLY in value;
}
