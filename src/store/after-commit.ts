import type { Logger } from "../observability/logger.js";

/** Work after a commit, run by `AfterCommit`: it must be idempotent (it may run again later). */
export type AfterCommitWork = () => Promise<unknown>;

/** What a piece of work after a commit does: the `work` label of its failure counter. */
export type AfterCommitKind = "trim" | "timer-slots";

/** Every kind, in the order the failure counts list them. */
export const AFTER_COMMIT_KINDS: readonly AfterCommitKind[] = ["trim", "timer-slots"];

const DESCRIPTIONS: Readonly<Record<AfterCommitKind, string>> = {
  trim: "trimming retained events",
  "timer-slots": "registering a timer's slot",
};

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
  readonly #failures: Record<AfterCommitKind, number> = { trim: 0, "timer-slots": 0 };

  constructor(options: AfterCommitOptions = {}) {
    this.#logger = options.logger;
    this.#hold = options.hold;
  }

  /** Pieces of work that failed since start. */
  get failed(): number {
    return AFTER_COMMIT_KINDS.reduce((sum, kind) => sum + this.#failures[kind], 0);
  }

  /** Pieces of work that failed since start, by kind (`knstate_store_after_commit_failures_total`). */
  get failures(): Readonly<Record<AfterCommitKind, number>> {
    return { ...this.#failures };
  }

  /** Runs `work` in the background, at most one per `key` at a time (see the class). */
  once(key: string, what: AfterCommitKind, work: AfterCommitWork): void {
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
  run(what: AfterCommitKind, work: AfterCommitWork): void {
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

  async #attempt(what: AfterCommitKind, work: AfterCommitWork): Promise<void> {
    try {
      await this.#hold?.();
      await work();
    } catch (error) {
      this.#failures[what]++;
      this.#logger?.warn(`${DESCRIPTIONS[what]} after a commit failed; it is repaired later`, {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
