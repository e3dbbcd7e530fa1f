import type { Cluster, Redis } from "ioredis";
import type { RelayMembers } from "./shard-balance.js";

/**
 * Announces ARGV[1] for ARGV[2] ms in the sorted set KEYS[1] (score: when it expires, by the
 * server's clock, so pods' clocks need not agree), drops the expired, and returns the live
 * members. The set expires with its last member. Only commands the documented ACL grants
 * (docs/redis-acl.md): no ZREMRANGEBYSCORE, no ZRANGE.
 */
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  redis.call('ZREM', KEYS[1], gone)
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')`;

/**
 * The live relays of one service's outbox in one sorted set, `<prefix>:<service>:_outbox:relays`
 * (one key used alone: on Redis Cluster it lives in whichever slot its name hashes to).
 */
export class RedisRelayMembers implements RelayMembers {
  readonly #client: Redis | Cluster;
  readonly #key: string;

  constructor(client: Redis | Cluster, key: string) {
    this.#client = client;
    this.#key = key;
  }

  async heartbeat(member: string, ttlMs: number): Promise<readonly string[]> {
    return (await this.#client.eval(HEARTBEAT, 1, this.#key, member, String(Math.ceil(ttlMs)))) as string[];
  }

  async leave(member: string): Promise<void> {
    await this.#client.zrem(this.#key, member);
  }
}
