/**
 * Durable timers as effects of a command: `schedule` runs a command of the same entity later,
 * `cancel` drops a pending timer. Both are committed atomically with the command's events (a
 * rejected command schedules nothing). Pure values; the host validates and stores them.
 */

/** When a timer is due: once after a delay, once at a time, or recurring. */
export type TimerWhen =
  | { readonly after: number }
  | { readonly at: number | Date | string }
  | { readonly every: number }
  | { readonly cron: string };

/** `schedule(...)`: run `command` with `data` on this entity when due; a name is unique per entity. */
export type ScheduleTimer<C extends string = string> = TimerWhen & {
  readonly kind: "schedule";
  readonly name: string;
  readonly command: C;
  readonly data?: unknown;
};

/** `cancel(name)`: the timer `name` of this entity no longer fires (nothing happens if none). */
export interface CancelTimer {
  readonly kind: "cancel";
  readonly name: string;
}

export type TimerEffect<C extends string = string> = ScheduleTimer<C> | CancelTimer;

/** What `schedule` takes: a name, exactly one of after/at/every/cron, the command and its data. */
export type ScheduleOptions<C extends string> = TimerWhen & {
  readonly name: string;
  readonly command: C;
  readonly data?: unknown;
};

/**
 * Schedules the command `command` of this entity, with `data`, when due. Scheduling a name
 * again replaces the timer. `every` (ms) and `cron` recur; missed periods fire once.
 *
 * @example
 * addItem: (cart, item) => emit([{ type: "item-added", data: item }], undefined, {
 *   timers: [schedule({ name: "expire", after: 30 * 60_000, command: "clear" })],
 * })
 */
export function schedule<const C extends string>(options: ScheduleOptions<C>): ScheduleTimer<C> {
  return { ...options, kind: "schedule" };
}

/** Cancels the timer `name` of this entity, committed with the command's events. */
export function cancel(name: string): CancelTimer {
  return { kind: "cancel", name };
}
