import type { Cluster } from "ioredis";
import type { KeyLayout } from "./redis-keys.js";

/**
 * Where pollers on a Redis Cluster find due timers. Each entity's timers are indexed in the due
 * index of its own slot (`…:timers:due:{<slot tag>}`, written by the append script with the
 * timer, atomically); this registry, `…:timers:slots`, holds for each slot tag a score no later
 * than the earliest score in that slot's index, so a poll reads one key to learn which slots
 * have something due.
 *
 * The registry is a hint kept after the fact, and only ever too early, never too late:
 * - an append that set timers lowers its slot's score to the earliest due time (`ZADD LT`),
 *   right after its reply (see after-commit.ts);
 * - a poller that claimed from a slot raises the score to what is left, then reads the slot's
 *   index again and lowers the score if an append indexed an earlier timer meanwhile. An
 *   append's `ZADD LT` follows its script, so either it comes after the raise, or the re-read
 *   sees its timer: no timer is hidden by a raise;
 * - a pod that dies between an append and its `ZADD LT` leaves a timer the registry does not
 *   show: the sweep (a SCAN of every master for slot indexes, every `sweepMs`) registers it.
 */
export class DueSlots {
  readonly #client: Cluster;
  readonly #keys: KeyLayout;
  readonly #sweepMs: number;
  #sweptAt = Number.NEGATIVE_INFINITY;
  #sweeping: Promise<void> | undefined;
  #sweepError: Error | undefined;

  constructor(client: Cluster, keys: KeyLayout, sweepMs: number) {
    this.#client = client;
    this.#keys = keys;
    this.#sweepMs = sweepMs;
  }

  /** After an append that indexed a timer due at `due` in the slot of `tag`. */
  async lower(tag: string, due: number): Promise<void> {
    await this.#client.zadd(this.#keys.dueSlots, "LT", due, tag);
  }

  /**
   * Up to `limit` slot tags with something due at `now`. Starts a sweep in the background when
   * the last one is `sweepMs` old (the first call sweeps at once); a failed sweep is thrown by
   * the next call, so the poller reports it.
   */
  async due(now: number, limit: number): Promise<string[]> {
    if (this.#sweepError !== undefined) {
      const error = this.#sweepError;
      this.#sweepError = undefined;
      throw error;
    }
    if (this.#sweeping === undefined && now - this.#sweptAt >= this.#sweepMs) {
      this.#sweptAt = now;
      this.#sweeping = this.sweep()
        .catch((error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          this.#sweepError = new Error(
            `the timers' sweep (SCAN of every master) failed: ${reason}; on a Redis Cluster grant the host +scan (docs/redis-acl.md)`,
            { cause: error },
          );
        })
        .finally(() => (this.#sweeping = undefined));
    }
    return this.#client.zrangebyscore(this.#keys.dueSlots, "-inf", now, "LIMIT", 0, limit);
  }

  /**
   * After a claim from the slot of `tag` left `first` as its earliest score (`undefined`: the
   * index is empty): raises the registry's score to it, then re-reads the index and lowers the
   * score again if an append indexed an earlier timer meanwhile.
   */
  async settled(tag: string, first: number | undefined): Promise<void> {
    const registry = this.#keys.dueSlots;
    if (first === undefined) await this.#client.zrem(registry, tag);
    else await this.#client.zadd(registry, first, tag);
    const now = await this.#first(this.#keys.slotDueIndex(tag));
    if (now !== undefined) await this.lower(tag, now);
  }

  /** Every registered slot tag. */
  tags(): Promise<string[]> {
    return this.#client.zrangebyscore(this.#keys.dueSlots, "-inf", "+inf");
  }

  /** Waits for a sweep under way (tests, shutdown). */
  async idle(): Promise<void> {
    await this.#sweeping;
  }

  /**
   * Registers every non-empty slot due index found by SCAN on each master. Costs a SCAN of the
   * whole keyspace (pages of 1,000 keys) per `sweepMs` and pod; only a pod that died between an
   * append and its registration leaves anything for it to find.
   */
  async sweep(): Promise<void> {
    const pattern = this.#keys.slotDueIndexPattern;
    for (const master of this.#client.nodes("master")) {
      let cursor = "0";
      do {
        const [next, keys] = await master.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        cursor = next;
        await Promise.all(
          keys.map(async (key) => {
            const first = await this.#client.zrange(key, 0, 0, "WITHSCORES");
            if (first[1] !== undefined)
              await this.lower(key.slice(key.lastIndexOf("{") + 1, -1), Number(first[1]));
          }),
        );
      } while (cursor !== "0");
    }
  }

  /** The earliest score of a sorted set (ZRANGEBYSCORE: the commands the ACL grants). */
  async #first(key: string): Promise<number | undefined> {
    const [, score] = await this.#client.zrangebyscore(key, "-inf", "+inf", "WITHSCORES", "LIMIT", 0, 1);
    return score === undefined ? undefined : Number(score);
  }
}
