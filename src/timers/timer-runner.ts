import type { TimerStore } from "../store/state-store.js";
import { fireTimer, type FireContext } from "./fire.js";

export interface TimerRunnerOptions extends FireContext {
  /** Mean time between polls; 0: no polling (only `fireDue` calls, e.g. the PingSource wake-up). */
  readonly pollMs: number;
  readonly leaseMs: number;
  readonly batch: number;
  /** Told about a failed poll (the store unreachable); polling goes on. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Fires due timers: every warm pod polls the store's due index (jittered, so pods spread out),
 * claims a batch with a lease, and fires each through the pipeline. A full batch is followed
 * by the next claim at once, so a backlog drains as fast as the pipeline applies it.
 */
export class TimerRunner {
  readonly #options: TimerRunnerOptions;
  readonly #timers: TimerStore;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #stopped = true;

  constructor(options: TimerRunnerOptions) {
    this.#options = options;
    this.#timers = options.timers;
  }

  start(): void {
    if (!this.#stopped || this.#options.pollMs <= 0) return;
    this.#stopped = false;
    this.#schedule();
  }

  /** Stops polling and waits for the timers being fired. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /**
   * Claims and fires everything due now, batch after batch; resolves with how many fired. Calls
   * made while a round runs join it.
   */
  fireDue(): Promise<number> {
    this.#running ??= this.#round().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Pending timers of the service. */
  pending(): Promise<number> {
    return this.#timers.countPending();
  }

  async #round(): Promise<number> {
    const { batch, leaseMs, now } = this.#options;
    let fired = 0;
    for (;;) {
      const claimed = await this.#timers.claimDue(now(), batch, leaseMs);
      await Promise.all(claimed.map((timer) => fireTimer(this.#options, timer)));
      fired += claimed.length;
      if (claimed.length < batch || (this.#stopped && this.#options.pollMs > 0)) return fired;
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    const delay = this.#options.pollMs * (0.8 + Math.random() * 0.4);
    this.#timer = setTimeout(() => {
      this.fireDue()
        .catch((error: unknown) => this.#options.onError?.(error))
        .finally(() => this.#schedule());
    }, delay);
    this.#timer.unref();
  }
}
