import { CronExpressionParser } from "cron-parser";

/** The shortest period of a recurring timer (`every`), so a typo cannot flood the store. */
export const MIN_TIMER_INTERVAL_MS = 1000;

/** A cron expression (5 or 6 fields, UTC) checked now; throws with the parser's reason. */
export function checkCron(expression: string): void {
  CronExpressionParser.parse(expression, { tz: "UTC" });
}

/** The first cron fire strictly after `after` (ms since epoch, UTC). */
export function nextCron(expression: string, after: number): number {
  return CronExpressionParser.parse(expression, { currentDate: new Date(after), tz: "UTC" })
    .next()
    .getTime();
}

/**
 * The next due time of a recurring timer that fired at `due`, seen at `now`: the first period
 * after `now`, so periods missed while nothing ran fire once (coalesced), not once each.
 */
export function nextRecurrence(
  timer: { readonly due: number; readonly every?: number | undefined; readonly cron?: string | undefined },
  now: number,
): number | undefined {
  if (timer.every !== undefined) {
    const periods = Math.max(1, Math.floor((now - timer.due) / timer.every) + 1);
    return timer.due + periods * timer.every;
  }
  if (timer.cron !== undefined) return nextCron(timer.cron, Math.max(now, timer.due));
  return undefined;
}
