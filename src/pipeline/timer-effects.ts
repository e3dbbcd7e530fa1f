import type { EntityModel } from "../entity/model.js";
import { checkCron, MIN_TIMER_INTERVAL_MS, nextCron } from "../entity/timer-schedule.js";
import type { TimerEffect } from "../entity/timers.js";
import type { StoredTimer, TimerChange } from "../store/state-store.js";

/**
 * A handler's timer effects as the store's changes, checked when the handler returns them: an
 * unknown command, an interval below the minimum, an invalid cron expression or due time is a
 * bug of the function, answered 500 (the command stores nothing) and logged with its entity.
 */
export function toTimerChanges(
  model: EntityModel,
  command: string,
  effects: readonly TimerEffect[],
  now: number,
): TimerChange[] {
  return effects.map((effect) => {
    const where = `${model.name}.${command}`;
    // Thrown inside decide: answered as a failed handler (500), logged with this message.
    const bad = (why: string) => new TypeError(`command ${where} scheduled an invalid timer: ${why}`);
    if (typeof effect?.name !== "string" || effect.name.length === 0)
      throw bad("the name must be a non-empty string");
    if (effect.kind === "cancel") return { kind: "cancel", name: effect.name };
    if ((effect.kind as string) !== "schedule") throw bad(`unknown timer effect`);
    if (!model.commandNames.includes(effect.command)) {
      throw bad(
        `timer ${JSON.stringify(effect.name)} runs unknown command ${JSON.stringify(effect.command)}`,
      );
    }
    const base = { name: effect.name, command: effect.command, data: effect.data };
    let timer: StoredTimer;
    if ("after" in effect) {
      if (!Number.isFinite(effect.after)) throw bad(`"after" must be a number of milliseconds`);
      timer = { ...base, due: Math.round(now + Math.max(0, effect.after)) };
    } else if ("at" in effect) {
      const at = effect.at instanceof Date ? effect.at.getTime() : new Date(effect.at).getTime();
      if (!Number.isFinite(at)) throw bad(`"at" is not a valid time`);
      timer = { ...base, due: Math.round(at) };
    } else if ("every" in effect) {
      if (!Number.isFinite(effect.every) || effect.every < MIN_TIMER_INTERVAL_MS) {
        throw bad(`"every" must be at least ${MIN_TIMER_INTERVAL_MS} ms`);
      }
      const every = Math.round(effect.every);
      timer = { ...base, due: now + every, every };
    } else if ("cron" in effect) {
      try {
        checkCron(effect.cron);
      } catch (error) {
        throw bad(`invalid cron expression ${JSON.stringify(effect.cron)} (${(error as Error).message})`);
      }
      timer = { ...base, due: nextCron(effect.cron, now), cron: effect.cron };
    } else {
      throw bad(`timer ${JSON.stringify(base.name)} needs one of after, at, every or cron`);
    }
    return { kind: "set", timer };
  });
}
