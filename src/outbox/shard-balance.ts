import { createHash } from "node:crypto";
import { silentLogger, type Logger } from "../observability/logger.js";

/** The relays of one service's outbox that announced themselves lately (relay-members.ts). */
export interface RelayMembers {
  /** Announces `member` as relaying for `ttlMs` more, and resolves with every live member. */
  heartbeat(member: string, ttlMs: number): Promise<readonly string[]>;
  /** `member` stops relaying (its shards are released): others need not wait for its expiry. */
  leave(member: string): Promise<void>;
}

/** What a relay should hold, given the live relays and the shards it holds. */
export interface ShardPlan {
  /** The most shards this relay holds: `ceil(shards / relays)`. */
  readonly limit: number;
  /** Every shard, the ones this relay prefers first: it takes free shards in this order. */
  readonly order: readonly number[];
  /** Held shards to give up (the least preferred), to come down to `limit`. */
  readonly release: readonly number[];
}

/** The plan without balancing: every shard may be taken, none is given up. */
export function everyShard(shards: number): ShardPlan {
  return { limit: Infinity, order: Array.from({ length: shards }, (_, i) => i), release: [] };
}

/** A weight of `member` for `shard`, the same in every process (rendezvous hashing). */
function weight(member: string, shard: number): number {
  return createHash("sha256").update(`${member}\u0000${shard}`).digest().readUInt32BE(0);
}

/**
 * The shards `self` prefers, first those it weighs most among `members` (rendezvous hashing:
 * every relay works out the same top member for a shard, so relays prefer different shards),
 * then by its own weight.
 */
export function shardOrder(shards: number, members: readonly string[], self: string): number[] {
  const others = members.filter((m) => m !== self);
  const ranked = Array.from({ length: shards }, (_, shard) => {
    const mine = weight(self, shard);
    const rank = others.filter((m) => weight(m, shard) > mine).length;
    return { shard, rank, mine };
  });
  ranked.sort((a, b) => a.rank - b.rank || b.mine - a.mine || a.shard - b.shard);
  return ranked.map((r) => r.shard);
}

/**
 * The pure decision: with `members` live relays (`self` counted even when missing), hold at most
 * `ceil(shards / relays)` shards, and give up the least preferred of those held beyond that.
 */
export function planShards(input: {
  readonly shards: number;
  readonly members: readonly string[];
  readonly self: string;
  readonly held: Iterable<number>;
  /** A precomputed `shardOrder` of the same members. */
  readonly order?: readonly number[];
}): ShardPlan {
  const { shards, self } = input;
  const members = input.members.includes(self) ? input.members : [...input.members, self];
  const limit = Math.ceil(shards / members.length);
  const order = input.order ?? shardOrder(shards, members, self);
  const held = new Set(input.held);
  const release = order.filter((s) => held.has(s)).slice(limit);
  return { limit, order, release };
}

export interface ShardBalanceOptions {
  /** This relay's consumer name. */
  readonly self: string;
  readonly shards: number;
  /** How long an announcement lasts: the lease time, so a dead relay leaves with its leases. */
  readonly ttlMs: number;
  readonly logger?: Logger;
}

/**
 * Spreads the outbox shards over the live relays: each announces itself every quarter of
 * `ttlMs`, and plans from the relays announced. A relay over its share gives shards up only
 * once two announcements in a row saw it over (a relay that joins or leaves moves shards once,
 * a late announcement does not); a relay under its share takes free shards at once.
 */
export class ShardBalance {
  readonly #members: RelayMembers;
  readonly #o: ShardBalanceOptions;
  readonly #logger: Logger;
  #live: readonly string[];
  #order: readonly number[];
  #beat = -Infinity;
  /** Announcements in a row that found this relay over its share. */
  #over = 0;

  constructor(members: RelayMembers, options: ShardBalanceOptions) {
    this.#members = members;
    this.#o = options;
    this.#logger = options.logger ?? silentLogger;
    this.#live = [options.self];
    this.#order = shardOrder(options.shards, this.#live, options.self);
  }

  /** The relays seen at the last announcement. */
  get relays(): number {
    return this.#live.length;
  }

  /** What to hold now, announcing this relay first when due. */
  async plan(held: Iterable<number>, now = Date.now()): Promise<ShardPlan> {
    const { self, shards, ttlMs } = this.#o;
    const beat = now - this.#beat >= ttlMs / 4;
    if (beat) {
      this.#beat = now;
      try {
        const live = [...(await this.#members.heartbeat(self, ttlMs))].sort();
        if (live.join("\n") !== this.#live.join("\n")) {
          this.#order = shardOrder(shards, live, self);
          this.#logger.info("outbox relay: relays of this outbox changed", { relays: live.length });
        }
        this.#live = live;
      } catch (error) {
        // Keep the last view: the leases alone still keep one relay per shard.
        this.#logger.warn("outbox relay: announcing this relay failed", { error });
      }
    }
    const plan = planShards({ shards, members: this.#live, self, held, order: this.#order });
    if (beat) this.#over = plan.release.length > 0 ? this.#over + 1 : 0;
    return this.#over >= 2 ? plan : { ...plan, release: [] };
  }

  /** Leaves the relays (on stop), so the others take the shards without waiting. */
  async close(): Promise<void> {
    await this.#members.leave(this.#o.self).catch(() => undefined);
  }
}
