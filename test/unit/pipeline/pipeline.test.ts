import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { toModel } from "../../../src/entity/model.js";
import type { Component } from "../../../src/entity/define.js";
import { Pipeline, crossesBoundary, type PipelineOptions } from "../../../src/pipeline/index.js";
import type { PipelineObserver } from "../../../src/pipeline/observer.js";
import { MemoryStore } from "../../../src/store/memory-store.js";
import type { AppendRequest, StateStore } from "../../../src/store/state-store.js";
import { HostError } from "../../../src/errors/host-error.js";
import { defineEntity } from "../../../src/entity/define.js";
import counter from "../../../functions/counter/index.js";

const model = toModel(counter as unknown as Component);

/** A MemoryStore that counts its calls, so tests can see round trips. */
class CountingStore extends MemoryStore {
  appends = 0;
  loads = 0;
  checks = 0;
  override append(request: AppendRequest) {
    this.appends++;
    return super.append(request);
  }
  override load(...args: Parameters<StateStore["load"]>) {
    this.loads++;
    return super.load(...args);
  }
  override check(...args: Parameters<StateStore["check"]>) {
    this.checks++;
    return super.check(...args);
  }
}

/** A MemoryStore that records the versions of written snapshots and the events each load replayed. */
class RecordingStore extends MemoryStore {
  readonly snapshots: number[] = [];
  readonly replayed: number[] = [];
  override append(request: AppendRequest) {
    if (request.snapshot) this.snapshots.push(request.snapshot.version);
    return super.append(request);
  }
  override async load(...args: Parameters<StateStore["load"]>) {
    const loaded = await super.load(...args);
    this.replayed.push(loaded.events.length);
    return loaded;
  }
}

function dispatcher(store: StateStore, options: Partial<PipelineOptions> = {}, observer?: PipelineObserver) {
  return new Pipeline({
    store,
    cache: { enabled: true, maxEntities: 100 },
    groupCommit: { enabled: true, maxBatch: 64 },
    conflictRetries: 50,
    retryBackoffMs: { base: 1, max: 5 },
    dedupTtlMs: 60_000,
    newId: randomUUID,
    ...(observer ? { observer } : {}),
    ...options,
  });
}

const increment = (entityId: string, extra: { dedupId?: string; ifMatch?: number } = {}) => ({
  model,
  entityId,
  command: "increment",
  data: { by: 1 },
  ...extra,
});

