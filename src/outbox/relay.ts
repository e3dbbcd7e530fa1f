import { setTimeout as sleep } from "node:timers/promises";
import { silentLogger, type Logger } from "../observability/logger.js";
import type { EntityKey } from "../store/state-store.js";
import { AckBatcher } from "./ack-batcher.js";
import type { RelayOptions, RelayStats } from "./relay-options.js";
import { deliver, type DeliveryContext } from "./deliver.js";
import { SinkMessageEncoder } from "./outbox-event.js";
import { everyShard } from "./shard-balance.js";
import type { OutboxEntry } from "./source.js";

/** The shortest time between two reads of the outbox that commits asked for. */
const WAKE_GAP_MS = 10;

export type { RelayOptions, RelayStats } from "./relay-options.js";

/**
 * Relays the outbox to `K_SINK`. Each shard is relayed by the pod holding its lease (spread over
 * the relays by `balance`): it claims what the previous reader left unacknowledged, then reads
 * new entries. An entity's entries are sent in order, each acknowledged only after a 2xx, up to
 * `concurrency` entities at once. Retryable answers are retried with backoff without limit;
 * other refusals `maxAttempts` times, then the entry goes to the dead-letter stream.
 */
export class OutboxRelay {
  readonly #o: RelayOptions;
  readonly #logger: Logger;
  /** Shards this pod holds, each with the streams claimed since it took the lease. */
  readonly #owned = new Map<number, Set<string>>();
  /** Shards given up to another relay, released once nothing of theirs is in flight here. */
  readonly #leaving = new Set<number>();
  /** Per entity (`<stream>/<type>/<id>`), its entries in order. */
  readonly #queues = new Map<string, OutboxEntry[]>();
  /** Entities with entries and no request in flight, oldest first. */
  readonly #ready = new Set<string>();
  readonly #sending = new Set<string>();
  readonly #acks: AckBatcher;
  readonly #encoder: SinkMessageEncoder;
  readonly #delivery: DeliveryContext;
  readonly #max: number; // entries held in memory at most (read ahead of sending)
  #queued = 0;
  /** The last read stopped at the read-ahead limit: the outbox holds more to read. */
  #behind = false;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** Woken while reading: read again soon. */
  #again = false;
  /** When each shard's lease was last taken, renewed or tried. */
  readonly #tried = new Map<number, number>();
  #published = 0;
  #retried = 0;
  #dead = 0;

