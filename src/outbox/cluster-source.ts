import type { Cluster, Redis } from "ioredis";
import { CLUSTER_OUTBOX_GROUPS, groupSlots, OutboxKeys, slotGroup } from "../store/outbox-keys.js";
import { KeyLayout } from "../store/redis-keys.js";
import { keySlot, SLOT_COUNT } from "../store/slot-tags.js";
import type { EntityKey } from "../store/state-store.js";
import { RedisStreams } from "./redis-streams.js";
import type { OutboxEntry, OutboxSource } from "./source.js";

/**
 * The slot streams among KEYS that hold entries: their positions (1-based), and with ARGV[1] =
 * "sum" instead their total length and the oldest entry's time. One script per master, over the
 * slots it serves (Redis 7's allow-cross-slot-keys: the keys are of many slots of this node).
 */
const PROBE = `#!lua flags=no-writes,allow-cross-slot-keys
local found, total, oldest = {}, 0, -1
for i = 1, #KEYS do
  local n = redis.call('XLEN', KEYS[i])
  if n > 0 then
    found[#found + 1] = i
    total = total + n
    if ARGV[1] == 'sum' then
      local first = redis.call('XRANGE', KEYS[i], '-', '+', 'COUNT', 1)[1]
      local ms = tonumber(string.match(first[1], '^(%d+)'))
      if oldest < 0 or ms < oldest then oldest = ms end
    end
  end
end
if ARGV[1] == 'sum' then return {total, oldest} end
return found`;

export interface ClusterSourceOptions {
  readonly prefix: string;
  readonly service: string;
  /** How often a group's slots are swept for streams with entries. */
  readonly sweepMs: number;
}

/**
 * The outbox on Redis Cluster (docs/outbox.md): a stream per slot, written by the append in the
 * entity's slot. A lease per group of slots; its holder finds the group's non-empty streams with
 * a sweep every `sweepMs` (one script per master, `XLEN` of each slot's stream: its cost follows
 * the number of slots, not of keys) and reads the stream of an entity this pod just wrote to at
 * once. Claims, reads, acknowledgements and dead letters are per stream.
 */
export class ClusterOutboxSource implements OutboxSource {
  readonly shards = CLUSTER_OUTBOX_GROUPS;
  readonly #client: Cluster;
  readonly #keys: OutboxKeys;
  readonly #layout: KeyLayout;
  readonly #streams: RedisStreams;
  readonly #sweepMs: number;
  /** Per group: streams that may hold unread entries, and when the group was last swept. */
  readonly #active = Array.from({ length: CLUSTER_OUTBOX_GROUPS }, () => new Set<string>());
  readonly #swept = new Array<number>(CLUSTER_OUTBOX_GROUPS).fill(0);

  constructor(client: Cluster, options: ClusterSourceOptions) {
    this.#client = client;
    this.#keys = new OutboxKeys(options.prefix, options.service, true);
    this.#layout = new KeyLayout(options.prefix, options.service);
    this.#streams = new RedisStreams(client);
    this.#sweepMs = options.sweepMs;
  }

  get keys(): OutboxKeys {
    return this.#keys;
  }

  acquire(group: number, consumer: string, ttlMs: number): Promise<boolean> {
    return this.#streams.lease(this.#keys.groupLease(group), consumer, ttlMs);
  }

  async release(group: number, consumer: string): Promise<void> {
    this.#swept[group] = 0;
    await this.#streams.release(this.#keys.groupLease(group), consumer);
  }

