/**
 * One queue per entity: work for an entity runs in order, one batch at a time, so commands of
 * one process never conflict with each other; different entities run concurrently. With
 * group commit (`maxBatch` > 1) the items waiting behind a running batch form the next one.
 */
export class EntityQueues<T> {
  readonly #queues = new Map<string, T[]>();
  readonly #maxBatch: number;
  readonly #run: (id: string, batch: T[]) => Promise<void>;

  /** `run` must not reject: it answers its batch's items itself. */
  constructor(maxBatch: number, run: (id: string, batch: T[]) => Promise<void>) {
    this.#maxBatch = Math.max(1, maxBatch);
    this.#run = run;
  }

  push(id: string, item: T): void {
    const queue = this.#queues.get(id);
    if (queue) {
      queue.push(item);
      return;
    }
    const fresh = [item];
    this.#queues.set(id, fresh);
    void this.#drain(id, fresh);
  }

  async #drain(id: string, queue: T[]): Promise<void> {
    while (queue.length > 0) await this.#run(id, queue.splice(0, this.#maxBatch));
    this.#queues.delete(id);
  }
}
