import { describe, expect, it } from "vitest";
import { toReplicatedModel } from "../../../src/entity/replicated/model.js";
import { HostError } from "../../../src/errors/host-error.js";
import { Pipeline } from "../../../src/pipeline/index.js";
import type { PipelineObserver } from "../../../src/pipeline/observer.js";
import { MemoryStore } from "../../../src/store/memory-store.js";
import leader from "../../../functions/leader/index.js";
import likes from "../../../functions/likes/index.js";
import { counter, defineReplicatedEntity } from "knstate";

const likesModel = toReplicatedModel(likes as never);
const leaderModel = toReplicatedModel(leader as never);
const broken = toReplicatedModel(
  defineReplicatedEntity({
    name: "broken",
    typePrefix: "com.example",
    values: { count: counter() },
    commands: { fraction: (_b, _c: unknown, { ops }) => [ops.count.increment(1), ops.count.increment(0.5)] },
  }) as never,
);

function pipeline(observer: PipelineObserver = {}, store = new MemoryStore()) {
  let n = 0;
  return new Pipeline({
    store,
    cache: { enabled: true, maxEntities: 100 },
    groupCommit: { enabled: true, maxBatch: 8 },
    conflictRetries: 3,
    retryBackoffMs: { base: 1, max: 2 },
    dedupTtlMs: 60_000,
    newId: () => `id-${++n}`,
    observer,
  });
}

async function failure(promise: Promise<unknown>): Promise<HostError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HostError);
  return error as HostError;
}

describe("the replicated branch of the pipeline", () => {
  it("applies concurrent commands without a conflict and reads the merged state", async () => {
    const conflicts: string[] = [];
    const outcomes: string[] = [];
    const p = pipeline({
      conflict: (type) => conflicts.push(type),
      commandFinished: (_t, _c, outcome) => outcomes.push(outcome),
    });
    const replies = await Promise.all(
      Array.from({ length: 50 }, () =>
        p.dispatch({ model: likesModel, entityId: "p1", command: "like", data: { by: 2 } }),
      ),
    );
    expect(replies.map((r) => r.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    expect(await p.read(likesModel, "p1")).toEqual({ state: { count: 100 }, version: 50 });
    expect(conflicts).toEqual([]);
    expect(outcomes).toEqual(Array.from({ length: 50 }, () => "ok"));
    expect(p.active).toBe(0);
  });

  it("answers a redelivery with the first reply and applies it once", async () => {
    const p = pipeline();
    const send = () =>
      p.dispatch({
        model: likesModel,
        entityId: "p2",
        command: "like",
        data: { by: 1 },
        dedupId: "c\0/s\0e1",
      });
    const first = await send();
    await p.dispatch({ model: likesModel, entityId: "p2", command: "like", data: { by: 1 } });
    const again = await send();
    expect(again).toEqual({ ...first, duplicate: true });
    expect(first.reply).toEqual({ count: 1 });
    expect((await p.read(likesModel, "p2")).state).toEqual({ count: 2 });
  });

  it("refuses a stale fencing token with 412 and a bad operation with 500, applying nothing", async () => {
    const p = pipeline();
    const run = (model: typeof leaderModel, command: string, data: unknown) =>
      p.dispatch({ model, entityId: "g", command, data });
    await run(leaderModel, "acquire", { pod: "a", ttlMs: 60_000 });
    await run(leaderModel, "release", { pod: "a" });
    await run(leaderModel, "acquire", { pod: "b", ttlMs: 60_000 });
    const stale = await failure(run(leaderModel, "write", { token: 1, config: "x" }));
    expect(stale.toProblem()).toMatchObject({ type: "/problems/operation-refused", status: 412 });
    expect((await p.read(leaderModel, "g")).state).toEqual({ holder: "b", token: 2, config: null });
    const bad = await failure(run(broken, "fraction", {}));
    expect(bad.status).toBe(500);
    expect(await p.read(broken, "g")).toEqual({ state: { count: 0 }, version: 0 });
  });

  it("refuses If-Match: a replicated entity has no version to match", async () => {
    const p = pipeline();
    const error = await failure(
      p.dispatch({ model: likesModel, entityId: "p3", command: "like", data: {}, ifMatch: 0 }),
    );
    expect(error.toProblem()).toMatchObject({ type: "/problems/invalid-request", status: 400 });
    expect((await p.read(likesModel, "p3")).version).toBe(0);
  });
});