  async streams(group: number): Promise<readonly string[]> {
    const active = this.#active[group]!;
    if (Date.now() - this.#swept[group]! >= this.#sweepMs) {
      const [first, last] = groupSlots(group);
      const slots = Array.from({ length: last - first + 1 }, (_, i) => first + i);
      for (const slot of await this.#nonEmpty(slots)) active.add(this.#keys.slotStream(slot));
      this.#swept[group] = Date.now();
    }
    return [...active];
  }

  committed(key: EntityKey): void {
    const slot = keySlot(this.#layout.entity(key).meta);
    this.#active[slotGroup(slot)]!.add(this.#keys.slotStream(slot));
  }

  claim(group: number, stream: string, consumer: string): Promise<OutboxEntry[]> {
    return this.#streams.claim(group, stream, consumer);
  }

  async read(group: number, stream: string, consumer: string, count: number): Promise<OutboxEntry[]> {
    const entries = await this.#streams.read(group, stream, consumer, count);
    // Read to the end: the next sweep, or this pod's next commit there, brings it back.
    if (entries.length === 0) this.#active[group]!.delete(stream);
    return entries;
  }

  ack(stream: string, ids: readonly string[]): Promise<void> {
    return this.#streams.ack(stream, ids);
  }

  deadLetter(entry: OutboxEntry, reason: string): Promise<void> {
    return this.#streams.deadLetter(this.#keys.dead, entry, reason, false);
  }

  async backlog(): Promise<{ length: number; oldest: number | undefined }> {
    let length = 0;
    let oldest: number | undefined;
    const all = Array.from({ length: SLOT_COUNT }, (_, i) => i);
    await Promise.all(
      [...this.#byMaster(all)].map(async ([node, slots]) => {
        const keys = slots.map((s) => this.#keys.slotStream(s));
        let sum: [number, number];
        try {
          sum = (await node.eval(PROBE, keys.length, ...keys, "sum")) as [number, number];
        } catch {
          sum = await this.#sumOneByOne(keys);
        }
        length += sum[0];
        if (sum[1] >= 0 && (oldest === undefined || sum[1] < oldest)) oldest = sum[1];
      }),
    );
    return { length, oldest };
  }

  /** The slots among `slots` whose stream holds entries, asking each master about its own. */
  async #nonEmpty(slots: readonly number[]): Promise<number[]> {
    const found: number[] = [];
    await Promise.all(
      [...this.#byMaster(slots)].map(async ([node, mine]) => {
        const keys = mine.map((s) => this.#keys.slotStream(s));
        try {
          const at = (await node.eval(PROBE, keys.length, ...keys, "find")) as number[];
          for (const i of at) found.push(mine[i - 1]!);
        } catch {
          // A slot moving between masters (or a stale map): ask slot by slot, redirections followed.
          const lengths = await Promise.all(keys.map((k) => this.#client.xlen(k)));
          lengths.forEach((n, i) => n > 0 && found.push(mine[i]!));
        }
      }),
    );
    return found;
  }

  async #sumOneByOne(keys: readonly string[]): Promise<[number, number]> {
    let total = 0;
    let oldest = -1;
    await Promise.all(
      keys.map(async (key) => {
        const [first] = (await this.#client.xrange(key, "-", "+", "COUNT", 1)) as Array<[string, string[]]>;
        if (first === undefined) return;
        total += await this.#client.xlen(key);
        const ms = Number(first[0].split("-")[0]);
        if (oldest < 0 || ms < oldest) oldest = ms;
      }),
    );
    return [total, oldest];
  }

  /** `slots` by the master serving them, as the client's slot map has it. */
  #byMaster(slots: readonly number[]): Map<Redis, number[]> {
    const masters = new Map(
      this.#client.nodes("master").map((n) => [`${n.options.host}:${n.options.port}`, n]),
    );
    const out = new Map<Redis, number[]>();
    const unknown: number[] = [];
    for (const slot of slots) {
      const node = masters.get(this.#client.slots[slot]?.[0] ?? "");
      if (node === undefined) {
        unknown.push(slot);
        continue;
      }
      let list = out.get(node);
      if (list === undefined) out.set(node, (list = []));
      list.push(slot);
    }
    // Slots the map does not place go with any master: the script fails there and the slots are
    // asked one by one, through the client's redirections.
    const any = masters.values().next().value;
    if (unknown.length > 0 && any !== undefined) out.set(any, [...(out.get(any) ?? []), ...unknown]);
    return out;
  }
}
