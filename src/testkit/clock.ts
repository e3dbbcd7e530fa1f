import { nextRecurrence } from "../entity/timer-schedule.js";
import type { EntityModel } from "../entity/model.js";
import type { TimerEffect } from "../entity/timers.js";
import { toTimerChanges } from "../pipeline/timer-effects.js";
import type { StoredTimer } from "../store/state-store.js";

/**
 * The testkit's controllable clock and one entity's pending timers: commands schedule on it,
 * `advance` fires what falls due in due order, as the host would, without waiting.
 */
export class TestTimers {
  now: number;
  readonly #pending = new Map<string, StoredTimer>();

  constructor(start: number) {
    this.now = start;
  }

  get pending(): StoredTimer[] {
    return [...this.#pending.values()].sort((a, b) => a.due - b.due);
  }

  /** Validates and applies a command's timer effects, as the host does when it stores them. */
  apply(model: EntityModel, command: string, effects: readonly TimerEffect[] | undefined): void {
    if (effects === undefined) return;
    for (const change of toTimerChanges(model, command, effects, this.now)) {
      if (change.kind === "cancel") this.#pending.delete(change.name);
      else this.#pending.set(change.timer.name, change.timer);
    }
  }

  /**
   * Moves the clock `ms` forward, running `fire` for each timer due on the way (the clock set to
   * its due time); recurring timers are moved to their next period.
   */
  advance(ms: number, fire: (timer: StoredTimer) => void): void {
    const target = this.now + Math.max(0, ms);
    for (;;) {
      const next = this.pending[0];
      if (next === undefined || next.due > target) break;
      this.now = Math.max(this.now, next.due);
      this.#pending.delete(next.name);
      const again = nextRecurrence(next, this.now);
      if (again !== undefined) this.#pending.set(next.name, { ...next, due: again });
      fire(next);
    }
    this.now = target;
  }
}
