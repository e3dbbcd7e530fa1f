import { describe, expect, it } from "vitest";
import { eraseEntity } from "../../src/http/erase-route.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { StateStore } from "../../src/store/state-store.js";
import { startHost, type RunningHost } from "../support/host.js";
import { redisAvailable } from "../support/redis.js";
import { connectRedisStore } from "../support/redis-store.js";
import { redisForSuite } from "../support/redis-suite.js";

async function command(host: RunningHost, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${host.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Writes events, a snapshot and dedup records for counters c1 and c2, erases c1, checks both. */
async function eraseAndCheck(
  host: RunningHost,
  store: StateStore,
  afterErase: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  for (let i = 0; i < 40; i++)
    for (const id of ["c1", "c2"])
      await command(host, `/counter/${id}/increment`, { by: 1 }, { "idempotency-key": `k${i}` });
  const erased = await eraseEntity({ registry: host.host.registry, store }, "counter", "c1");
  expect(erased).toEqual({ entity: "counter", id: "c1", erased: true, version: 41 });
  expect(await store.readEvents({ entityType: "counter", entityId: "c1" }, 1)).toEqual([]);
  await afterErase();
  // The next command starts from the initial state, and a redelivered key is not a duplicate.
  expect(await command(host, "/counter/c1/increment", { by: 5 }, { "idempotency-key": "k0" })).toEqual({
    status: 200,
    body: { value: 5 },
  });
  // A writer that decided on the erased state conflicts with the tombstone.
  const stale = await store.append({
    key: { entityType: "counter", entityId: "c1" },
    expectedVersion: 40,
    events: [{ type: "changed", data: { by: 1 } }],
    logEvents: true,
    checkDedup: [],
    writeDedup: [],
    dedupTtlMs: 1000,
  });
  expect(stale.kind).toBe("conflict");
  const other = await (await fetch(`${host.url}/counter/c2`)).json();
  expect(other).toEqual({ state: { value: 40 }, version: 40 });
  expect(await store.readEvents({ entityType: "counter", entityId: "c2" }, 1)).toHaveLength(40);
  expect(await eraseEntity({ registry: host.host.registry, store }, "counter", "never")).toEqual({
    entity: "counter",
    id: "never",
    erased: false,
    version: 0,
  });
}

describe("erasing an entity in the memory store", () => {
  it("removes its data, starts it over and leaves others untouched", async () => {
    const store = new MemoryStore();
    const host = await startHost({ store });
    try {
      await eraseAndCheck(host, store);
    } finally {
      await host.close();
    }
  });
});

describe.skipIf(!redisAvailable())("erasing an entity in Redis", () => {
  const redis = redisForSuite();

  async function keysOf(id: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = "0";
    do {
      const [next, keys] = await redis.client.scan(cursor, "MATCH", `*{${id}}*`, "COUNT", 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
    return found.sort();
  }

  it("deletes every key under its hash tag atomically but a version tombstone", async () => {
    const store = await connectRedisStore({ REDIS_URL: redis.server.url, K_SERVICE: "erase" });
    const host = await startHost({ store });
    try {
      // A dedup record of the former layout (a string key), as an older version wrote them.
      await redis.client.set("ks:erase:counter:{c1}:d:r:old", "1|u", "PX", 600_000);
      await eraseAndCheck(host, store, async () => {
        expect(await keysOf("c1")).toEqual(["ks:erase:counter:{c1}:m"]);
        // `i`: the next append enters the entity in the index again.
        expect(await redis.client.hgetall("ks:erase:counter:{c1}:m")).toEqual({ v: "41", i: "1" });
      });
      expect(await keysOf("c1")).toEqual(["ks:erase:counter:{c1}:m"]);
      expect(await redis.client.hget("ks:erase:counter:{c1}:m", "v")).toBe("42");
      expect(await keysOf("c2")).toEqual(["ks:erase:counter:{c2}:e", "ks:erase:counter:{c2}:m"]);
    } finally {
      await host.close();
    }
  });
});
