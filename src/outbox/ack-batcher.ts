import type { Logger } from "../observability/logger.js";
import type { OutboxEntry, OutboxSource } from "./source.js";

/** How long a delivered entry may wait for its acknowledgement, gathering others. */
const ACK_DELAY_MS = 10;

/**
 * Acknowledges delivered entries in batches: one `XACK` + `XDEL` per stream for whatever was
 * delivered in the last `ACK_DELAY_MS`, so that a relay
 * publishing thousands of events a second makes a few Redis calls for them, not one each (a
 * batch per event-loop turn was about one per event: a write to Redis, a fifth of the relay's
 * CPU). A crash before the acknowledgement sends those events again, as at-least-once allows.
 * A batch that fails is kept and sent again with the next one (logged once per run of failures).
 */
export class AckBatcher {
  readonly #source: Pick<OutboxSource, "ack">;
  readonly #logger: Logger;
  readonly #waiting = new Map<string, string[]>();
  #size = 0;
  #scheduled = false;
  #flushing: Promise<void> | undefined;
  /** A batch failed and none succeeded since: the failure was logged once. */
  #failing = false;

  constructor(source: Pick<OutboxSource, "ack">, logger: Logger) {
    this.#source = source;
    this.#logger = logger;
  }

  /** Entries delivered and not acknowledged yet. */
  get size(): number {
    return this.#size;
  }

  add(entry: OutboxEntry): void {
    let ids = this.#waiting.get(entry.stream);
    if (ids === undefined) this.#waiting.set(entry.stream, (ids = []));
    ids.push(entry.id);
    this.#size++;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      void this.flush();
    }, ACK_DELAY_MS);
  }

  /** Sends what is waiting (after the batch in flight, if any). */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.#waiting.size === 0) return;
    const batch = [...this.#waiting];
    this.#waiting.clear();
    this.#flushing = Promise.all(
      batch.map(async ([stream, ids]) => {
        try {
          await this.#source.ack(stream, ids);
          this.#size -= ids.length;
          this.#failing = false;
        } catch (error) {
          if (!this.#failing) {
            this.#logger.warn("outbox relay: acknowledging published events failed; retrying", { error });
          }
          this.#failing = true;
          const later = this.#waiting.get(stream);
          this.#waiting.set(stream, later === undefined ? ids : [...ids, ...later]);
        }
      }),
    ).then(() => {
      this.#flushing = undefined;
    });
    await this.#flushing;
  }
}
