import type { Cluster, Redis } from "ioredis";
import { OUTBOX_GROUP } from "../store/outbox-keys.js";
import { script, withScriptFallback } from "../store/script-sender.js";
import { entryOf, type OutboxEntry } from "./source.js";

const LEASE = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** Expires the lease at once if it is still ARGV[1]'s (PEXPIRE, not DEL: the ACL grants no DEL). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], 1) end
return 1`;

/** XGROUP CREATE as a script: the stream is then a declared key, routed to its slot on a cluster. */
const GROUP = `
local created = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP', 1, true) then
  return redis.error_reply(created.err)
end
return 1`;

/**
 * XACK then XDEL of the entries ARGV[2..] in the group ARGV[1]: one command instead of a
 * MULTI/EXEC of four (a relay acknowledges hundreds of times a second), atomic all the same.
 * In chunks, as `unpack` has a bounded stack; a group that is gone (NOGROUP: deleted by an
 * operator) does not fail the acknowledgement: the entries are deleted all the same.
 */
const ACK = script(`
local n = #ARGV
for i = 2, n, 500 do
  local j = math.min(i + 499, n)
  redis.pcall('XACK', KEYS[1], ARGV[1], unpack(ARGV, i, j))
  redis.call('XDEL', KEYS[1], unpack(ARGV, i, j))
end
return 1`);

type StreamEntry = [id: string, fields: string[] | null];

/**
 * The commands on outbox streams and leases that standalone Redis, Sentinel and Redis Cluster
 * share: leases (`SET PX` renewed by their holder), the consumer group, `XAUTOCLAIM`,
 * `XREADGROUP`, and acknowledgement with deletion. Every command names keys of one slot.
 */
export class RedisStreams {
  readonly #client: Redis | Cluster;
  /** Streams whose consumer group this process created (or found). */
  readonly #groups = new Set<string>();

  constructor(client: Redis | Cluster) {
    this.#client = client;
  }

  async lease(key: string, consumer: string, ttlMs: number): Promise<boolean> {
    return (await this.#client.eval(LEASE, 1, key, consumer, String(ttlMs))) === 1;
  }

  async release(key: string, consumer: string): Promise<void> {
    await this.#client.eval(RELEASE, 1, key, consumer);
  }

  /** Creates the stream's consumer group (from its first entry) unless it exists. */
  async group(stream: string): Promise<void> {
    if (this.#groups.has(stream)) return;
    await this.#client.eval(GROUP, 1, stream, OUTBOX_GROUP);
    this.#groups.add(stream);
  }

  async claim(shard: number, stream: string, consumer: string): Promise<OutboxEntry[]> {
    await this.group(stream);
    const out: OutboxEntry[] = [];
    let start = "0-0";
    do {
      const [next, entries] = (await this.#client.xautoclaim(
        stream,
        OUTBOX_GROUP,
        consumer,
        0,
        start,
        "COUNT",
        500,
      )) as [string, StreamEntry[]];
      out.push(...entriesOf(shard, stream, entries));
      start = next;
    } while (start !== "0-0");
    return out;
  }

  async read(shard: number, stream: string, consumer: string, count: number): Promise<OutboxEntry[]> {
    await this.group(stream);
    let reply: Array<[string, StreamEntry[]]> | null;
    try {
      reply = (await this.#client.xreadgroup(
        "GROUP",
        OUTBOX_GROUP,
        consumer,
        "COUNT",
        count,
        "STREAMS",
        stream,
        ">",
      )) as Array<[string, StreamEntry[]]> | null;
    } catch (error) {
      // The stream or its group is gone (deleted by an operator, a slot migrated without it).
      if (String((error as Error).message).includes("NOGROUP")) this.#groups.delete(stream);
      throw error;
    }
    return reply === null ? [] : entriesOf(shard, stream, reply[0]![1]);
  }

  async ack(stream: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    // By its SHA-1: the script's text is not sent and hashed again on every acknowledgement.
    await withScriptFallback(ACK, (command, source) =>
      this.#client[command](source, 1, stream, OUTBOX_GROUP, ...ids),
    );
  }

  /**
   * Adds the entry to `dead` and acknowledges it: one transaction when both keys are in one
   * slot (standalone), else the dead letter first (a crash in between dead-letters it twice).
   */
  async deadLetter(dead: string, entry: OutboxEntry, reason: string, atomic: boolean): Promise<void> {
    const fields = ["m", JSON.stringify(entry.message), "reason", reason, "from", entry.id];
    if (!atomic) {
      await this.#client.xadd(dead, "*", ...fields);
      await this.ack(entry.stream, [entry.id]);
      return;
    }
    await this.#client
      .multi()
      .xadd(dead, "*", ...fields)
      .xack(entry.stream, OUTBOX_GROUP, entry.id)
      .xdel(entry.stream, entry.id)
      .exec();
  }
}

function entriesOf(shard: number, stream: string, entries: readonly StreamEntry[]): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  for (const [id, fields] of entries) {
    if (fields === null) continue;
    const i = fields.indexOf("m");
    out.push(entryOf(shard, stream, id, i >= 0 ? (fields[i + 1] ?? "") : ""));
  }
  return out;
}
