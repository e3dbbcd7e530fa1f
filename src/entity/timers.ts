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

/**
 * `schedule(...)`: run `command` with `data` on this entity when due; a name is unique per entity.
 * `D` is the type of `data`; it is required when the command's input does not accept `undefined`.
 */
export type ScheduleTimer<C extends string = string, D = unknown> = TimerWhen & {
  readonly kind: "schedule";
  readonly name: string;
  readonly command: C;
} & DataOf<D>;

/** `data` as a command with input `D` needs it: optional only when `D` may be undefined. */
type DataOf<D> = undefined extends D ? { readonly data?: D } : { readonly data: D };

/** `cancel(name)`: the timer `name` of this entity no longer fires (nothing happens if none). */
export interface CancelTimer {
  readonly kind: "cancel";
  readonly name: string;
}

export type TimerEffect<C extends string = string, D = unknown> = ScheduleTimer<C, D> | CancelTimer;

/**
 * The timers a command of an entity whose commands take the inputs `I` may return: a schedule
 * of one of its commands with that command's input, or a cancel. A misspelled command or data of
 * the wrong type does not compile.
 */
export type TimerOf<I> = unknown extends I
  ? TimerEffect
  : { [K in keyof I & string]: ScheduleTimer<K, I[K]> }[keyof I & string] | CancelTimer;

/** What `schedule` takes: a name, exactly one of after/at/every/cron, the command and its data. */
export type ScheduleOptions<C extends string, D = undefined> = TimerWhen & {
  readonly name: string;
  readonly command: C;
  readonly data?: D;
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
export function schedule<const C extends string, D = undefined>(
  options: ScheduleOptions<C, D>,
): ScheduleTimer<C, D> {
  return { ...options, kind: "schedule" } as ScheduleTimer<C, D>;
}

/** Cancels the timer `name` of this entity, committed with the command's events. */
export function cancel(name: string): CancelTimer {
  return { kind: "cancel", name };
}