  constructor(options: RelayOptions) {
    this.#o = options;
    this.#logger = options.logger ?? silentLogger;
    this.#acks = new AckBatcher(options.source, this.#logger);
    this.#encoder = new SinkMessageEncoder(options.service, options.overrides);
    this.#delivery = {
      options,
      logger: this.#logger,
      retried: () => this.#retried++,
      stillMine: (entry) => this.#running && this.#owned.has(entry.shard),
    };
    this.#max = options.maxQueued ?? 2000;
  }

  get stats(): RelayStats {
    return { published: this.#published, retried: this.#retried, deadLettered: this.#dead };
  }

  /** Entries read and not yet acknowledged by this pod. */
  get queued(): number {
    return this.#queued + this.#acks.size;
  }

  /** Entries waiting in the outbox (all pods') and when the oldest was committed. */
  backlog(): Promise<{ readonly length: number; readonly oldest: number | undefined }> {
    return this.#o.source.backlog();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Reads the outbox now: something was just committed (for `key`, when given). */
  wake(key?: EntityKey): void {
    if (key !== undefined) this.#o.source.committed?.(key);
    this.#again = true;
    this.#wake?.();
  }

  /**
   * Stops after relaying what is there for at most `flushMs` (SIGTERM); what is left stays in
   * the outbox for the next holder of the shards, and the sink's connections are closed (a
   * stopped relay is not started again). Resolves true when nothing was left here.
   */
  async stop(flushMs: number): Promise<boolean> {
    if (!this.#running) return true;
    const deadline = Date.now() + flushMs;
    let drained = false;
    while (Date.now() < deadline) {
      // The whole outbox is asked only once nothing is in flight here (on a cluster it is a
      // sweep of every slot), and then every 100 ms.
      const idle = this.queued === 0;
      const { length } = idle ? await this.#o.source.backlog().catch(() => ({ length: -1 })) : { length: -1 };
      if (idle && length === 0) {
        drained = true;
        break;
      }
      this.wake();
      await sleep(Math.min(idle ? 100 : 20, Math.max(1, deadline - Date.now())));
    }
    this.#running = false;
    this.wake();
    await this.#loop;
    await this.#acks.flush();
    const held = [...this.#owned.keys(), ...this.#leaving];
    await Promise.all(held.map((s) => this.#o.source.release(s, this.#o.consumer).catch(() => undefined)));
    await this.#o.balance?.close();
    await this.#o.sink.close?.().catch(() => undefined);
    this.#owned.clear();
    this.#tried.clear();
    return drained;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const started = Date.now();
      this.#again = false;
      try {
        await this.#tick();
      } catch (error) {
        this.#logger.warn("outbox relay: reading the outbox failed", { error });
      }
      if (!this.#running) break;
      // Commits during the tick: read again after a short gap that gathers more of them, so a
      // busy pod reads the outbox a hundred times a second at most, not once per commit.
      const gap = this.#again ? Math.max(0, WAKE_GAP_MS - (Date.now() - started)) : undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, gap ?? this.#o.pollMs);
        this.#wake =
          gap === undefined
            ? () => {
                clearTimeout(timer);
                resolve();
              }
            : undefined;
      });
      this.#wake = undefined;
    }
  }

  async #tick(): Promise<void> {
    const { source, consumer, leaseMs, pollMs } = this.#o;
    void this.#acks.flush();
    // Spread over the live relays (shard-balance.ts): hold this pod's share, the preferred first.
    const plan = (await this.#o.balance?.plan(this.#owned.keys())) ?? everyShard(source.shards);
    for (const shard of plan.release) this.#lose(shard, true);
    await this.#letGo();
    for (const shard of plan.order) {
      if (!this.#running) break;
      let claimed = this.#owned.get(shard);
      if (!claimed && (this.#leaving.has(shard) || this.#owned.size >= plan.limit)) continue;
      // A held lease is renewed four times per lease; a free one is tried once per poll.
      const now = Date.now();
      if ((this.#tried.get(shard) ?? 0) + (claimed ? leaseMs / 4 : pollMs) <= now) {
        this.#tried.set(shard, now);
        if (!(await source.acquire(shard, consumer, leaseMs))) {
          if (claimed) this.#lose(shard);
          continue;
        }
        if (claimed === undefined) this.#owned.set(shard, (claimed = new Set()));
      }
      if (claimed === undefined) continue;
      await this.#readShard(shard, await source.streams(shard), claimed);
    }
    this.#pump();
  }

  /** Claims what each new stream's previous reader left, then reads the streams in turns, at once. */
  async #readShard(shard: number, streams: readonly string[], claimed: Set<string>): Promise<void> {
    const { source, consumer } = this.#o;
    const max = this.#max;
    const fresh = streams.filter((s) => !claimed.has(s));
    for (const stream of fresh) claimed.add(stream);
    const claims = await Promise.all(fresh.map((s) => source.claim(shard, s, consumer)));
    for (const entries of claims) this.#enqueue(entries);
    let pending = streams;
    while (this.#running && pending.length > 0 && this.#queued < max) {
      const count = Math.max(1, Math.min(500, Math.floor((max - this.#queued) / pending.length)));
      const reads = await Promise.all(pending.map((s) => source.read(shard, s, consumer, count)));
      for (const entries of reads) this.#enqueue(entries);
      this.#pump();
      pending = pending.filter((_, i) => reads[i]!.length === count);
    }
    if (pending.length > 0) this.#behind = true;
  }

  #enqueue(entries: readonly OutboxEntry[]): void {
    for (const entry of entries) {
      const key = `${entry.stream}/${entry.message.entityType}/${entry.message.entityId}`;
      let queue = this.#queues.get(key);
      if (queue === undefined) this.#queues.set(key, (queue = []));
      // A claimed entry may already be queued here: keep one.
      if (queue.some((e) => e.id === entry.id)) continue;
      queue.push(entry);
      this.#queued++;
      if (!this.#sending.has(key)) this.#ready.add(key);
    }
  }

  /** Another pod holds the shard now (or will: `handOver`): forget its entries (left pending for it). */
  #lose(shard: number, handOver = false): void {
    this.#owned.delete(shard);
    if (handOver) this.#leaving.add(shard);
    for (const [key, queue] of this.#queues) {
      if (queue[0]?.shard !== shard || this.#sending.has(key)) continue;
      this.#queued -= queue.length;
      this.#queues.delete(key);
      this.#ready.delete(key);
    }
    this.#logger.info("outbox relay: another pod relays this shard now", { shard, handOver });
  }

  /** Releases the leases handed over once their sends in flight ended (and were acknowledged). */
  async #letGo(): Promise<void> {
    const busy = new Set([...this.#sending].map((key) => this.#queues.get(key)?.[0]?.shard));
    for (const shard of [...this.#leaving].filter((s) => !busy.has(s))) {
      this.#leaving.delete(shard);
      await this.#acks.flush().then(() => this.#o.source.release(shard, this.#o.consumer));
    }
  }

  #pump(): void {
    for (const key of this.#ready) {
      if (this.#sending.size >= this.#o.concurrency) return;
      this.#ready.delete(key);
      this.#sending.add(key);
      void this.#drain(key).finally(() => {
        this.#sending.delete(key);
        if (this.#queues.get(key)?.length) this.#ready.add(key);
        if (this.#running) this.#pump();
      });
    }
  }

  /** Sends an entity's entries in order while this pod relays their shard. */
  async #drain(key: string): Promise<void> {
    const queue = this.#queues.get(key)!;
    while (queue.length > 0) {
      const entry = queue[0]!;
      if (!this.#owned.has(entry.shard)) break;
      const done = await this.#deliver(entry);
      if (!done) break;
      queue.shift();
      this.#queued--;
      this.#refill();
    }
    if (queue.length === 0 || !this.#owned.has(queue[0]!.shard)) {
      this.#queued -= queue.length;
      queue.length = 0;
      this.#queues.delete(key);
    }
  }

  /** Reads on at once when the read-ahead ran half down and the outbox holds more (no poll awaited). */
  #refill(): void {
    if (!this.#behind || this.#queued > this.#max / 2 || !this.#running) return;
    this.#behind = false;
    this.wake();
  }

  /** Sends one entry until it is acknowledged or dead-lettered; false when the relay stopped first. */
  async #deliver(entry: OutboxEntry): Promise<boolean> {
    if (entry.message.entityType === "") {
      await this.#o.source.deadLetter(entry, "unreadable outbox entry");
      this.#dead++;
      return true;
    }
    const outcome = await deliver(this.#delivery, entry, this.#encoder.encode(entry.message));
    if (outcome === "published") {
      // Acknowledged with others a moment later: the entity's next event need not wait for it
      // (a crash before the acknowledgement sends both again, in order).
      this.#acks.add(entry);
      this.#published++;
    } else if (outcome === "dead") this.#dead++;
    return outcome !== "left";
  }
}
