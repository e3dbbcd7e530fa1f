import type { Redis, Cluster } from "ioredis";
import { timerMember } from "./append-encoding.js";
import type { KeyLayout } from "./redis-keys.js";
import type { EntityKey } from "./state-store.js";
import type { ClaimedTimer, StoredTimer, TimerStore } from "./timer-store.js";

/**
 * Claims due members of the service's due index: each gets the score now + lease, so other
 * pods skip it until the lease ends. KEYS: due index. ARGV: now ms, limit, lease ms.
 */
const CLAIM_SCRIPT = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[3])
for i = 1, #due do redis.call('ZADD', KEYS[1], 'XX', until_, due[i]) end
return due
`;

/**
 * Settles a fired timer. KEYS: the entity's timer hash, the due index. ARGV: name, the due time
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

/**
 * The Redis store's timers: per entity a hash `…:{id}:t` (name → timer JSON) written by the
 * append script, and the service's due index `…:timers:due` (a sorted set by due time). See
 * docs/timers.md for the layout and its Redis Cluster design.
 */
export class RedisTimers implements TimerStore {
  readonly #client: Redis | Cluster;
  readonly #keys: KeyLayout;

  constructor(client: Redis | Cluster, keys: KeyLayout) {
    this.#client = client;
    this.#keys = keys;
  }

  async listTimers(key: EntityKey): Promise<StoredTimer[]> {
    const raw = await this.#client.hvals(this.#keys.entity(key).timers);
    return raw.map((text) => JSON.parse(text) as StoredTimer).sort((a, b) => a.due - b.due);
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<ClaimedTimer[]> {
    const index = this.#keys.dueIndex;
    const members = (await this.#client.eval(CLAIM_SCRIPT, 1, index, now, limit, leaseMs)) as string[];
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
    await this.#client.eval(
      SETTLE_SCRIPT,
      2,
      k.timers,
      this.#keys.dueIndex,
      name,
      firedDue,
      next,
      member,
      json,
    );
  }

  countPending(): Promise<number> {
    return this.#client.zcard(this.#keys.dueIndex);
  }
}
