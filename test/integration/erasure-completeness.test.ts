import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/store/memory-store.js";
import { OUTBOX_GROUP, OutboxKeys, outboxShard } from "../../src/store/outbox-keys.js";
import { RedisStore } from "../../src/store/redis-store.js";
import type { AppendRequest, EntityKey, OutboxMessage, StateStore } from "../../src/store/state-store.js";
import { redisAvailable } from "../support/redis.js";
import { connectRedisStore } from "../support/redis-store.js";
import { redisForSuite } from "../support/redis-suite.js";

const counter = (entityId: string): EntityKey => ({ entityType: "counter", entityId });
/** The erased entity, one whose id extends it past a NUL, and one that shares its prefix. */
const ERASED = counter("c1");
const NEIGHBOURS = [counter("c1\u0000x"), counter("c10")];

function message(key: EntityKey, version: number): OutboxMessage {
  return {
    id: `${key.entityType}/${key.entityId}/${version}`,
    entityType: key.entityType,
    entityId: key.entityId,
    version,
    type: "com.example.counter.changed",
    data: { by: 1 },
    time: new Date(0).toISOString(),
  };
}

/** Three appends per entity: events, dedup records, a timer and an outbox message each. */
async function populate(store: StateStore, key: EntityKey): Promise<void> {
  for (let v = 0; v < 3; v++) {
    const result = await store.append({
      key,
      expectedVersion: v,
      events: [{ type: "changed", data: { by: 1 } }],
      logEvents: true,
      checkDedup: [`d${v}`],
      writeDedup: [[`d${v}`, { version: v + 1, reply: { value: v + 1 }, replyId: `r${v}` }]],
      dedupTtlMs: 600_000,
      timers: [
        {
          kind: "set",
          timer: { name: `t${v}`, due: Date.now() + 3_600_000, command: "increment", data: { by: 1 } },
        },
      ],
      outbox: [message(key, v + 1)],
    });
    expect(result).toEqual({ kind: "ok", version: v + 1 });
  }
}

/** One event appended at `version`, with its outbox message. */
function appendAfter(key: EntityKey, version: number): AppendRequest {
  return {
    key,
    expectedVersion: version,
    events: [{ type: "changed", data: { by: 7 } }],
    logEvents: true,
    checkDedup: [],
    writeDedup: [],
    dedupTtlMs: 600_000,
    outbox: [message(key, version + 1)],
  };
}

type Outbox = () => Promise<OutboxMessage[]>;
type Store = MemoryStore | RedisStore;

/** `around(erase)` runs the erasure, with what the store's suite does before and after it. */
function erasureSuite(
  open: () => Promise<{ store: Store; outbox: Outbox }>,
  around: (erase: () => Promise<void>) => Promise<void> = (erase) => erase(),
) {
  let store: Store;
  let outbox: Outbox;
  beforeAll(async () => {
    ({ store, outbox } = await open());
    for (const key of [ERASED, ...NEIGHBOURS]) await populate(store, key);
    await around(async () => {
      expect(await store.delete(ERASED)).toEqual({ erased: true, version: 4 });
    });
  });
  afterAll(async () => {
    await store?.close();
  });

  it("removes the entity's pending timers and their due entries", async () => {
    expect(await store.timers.listTimers(ERASED)).toEqual([]);
    expect(await store.timers.countPending()).toBe(6);
    const claimed = await store.timers.claimDue(Date.now() + 7_200_000, 100, 60_000);
    expect(claimed.map((c) => c.key.entityId).sort()).toEqual([
      "c1\u0000x",
      "c1\u0000x",
      "c1\u0000x",
      "c10",
      "c10",
      "c10",
    ]);
  });

  it("removes its outbox messages not yet published, and no other entity's", async () => {
    const ids = (await outbox()).map((m) => m.id).sort();
    expect(ids).toEqual(NEIGHBOURS.flatMap((key) => [1, 2, 3].map((v) => message(key, v).id)).sort());
  });

  it("removes its entry of the entity index", async () => {
    const page = await store.listEntities("counter", { prefix: "", limit: 10, cursor: undefined });
    expect([...page.ids].sort()).toEqual(["c1\u0000x", "c10"]);
  });

  it("keeps the dedup records of ids that extend or share its id", async () => {
    for (const key of NEIGHBOURS) {
      const { duplicates } = await store.check(key, ["d0", "d1", "d2"]);
      expect([...duplicates.keys()], key.entityId).toEqual(["d0", "d1", "d2"]);
      expect(await store.listDedup(key)).toHaveLength(3);
    }
    expect((await store.check(ERASED, ["d0", "d1", "d2"])).duplicates.size).toBe(0);
    expect(await store.listDedup(ERASED)).toEqual([]);
  });

  it("keeps what is appended after the erasure, and lists the entity again", async () => {
    const appended = await store.append(appendAfter(ERASED, 4));
    expect(appended).toEqual({ kind: "ok", version: 5 });
    expect((await outbox()).map((m) => m.id)).toContain("counter/c1/5");
    // Its first append after the erasure enters it in the index again, newest first.
    const page = await store.listEntities("counter", { prefix: "", limit: 10, cursor: undefined });
    expect(page.ids[0]).toBe("c1");
    expect([...page.ids].sort()).toEqual(["c1", "c1\u0000x", "c10"]);
    expect(await store.countEntities("counter")).toBe(3);
  });
}

