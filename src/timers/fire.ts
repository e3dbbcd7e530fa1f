import type { EntityModel } from "../entity/model.js";
import { nextRecurrence } from "../entity/timer-schedule.js";
import { HostError } from "../errors/host-error.js";
import type { CommandReply, CommandRequest } from "../pipeline/types.js";
import type { TimerObserver } from "../observability/timer-observer.js";
import type { ClaimedTimer, TimerStore } from "../store/state-store.js";

/** What firing needs: the entities by name, the pipeline's dispatch, the store's timers. */
export interface FireContext {
  readonly entity: (name: string) => EntityModel | undefined;
  readonly dispatch: (request: CommandRequest) => Promise<CommandReply>;
  readonly timers: TimerStore;
  readonly now: () => number;
  readonly observer?: TimerObserver | undefined;
}

/** Statuses after which firing again can succeed: the timer is left to its lease. */
function retryable(error: unknown): boolean {
  if (!(error instanceof HostError)) return true;
  return error.status === 503 || error.status === 409 || error.status === 429;
}

/**
 * Fires one claimed timer: runs its command through the pipeline with the dedup id
 * `timer:<name>:<due>` (so a second firing of the same due time applies nothing), then removes
 * the timer or moves a recurring one to its next period. A failure that may pass leaves the
 * claim to expire, so another pod (or this one) fires it again: at least once, applied once.
 */
export async function fireTimer(context: FireContext, claimed: ClaimedTimer): Promise<void> {
  const { key, timer } = claimed;
  const model = context.entity(key.entityType);
  const settle = () =>
    context.timers.settle(key, timer.name, timer.due, nextRecurrence(timer, context.now()));
  if (model === undefined) {
    context.observer?.dropped?.(key.entityType, timer.name, new Error(`no entity ${key.entityType}`));
    return; // another version of the function may serve it: leave it to the lease
  }
  try {
    const reply = await context.dispatch({
      model,
      entityId: key.entityId,
      command: timer.command,
      data: model.validate(timer.command, timer.data),
      dedupId: `timer:${timer.name}:${timer.due}`,
      timer: { name: timer.name, due: timer.due },
    });
    context.observer?.fired?.(model.name, Math.max(0, context.now() - timer.due) / 1000, reply.duplicate);
  } catch (error) {
    if (retryable(error)) {
      context.observer?.retried?.(model.name, error);
      return;
    }
    context.observer?.dropped?.(model.name, timer.name, error);
  }
  await settle();
}
