import { describe, expect, it } from "vitest";
import { CountingStore, GatedStore, counterModel, increment, pipeline } from "./helpers.js";

describe("pipeline read path", () => {
  it("answers the last acknowledged state without waiting behind the entity's commands", async () => {
    const store = new GatedStore();
    const p = pipeline(store);
    const inFlight = p.dispatch(increment("busy"));
    // The command's append is held by the store: the read is not queued behind it.
    await expect(p.read(counterModel, "busy")).resolves.toEqual({ state: { value: 0 }, version: 0 });
    store.release();
    await expect(inFlight).resolves.toMatchObject({ version: 1 });
    await expect(p.read(counterModel, "busy")).resolves.toEqual({ state: { value: 1 }, version: 1 });
  });

  it("reads an entity never written as its initial state at version 0, and stores nothing", async () => {
    const store = new CountingStore();
    const p = pipeline(store);
    await expect(p.read(counterModel, "nobody")).resolves.toEqual({ state: { value: 0 }, version: 0 });
    expect(store.appends).toHaveLength(0);
  });

  it("loads once, then answers from the cache after one version check per read", async () => {
    const store = new CountingStore();
    const writer = pipeline(store);
    await writer.dispatch(increment("r"));
    const reader = pipeline(store);
    const [loadsBefore, checksBefore] = [store.loads, store.checks];
    expect((await reader.read(counterModel, "r")).state).toEqual({ value: 1 });
    expect((await reader.read(counterModel, "r")).state).toEqual({ value: 1 });
    expect(store.loads).toBe(loadsBefore + 1);
    expect(store.checks).toBe(checksBefore + 1);
  });

  it("with the cache off, loads at every read", async () => {
    const store = new CountingStore();
    const p = pipeline(store, { cache: { enabled: false, maxEntities: 0 } });
    await p.dispatch(increment("nc"));
    const loadsBefore = store.loads;
    await p.read(counterModel, "nc");
    await p.read(counterModel, "nc");
    expect(store.loads).toBe(loadsBefore + 2);
    expect(store.checks).toBe(0);
  });

  it("counts reads in flight for draining, and is idle once they are answered", async () => {
    const p = pipeline(new CountingStore());
    const reading = p.read(counterModel, "d");
    expect(p.active).toBe(1);
    await reading;
    expect(p.active).toBe(0);
    expect(await p.drain(1000)).toBe(true);
  });
});
