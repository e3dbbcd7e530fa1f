import { describe, expect, it } from "vitest";
import type { Component } from "../../../src/entity/define.js";
import { defineEntity } from "../../../src/entity/define.js";
import { toModel } from "../../../src/entity/model.js";
import { EntityCache, entryBytes, type CachedEntity } from "../../../src/pipeline/entity-cache.js";
import { CountingStore, increment, pipeline } from "./helpers.js";

const entry = (version: number, jsonLength: number): CachedEntity => ({
  state: { version },
  version,
  jsonLength,
});

const big = toModel(
  defineEntity({
    name: "big",
    typePrefix: "com.example",
    initialState: () => ({ text: "x".repeat(50_000), n: 0 }),
    events: { added: (s: { text: string; n: number }) => ({ ...s, n: s.n + 1 }) },
    commands: { add: () => [{ type: "added", data: {} }] },
  }) as unknown as Component,
);

describe("entity cache bounded by bytes", () => {
  it("evicts the least recently used entities once their estimated bytes pass the budget", () => {
    const perEntry = entryBytes(entry(1, 1000));
    const cache = new EntityCache({ maxEntities: 1000, maxBytes: 10 * perEntry });
    for (let i = 0; i < 20; i++) cache.set(`e${i}`, entry(i, 1000));
    expect(cache.size).toBe(10);
    expect(cache.bytes).toBeLessThanOrEqual(10 * perEntry);
    expect(cache.get("e0")).toBeUndefined();
    expect(cache.get("e9")).toBeUndefined();
    expect(cache.get("e10")?.version).toBe(10);
    expect(cache.get("e19")?.version).toBe(19);
  });

  it("still bounds the number of entities", () => {
    const cache = new EntityCache({ maxEntities: 3, maxBytes: 1 << 30 });
    for (let i = 0; i < 5; i++) cache.set(`e${i}`, entry(i, 10));
    expect(cache.size).toBe(3);
    expect(cache.get("e1")).toBeUndefined();
  });

  it("does not cache an entity larger than the budget, and drops its older cached state", () => {
    const cache = new EntityCache({ maxEntities: 10, maxBytes: 10_000 });
    cache.set("e", entry(1, 10));
    cache.set("e", entry(2, 100_000));
    expect(cache.get("e")).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it("does not put back an older state than the one cached", () => {
    const cache = new EntityCache({ maxEntities: 10, maxBytes: 1 << 20 });
    cache.set("e", entry(5, 10));
    cache.offer("e", entry(4, 10));
    expect(cache.get("e")?.version).toBe(5);
    cache.offer("e", entry(6, 10));
    expect(cache.get("e")?.version).toBe(6);
  });

  it("in the pipeline, loads an entity too large for the budget at every command, while small ones stay cached", async () => {
    const store = new CountingStore();
    const p = pipeline(store, { cache: { enabled: true, maxEntities: 100, maxBytes: 64 * 1024 } });
    for (let i = 0; i < 5; i++) await p.dispatch({ model: big, entityId: "b", command: "add", data: {} });
    expect(store.loads).toBe(5);
    const loadsBefore = store.loads;
    for (let i = 0; i < 5; i++) await p.dispatch(increment("small"));
    expect(store.loads).toBe(loadsBefore + 1);
    expect((await p.read(big, "b")).state).toMatchObject({ n: 5 });
  });

  it("in the pipeline, counts a loaded entity by the JSON the store read", async () => {
    const store = new CountingStore();
    const writer = pipeline(store, { cache: { enabled: false, maxEntities: 0 } });
    await writer.dispatch({ model: big, entityId: "m", command: "add", data: {} });
    const readTwice = async (maxBytes: number) => {
      const p = pipeline(store, { cache: { enabled: true, maxEntities: 100, maxBytes } });
      const before = store.loads;
      await p.read(big, "m");
      await p.read(big, "m");
      return store.loads - before;
    };
    // About 50,000 characters of stored JSON, counted 3 bytes each: 150 KB.
    expect(await readTwice(100_000)).toBe(2);
    expect(await readTwice(200_000)).toBe(1);
  });
});
