import { Cluster, type Redis } from "ioredis";
import { timerMember } from "./append-encoding.js";
import type { KeyLayout } from "./redis-keys.js";
import { DueSlots } from "./redis-timer-slots.js";
import { slotTagOf } from "./slot-tags.js";
import type { EntityKey } from "./state-store.js";
import type { ClaimedTimer, StoredTimer, TimerChange, TimerStore } from "./timer-store.js";

/**
 * Claims due members of one due index: each gets the score now + lease, so other pods skip it
 * until the lease ends. KEYS: due index. ARGV: now ms, limit, lease ms.
 * Reply: {members claimed, the index's earliest score after the claim or false when empty}.
 */
const CLAIM_SCRIPT = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[3])
for i = 1, #due do redis.call('ZADD', KEYS[1], 'XX', until_, due[i]) end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {due, first[2] or false}
`;

/**
 * Settles a fired timer. KEYS: the entity's timer hash, its due index. ARGV: name, the due time
 * fired, the next due time ("" for none), member, the timer JSON at the next due time.
 * Replies 0 gone (stale member dropped), 1 replaced meanwhile (left as is), 2 removed, 3 moved.
 */
const SETTLE_SCRIPT = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then redis.call('ZREM', KEYS[2], ARGV[4]); return 0 end
if tonumber(cjson.decode(raw).due) ~= tonumber(ARGV[2]) then return 1 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1]); redis.call('ZREM', KEYS[2], ARGV[4]); return 2
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5]); redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4]); return 3
`;

export interface RedisTimersOptions {
  /** Redis Cluster: how often a pod scans the masters for slot due indexes (see redis-timer-slots.ts). */
  readonly sweepMs?: number;
}

/**
 * The Redis store's timers: per entity a hash `…:{id}:t` (name → timer JSON) written by the
 * append script, and a due index (a sorted set by due time) written by the same script. On a
 * standalone server or Sentinel it is one index for the service, `…:timers:due`; on a Redis
 * Cluster each slot has its own, `…:timers:due:{<slot tag>}`, in the slot of the entities it
 * indexes, so the append, the claim and the settle each touch one slot. See docs/timers.md.
 */
export class RedisTimers implements TimerStore {
  readonly #client: Redis | Cluster;
  readonly #keys: KeyLayout;
  /** The registry of slots with timers; only on a cluster. */
  readonly #slots: DueSlots | undefined;

  constructor(client: Redis | Cluster, keys: KeyLayout, options: RedisTimersOptions = {}) {
    this.#client = client;
    this.#keys = keys;
    this.#slots =
      client instanceof Cluster ? new DueSlots(client, keys, options.sweepMs ?? 60_000) : undefined;
  }

  /** The due index of an entity's timers: the service's, or on a cluster its slot's. */
  dueIndexOf(key: EntityKey): string {
    if (this.#slots === undefined) return this.#keys.dueIndex;
    return this.#keys.slotDueIndex(this.#tagOf(key));
  }

  /** Whether appends that set timers register them after the commit (`indexed`): on a cluster. */
  get registers(): boolean {
    return this.#slots !== undefined;
  }

  /**
   * After an append that changed `changes` committed: on a cluster, registers the entity's
   * slot as holding a timer due at the earliest time set. Nothing to do on a standalone server.
   */
  async indexed(key: EntityKey, changes: readonly TimerChange[]): Promise<void> {
    if (this.#slots === undefined) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const change of changes) if (change.kind === "set") earliest = Math.min(earliest, change.timer.due);
    if (earliest !== Number.POSITIVE_INFINITY) await this.#slots.lower(this.#tagOf(key), earliest);
  }

  async listTimers(key: EntityKey): Promise<StoredTimer[]> {
    const raw = await this.#client.hvals(this.#keys.entity(key).timers);
    return raw.map((text) => JSON.parse(text) as StoredTimer).sort((a, b) => a.due - b.due);
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<ClaimedTimer[]> {
    if (this.#slots === undefined) return this.#claimFrom(this.#keys.dueIndex, now, limit, leaseMs);
    const slots = this.#slots;
    const tags = await slots.due(now, limit);
    // Each slot's share of the batch; a slot with more due stays due in the registry.
    const share = Math.max(1, Math.ceil(limit / Math.max(1, tags.length)));
    const claimed = await Promise.all(
      tags.map((tag) =>
        this.#claimFrom(this.#keys.slotDueIndex(tag), now, share, leaseMs, (first) =>
          slots.settled(tag, first),
        ),
      ),
    );
    return claimed.flat();
  }

  async settle(key: EntityKey, name: string, firedDue: number, nextDue: number | undefined): Promise<void> {
    const k = this.#keys.entity(key);
    let next = "";
    let json = "";
    if (nextDue !== undefined) {
      const raw = await this.#client.hget(k.timers, name);
      if (raw === null) return;
      next = String(nextDue);
      json = JSON.stringify({ ...(JSON.parse(raw) as StoredTimer), due: nextDue });
    }
    const member = timerMember(key.entityType, key.entityId, name);
    const index = this.dueIndexOf(key);
    const moved = await this.#client.eval(
      SETTLE_SCRIPT,
      2,
      k.timers,
      index,
      name,
      firedDue,
      next,
      member,
      json,
    );
    if (moved === 3 && nextDue !== undefined) await this.#slots?.lower(this.#tagOf(key), nextDue);
  }

  async countPending(): Promise<number> {
    if (this.#slots === undefined) return this.#client.zcard(this.#keys.dueIndex);
    const tags = await this.#slots.tags();
    const counts = await Promise.all(tags.map((tag) => this.#client.zcard(this.#keys.slotDueIndex(tag))));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Cluster: registers every slot due index found on the masters (see DueSlots.sweep). */
  async sweep(): Promise<void> {
    await this.#slots?.sweep();
  }

  async #claimFrom(
    index: string,
    now: number,
    limit: number,
    leaseMs: number,
    after?: (first: number | undefined) => Promise<void>,
  ): Promise<ClaimedTimer[]> {
    const [members, first] = (await this.#client.eval(CLAIM_SCRIPT, 1, index, now, limit, leaseMs)) as [
      string[],
      string | null,
    ];
    await after?.(first === null ? undefined : Number(first));
    if (members.length === 0) return [];
    const parsed = members.map((m) => {
      const [entityType, entityId, name] = JSON.parse(m) as [string, string, string];
      return { key: { entityType, entityId }, name };
    });
    const raws = await Promise.all(
      parsed.map(({ key, name }) => this.#client.hget(this.#keys.entity(key).timers, name)),
    );
    const claimed: ClaimedTimer[] = [];
    for (const [i, { key, name }] of parsed.entries()) {
      const raw = raws[i];
      if (raw === null || raw === undefined) await this.settle(key, name, -1, undefined);
      else claimed.push({ key, timer: JSON.parse(raw) as StoredTimer });
    }
    return claimed;
  }

  #tagOf(key: EntityKey): string {
    return slotTagOf(this.#keys.entity(key).meta);
  }
}