describe("erasure in the memory store reaches timers, outbox, index and only its own records", () => {
  erasureSuite(() => {
    const store = new MemoryStore();
    const outbox: Outbox = () => {
      const all = [];
      for (let shard = 0; shard < store.outbox.shards; shard++) {
        // Handed out (pending) and waiting alike.
        all.push(...store.outbox.pending(shard), ...store.outbox.read(shard, 1000));
      }
      return Promise.resolve(all.map((e) => JSON.parse(e.message) as OutboxMessage));
    };
    return Promise.resolve({ store, outbox });
  });
});

describe.skipIf(!redisAvailable())(
  "erasure in Redis reaches timers, outbox, index and only its own records",
  () => {
    const redis = redisForSuite();

    const keys = new OutboxKeys("ks", "erasure");
    erasureSuite(
      async () => {
        const store = await connectRedisStore({ REDIS_URL: redis.server.url, K_SERVICE: "erasure" });
        const outbox: Outbox = async () => {
          const streams = [...Array.from({ length: 4 }, (_, s) => keys.stream(s)), keys.dead];
          const all: OutboxMessage[] = [];
          for (const s of streams)
            for (const [, fields] of await redis.client.xrange(s, "-", "+"))
              all.push(JSON.parse(fields[fields.indexOf("m") + 1]!) as OutboxMessage);
          return all;
        };
        return { store, outbox };
      },
      async (erase) => {
        // One of the erased entity's messages handed to a relay and not acknowledged, one dead-lettered.
        const stream = keys.stream(outboxShard(ERASED));
        await redis.client.xgroup("CREATE", stream, OUTBOX_GROUP, "0", "MKSTREAM");
        await redis.client.xreadgroup("GROUP", OUTBOX_GROUP, "relay-1", "COUNT", 1, "STREAMS", stream, ">");
        await redis.client.xadd(keys.dead, "*", "m", JSON.stringify(message(ERASED, 1)), "reason", "400");
        await erase();
        const pending = (await redis.client.xpending(stream, OUTBOX_GROUP)) as [number];
        expect(pending[0]).toBe(0);
      },
    );

    it("drops the tombstone's mark when the index was turned off between the erasure and the next append", async () => {
      const config = { REDIS_URL: redis.server.url, K_SERVICE: "erasure-off" };
      const indexed = await connectRedisStore(config);
      const unindexed = await connectRedisStore({ ...config, KNSTATE_ENTITY_INDEX: "false" });
      try {
        const key = counter("off");
        await populate(indexed, key);
        await indexed.delete(key);
        expect(await redis.client.hgetall("ks:erasure-off:counter:{off}:m")).toEqual({ v: "4", i: "1" });
        const again = { ...appendAfter(key, 4), outbox: [] };
        expect(await unindexed.append(again)).toEqual({ kind: "ok", version: 5 });
        expect(await redis.client.hget("ks:erasure-off:counter:{off}:m", "i")).toBeNull();
        expect(await indexed.countEntities("counter")).toBe(0);
      } finally {
        await indexed.close();
        await unindexed.close();
      }
    });

    it("leaves no key under the erased entity's hash tag but its tombstone", async () => {
      const [, found] = await redis.client.scan("0", "MATCH", "ks:erasure:counter:{c1}:*", "COUNT", 10_000);
      expect(found).toEqual(["ks:erasure:counter:{c1}:m"]);
    });
  },
);
