import { LRUCache } from "lru-cache";
import type { Cells } from "../entity/replicated/cells.js";
import type { ReplicatedSnapshot } from "../entity/replicated/model.js";

/** Most cells of an entity whose values a host keeps to predict its batches. */
export const MAX_KNOWN_CELLS = 64;
/** Most entities whose values a host keeps. */
const MAX_KNOWN_ENTITIES = 10_000;
/**
 * Most cells a host keeps over all entities: 10 MB of heap for counters' cells, 16 MB for set
 * elements' (105 and 161 bytes a cell, measured on Node 20 with 1,600 entities of 63 cells).
 */
const MAX_KNOWN_TOTAL_CELLS = 100_000;
/** Most batches sent to the apply script before a prediction is tried again. */
export const MAX_BACKOFF = 64;

interface Tracked {
  /** The entity's every cell as this host last wrote or read them; undefined: not known. */
  cells: Cells | undefined;
  /** Batches still to send to the apply script before the next prediction. */
  skip: number;
  /** The current back-off, doubled by each stale prediction, halved by each one that held. */
  backoff: number;
  /**
   * Seen with more than `MAX_KNOWN_CELLS` cells: never asked for every cell again while this
   * host keeps the entry (a poll of many voters would pay a large `HGETALL` every 65 batches).
   */
  big: boolean;
}

/**
 * What a host knows of the values of the replicated entities it writes, to predict its next
 * batch (replicated-predict.ts). An entity written by this host alone (one replica, or
 * entities spread over replicas) is known after one batch and predicted from then on; one
 * written by several hosts at once finds its predictions stale, and backs off: 1, 2, 4, … 64
 * batches through the apply script, the last of them bringing every cell back, before the
 * next try. A prediction that holds halves the back-off: under steady contention the odd one
 * that holds does not bring the tries back to every batch.
 */
export class KnownStates {
  readonly #entries = new LRUCache<string, Tracked>({
    max: MAX_KNOWN_ENTITIES,
    maxSize: MAX_KNOWN_TOTAL_CELLS,
    sizeCalculation: (tracked) => 1 + (tracked.cells?.size ?? 0),
  });

  /** The cells to predict the entity's next batch on, or undefined: send it to the apply script. */
  cellsFor(id: string): Cells | undefined {
    const tracked = this.#entries.get(id);
    return tracked?.skip === 0 && !tracked.big ? tracked.cells : undefined;
  }

  /** Called before a batch goes to the apply script: whether it should return every cell. */
  wantsAll(id: string): boolean {
    const tracked = this.#track(id);
    if (tracked.big) return false;
    if (tracked.skip === 0) return true;
    tracked.skip -= 1;
    return tracked.skip === 0;
  }

  /** A batch through the apply script returned (with every cell after it, when asked for). */
  settled(id: string, all: ReplicatedSnapshot | undefined): void {
    const tracked = this.#track(id);
    tracked.cells = undefined;
    if (all !== undefined && all.cells.size <= MAX_KNOWN_CELLS) tracked.cells = all.cells;
    else if (all !== undefined) tracked.big = true;
    this.#entries.set(id, tracked);
  }

  /** A predicted batch was written: the entity now holds `cells`. */
  applied(id: string, cells: Cells): void {
    const tracked = this.#track(id);
    tracked.backoff = Math.floor(tracked.backoff / 2);
    tracked.cells = cells.size <= MAX_KNOWN_CELLS ? cells : undefined;
    this.#entries.set(id, tracked);
  }

  /** A prediction was stale (another host wrote, or a dedup id has a record): back off. */
  stale(id: string): void {
    const tracked = this.#track(id);
    tracked.cells = undefined;
    tracked.backoff = Math.min(Math.max(1, tracked.backoff * 2), MAX_BACKOFF);
    tracked.skip = tracked.backoff;
  }

  /** The batch could not be predicted (its operations read the clock): do not try for a while. */
  unpredictable(id: string): void {
    const tracked = this.#track(id);
    tracked.cells = undefined;
    tracked.skip = MAX_BACKOFF;
  }

  /** The outcome of a call is unknown: forget the entity's values. */
  forget(id: string): void {
    this.#entries.delete(id);
  }

  #track(id: string): Tracked {
    let tracked = this.#entries.get(id);
    if (tracked === undefined) {
      tracked = { cells: undefined, skip: 0, backoff: 0, big: false };
      this.#entries.set(id, tracked);
    }
    return tracked;
  }
}