describe("dispatcher", () => {
  it("applies concurrent commands to one entity in one process without conflicts, in few appends", async () => {
    const store = new CountingStore();
    let conflicts = 0;
    const d = dispatcher(store, {}, { conflict: () => conflicts++ });
    const replies = await Promise.all(Array.from({ length: 200 }, () => d.dispatch(increment("hot"))));
    expect(replies.map((r) => r.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    expect((await d.read(model, "hot")).state).toEqual({ value: 200 });
    expect(conflicts).toBe(0);
    // Group commit: the first command runs alone, the 199 queued behind it go in a few appends.
    expect(store.appends).toBeLessThan(10);
  });

  it("without group commit appends once per command", async () => {
    const store = new CountingStore();
    const d = dispatcher(store, { groupCommit: { enabled: false, maxBatch: 1 } });
    await Promise.all(Array.from({ length: 20 }, () => d.dispatch(increment("one"))));
    expect(store.appends).toBe(20);
  });

  it("two processes sharing a store lose no update: conflicts are retried", async () => {
    const store = new MemoryStore();
    let conflicts = 0;
    const observer = { conflict: () => conflicts++ };
    const a = dispatcher(store, {}, observer);
    const b = dispatcher(store, {}, observer);
    const all = Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? a : b).dispatch(increment("shared")));
    await Promise.all(all);
    expect((await a.read(model, "shared")).state).toEqual({ value: 300 });
    expect(
      (await store.readEvents({ entityType: "counter", entityId: "shared" }, 1)).map((e) => e.version),
    ).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(conflicts).toBeGreaterThan(0);
  });

  it("a read on one process sees a write acknowledged on another (the cached version is checked)", async () => {
    const store = new CountingStore();
    const a = dispatcher(store);
    const b = dispatcher(store);
    await a.dispatch(increment("fresh"));
    expect((await b.read(model, "fresh")).state).toEqual({ value: 1 });
    await a.dispatch(increment("fresh"));
    const checksBefore = store.checks;
    expect((await b.read(model, "fresh")).state).toEqual({ value: 2 });
    expect(store.checks).toBe(checksBefore + 1);
  });

  it("answers a redelivery with the first reply and stores it once, across processes", async () => {
    const store = new MemoryStore();
    const a = dispatcher(store);
    const b = dispatcher(store);
    const first = await a.dispatch(increment("dup", { dedupId: "c\u0000/src\u0000e1" }));
    const again = await b.dispatch(increment("dup", { dedupId: "c\u0000/src\u0000e1" }));
    const concurrent = await Promise.all([
      a.dispatch(increment("dup", { dedupId: "c\u0000/src\u0000e2" })),
      b.dispatch(increment("dup", { dedupId: "c\u0000/src\u0000e2" })),
    ]);
    expect(again).toMatchObject({
      reply: first.reply,
      version: first.version,
      replyId: first.replyId,
      duplicate: true,
    });
    expect(concurrent[0].replyId).toBe(concurrent[1].replyId);
    expect((await a.read(model, "dup")).state).toEqual({ value: 2 });
  });

  it("checks If-Match against the current version", async () => {
    const d = dispatcher(new MemoryStore());
    await d.dispatch(increment("m"));
    await expect(d.dispatch(increment("m", { ifMatch: 0 }))).rejects.toMatchObject({ status: 412 });
    await expect(d.dispatch(increment("m", { ifMatch: 1 }))).resolves.toMatchObject({ version: 2 });
  });

  it("gives up with a 503 when conflicts persist past the retry budget", async () => {
    // Another writer always gets there first: every append conflicts.
    class AlwaysMoved extends MemoryStore {
      override append() {
        return Promise.resolve({ kind: "conflict" as const, version: 99 });
      }
    }
    const d = dispatcher(new AlwaysMoved(), { conflictRetries: 3 });
    const error = (await d.dispatch(increment("x")).catch((e: unknown) => e)) as HostError;
    expect(error).toBeInstanceOf(HostError);
    expect(error.status).toBe(503);
    expect(error.problem.type).toBe("/problems/conflict-retries-exhausted");
  });

  it("a handler that throws fails only its own command, with a 500 that shows no internals", async () => {
    const fragile = toModel(
      defineEntity({
        name: "fragile",
        typePrefix: "com.example",
        initialState: () => ({ n: 0 }),
        events: { added: (s: { n: number }) => ({ n: s.n + 1 }) },
        commands: {
          add: (_s, cmd: { boom?: boolean }) => {
            if (cmd.boom) throw new Error("secret internal detail");
            return [{ type: "added", data: {} }];
          },
        },
      }) as unknown as Component,
    );
    const d = dispatcher(new MemoryStore());
    const run = (boom: boolean) =>
      d.dispatch({ model: fragile, entityId: "f", command: "add", data: { boom } });
    const results = await Promise.allSettled([run(false), run(true), run(false)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const error = (results[1] as PromiseRejectedResult).reason as HostError;
    expect(error.status).toBe(500);
    expect(JSON.stringify(error.toProblem())).not.toContain("secret");
    expect((await d.read(fragile, "f")).state).toEqual({ n: 2 });
  });

  it("refuses a command handler that returns a promise (plain JavaScript) with a 500, and keeps going", async () => {
    const asyncEntity = toModel(
      defineEntity({
        name: "async-js",
        typePrefix: "com.example",
        initialState: () => ({ n: 0 }),
        events: { added: (s: { n: number }) => ({ n: s.n + 1 }) },
        commands: { add: (() => Promise.reject(new Error("boom"))) as never },
      }) as unknown as Component,
    );
    const d = dispatcher(new MemoryStore());
    const error = (await d
      .dispatch({ model: asyncEntity, entityId: "a", command: "add", data: {} })
      .catch((e: unknown) => e)) as HostError;
    expect(error.status).toBe(500);
    expect(String((error.cause as Error).message)).toMatch(/must be synchronous/);
    await expect(d.dispatch(increment("after-async"))).resolves.toMatchObject({ version: 1 });
  });

  it("drains in-flight commands before resolving", async () => {
    const d = dispatcher(new MemoryStore());
    const pending = Array.from({ length: 50 }, (_, i) => d.dispatch(increment(`e${i % 5}`)));
    expect(d.active).toBe(50);
    expect(await d.drain(5000)).toBe(true);
    expect(d.active).toBe(0);
    await Promise.all(pending);
  });

  it("with the cache off, snapshots a small state often, so loads replay few events", async () => {
    const store = new RecordingStore();
    const d = dispatcher(store, { cache: { enabled: false, maxEntities: 0 } });
    for (let i = 0; i < 30; i++) await d.dispatch(increment("small"));
    expect((await d.read(model, "small")).state).toEqual({ value: 30 });
    // Far below snapshotEvery (100): each load replays at most the one event since the snapshot.
    expect(Math.max(...store.replayed)).toBeLessThanOrEqual(1);
    expect(store.snapshots.length).toBeGreaterThanOrEqual(15);
  });

  it("does not rewrite a large state for every small event", async () => {
    const big = toModel(
      defineEntity({
        name: "big",
        typePrefix: "com.example",
        initialState: () => ({ text: "x".repeat(5000), n: 0 }),
        events: { added: (s: { text: string; n: number }) => ({ ...s, n: s.n + 1 }) },
        commands: { add: () => [{ type: "added", data: {} }] },
      }) as unknown as Component,
    );
    const store = new RecordingStore();
    const d = dispatcher(store, { cache: { enabled: false, maxEntities: 0 } });
    for (let i = 0; i < 30; i++) await d.dispatch({ model: big, entityId: "b", command: "add", data: {} });
    // The first append writes one (nothing was stored), then events are cheaper to replay.
    expect(store.snapshots).toEqual([1]);
    expect(Math.max(...store.replayed)).toBe(28);
  });

  it("knows when an append crosses a snapshot boundary", () => {
    expect(crossesBoundary(99, 100, 100)).toBe(true);
    expect(crossesBoundary(100, 101, 100)).toBe(false);
    expect(crossesBoundary(95, 205, 100)).toBe(true);
    expect(crossesBoundary(0, 99, 100)).toBe(false);
  });
});
