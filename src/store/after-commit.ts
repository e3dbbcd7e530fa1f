import type { Logger } from "../observability/logger.js";

/** Work after a commit, run by `AfterCommit`: it must be idempotent (it may run again later). */
export type AfterCommitWork = () => Promise<unknown>;

export interface AfterCommitOptions {
  readonly logger?: Logger | undefined;
  /** Awaited before each piece of work starts (tests hold work back with it). */
  readonly hold?: (() => Promise<void>) | undefined;
}

/**
 * Work that follows an append which has committed, run after its reply instead of before: the
 * retention trim, and on a Redis Cluster the timers' slot registry. Each is idempotent and
 * repaired later when lost (the next snapshot trims, the timers' sweep registers), so a failure
 * is logged and counted, never thrown, and the reply never waits for it.
 *
 * `once` keeps at most one piece of work in flight per key: asked again meanwhile, it runs
 * once more after the current one (with the latest work), so a hot entity never piles them up.
 */
export class AfterCommit {
  readonly #logger: Logger | undefined;
  readonly #hold: (() => Promise<void>) | undefined;
  /** Per key in flight, the work to run once more after it (undefined: none). */
  readonly #queued = new Map<string, AfterCommitWork | undefined>();
  readonly #running = new Set<Promise<void>>();
  #failed = 0;

  constructor(options: AfterCommitOptions = {}) {
    this.#logger = options.logger;
    this.#hold = options.hold;
  }

  /** Pieces of work that failed since start. */
  get failed(): number {
    return this.#failed;
  }

  /** Runs `work` in the background, at most one per `key` at a time (see the class). */
  once(key: string, what: string, work: AfterCommitWork): void {
    if (this.#queued.has(key)) {
      this.#queued.set(key, work);
      return;
    }
    this.#queued.set(key, undefined);
    this.#track(async () => {
      let next: AfterCommitWork | undefined = work;
      while (next !== undefined) {
        await this.#attempt(what, next);
        next = this.#queued.get(key);
        this.#queued.set(key, undefined);
      }
      this.#queued.delete(key);
    });
  }

  /** Runs `work` in the background. */
  run(what: string, work: AfterCommitWork): void {
    this.#track(() => this.#attempt(what, work));
  }

  /** Resolves when no work is in flight (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
  }

  #track(body: () => Promise<void>): void {
    const running = body();
    this.#running.add(running);
    void running.finally(() => this.#running.delete(running));
  }

  async #attempt(what: string, work: AfterCommitWork): Promise<void> {
    try {
      await this.#hold?.();
      await work();
    } catch (error) {
      this.#failed++;
      this.#logger?.warn(`${what} after a commit failed; it is repaired later`, {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
