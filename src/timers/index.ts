import type { EntityModel } from "../entity/model.js";
import type { Logger } from "../observability/logger.js";
import type { CommandReply, CommandRequest } from "../pipeline/types.js";
import type { StateStore } from "../store/state-store.js";
import type { TimerObserver } from "../observability/timer-observer.js";
import { TimerRunner } from "./timer-runner.js";

export { fireTimer, type FireContext } from "./fire.js";
export type { TimerObserver } from "../observability/timer-observer.js";
export { TimerRunner, type TimerRunnerOptions } from "./timer-runner.js";

export interface HostTimerOptions {
  readonly store: StateStore;
  readonly entity: (name: string) => EntityModel | undefined;
  readonly dispatch: (request: CommandRequest) => Promise<CommandReply>;
  readonly config: {
    readonly timerPollMs: number;
    readonly timerLeaseMs: number;
    readonly timerBatch: number;
  };
  readonly logger: Logger;
  readonly observer?: TimerObserver | undefined;
}

/** The host's timer runner, or `undefined` for a store that keeps no timers. */
export function createTimerRunner(options: HostTimerOptions): TimerRunner | undefined {
  const { store, config, logger } = options;
  if (store.timers === undefined) return undefined;
  const observer = options.observer;
  return new TimerRunner({
    timers: store.timers,
    entity: options.entity,
    dispatch: options.dispatch,
    now: Date.now,
    pollMs: config.timerPollMs,
    leaseMs: config.timerLeaseMs,
    batch: Math.max(1, config.timerBatch),
    observer: {
      fired: (entity, late, repeat) => observer?.fired?.(entity, late, repeat),
      retried(entity, error) {
        logger.warn("timer not fired; it fires again when its lease ends", { entity, error });
        observer?.retried?.(entity, error);
      },
      dropped(entity, name, error) {
        logger.error("timer dropped: its command cannot run", { entity, timer: name, error });
        observer?.dropped?.(entity, name, error);
      },
    },
    onError: (error) => logger.warn("claiming due timers failed; retrying", { error }),
  });
}
