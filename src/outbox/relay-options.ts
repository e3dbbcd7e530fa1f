import type { Logger } from "../observability/logger.js";
import type { SinkMessage } from "../publish/sink-client.js";
import type { ShardBalance } from "./shard-balance.js";
import type { OutboxSource } from "./source.js";

export interface RelayOptions {
  readonly source: OutboxSource;
  /** POSTs one binary-mode event and resolves with the status; rejects on a network error. */
  readonly sink: { send(message: SinkMessage): Promise<number>; close?(): Promise<void> };
  /** `K_SERVICE`: first segment of every event's `source`. */
  readonly service: string;
  /** Extension attributes of `K_CE_OVERRIDES`. */
  readonly overrides?: Readonly<Record<string, string>>;
  /** This pod's name in the consumer groups and leases (unique per process). */
  readonly consumer: string;
  /** How long a shard's lease lasts without renewal: a dead pod's shards move after it. */
  readonly leaseMs: number;
  /** How often the outbox is read when nothing wakes the relay. */
  readonly pollMs: number;
  /** Attempts of an event the sink refuses (4xx but 404/408/409/429) before it is dead-lettered. */
  readonly maxAttempts: number;
  readonly backoffMs: { readonly base: number; readonly max: number };
  /** Entities whose events are sent at once (one request in flight per entity). */
  readonly concurrency: number;
  /** Entries held in memory at most (read ahead of sending). */
  readonly maxQueued?: number;
  /** Spreads the shards over the live relays; without it a relay takes every free shard. */
  readonly balance?: ShardBalance;
  readonly logger?: Logger;
}

export interface RelayStats {
  readonly published: number;
  readonly retried: number;
  readonly deadLettered: number;
}
