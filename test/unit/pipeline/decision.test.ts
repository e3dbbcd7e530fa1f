import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Component } from "../../../src/entity/define.js";
import { defineValueEntity } from "../../../src/entity/define.js";
import { reply } from "../../../src/entity/effects.js";
import { toModel } from "../../../src/entity/model.js";
import { decide } from "../../../src/pipeline/decide.js";
import { hasEffects } from "../../../src/pipeline/decision.js";
import { toAppendRequest } from "../../../src/pipeline/encode.js";
import { contextOf, type CommandRequest, type Job } from "../../../src/pipeline/types.js";
import { CountingStore, counterModel, increment, pipeline } from "./helpers.js";

const job = (request: CommandRequest): Job => ({
  request,
  ctx: contextOf(request),
  startedAt: 0,
  resolve: () => undefined,
  reject: () => undefined,
});
const context = { newId: randomUUID, observer: {} };
const key = { entityType: "counter", entityId: "c" };

describe("decision and its encoding into the store's append", () => {
  it("gives each command a verdict and gathers the accepted commands' effects in order", () => {
    const jobs = [
      job(increment("c", { dedupId: "d1" })),
      job({ ...increment("c"), ifMatch: 0 }),
      job({ model: counterModel, entityId: "c", command: "get", data: undefined }),
      job(increment("c", { dedupId: "d1" })),
      job({ ...increment("c"), data: { by: 5 } }),
    ];
    const decision = decide(jobs, { state: { value: 10 }, version: 7 }, context);
    expect(
      decision.verdicts.map((v) => ("effects" in v ? "accepted" : "ok" in v ? "answered" : "failed")),
    ).toEqual(["accepted", "failed", "accepted", "answered", "accepted"]);
    expect(decision).toMatchObject({ state: { value: 16 }, version: 9, changes: true });
    const first = decision.verdicts[0]!;
    const redelivery = decision.verdicts[3]!;
    if (!("effects" in first) || !("ok" in redelivery)) throw new Error("unexpected verdicts");
    expect(redelivery.ok).toMatchObject({ replyId: first.replyId, version: 8, duplicate: true });

    const request = toAppendRequest(decision, {
      key,
      model: counterModel,
      dedupIds: ["d1"],
      dedupTtlMs: 1000,
      replay: undefined,
    });
    expect(request.expectedVersion).toBe(7);
    expect(request.events).toEqual([
      { type: "changed", data: { by: 1 } },
      { type: "changed", data: { by: 5 } },
    ]);
    expect(request.writeDedup).toEqual([
      ["d1", { version: 8, reply: { value: 11 }, replyId: first.replyId }],
    ]);
    expect(request.checkDedup).toEqual(["d1"]);
    expect(request.snapshot).toBeUndefined();
    expect(request.logEvents).toBe(true);
  });

  it("a command that only replies has no effects: nothing is appended and it is answered", async () => {
    const decision = decide(
      [job({ model: counterModel, entityId: "c", command: "get", data: undefined })],
      {
        state: { value: 3 },
        version: 3,
      },
      context,
    );
    expect(decision.changes).toBe(false);
    expect(hasEffects({ events: [], reply: { value: 3 } })).toBe(false);

    const store = new CountingStore();
    const p = pipeline(store);
    await p.dispatch(increment("c"));
    const answer = await p.dispatch({ model: counterModel, entityId: "c", command: "get", data: undefined });
    expect(answer).toMatchObject({ reply: { value: 1 }, version: 1, duplicate: false });
    expect(store.appends).toHaveLength(1);
  });

  it("writes a value entity's state with every append (its snapshot is its only copy)", () => {
    const profile = toModel(
      defineValueEntity({
        name: "profile",
        typePrefix: "com.example",
        initialState: () => ({ name: "" }),
        commands: {
          rename: (_p, cmd: { name: string }) => ({ name: cmd.name }),
          get: (p) => reply(p),
        },
      }) as unknown as Component,
    );
    const request = { model: profile, entityId: "p", command: "rename", data: { name: "Ada" } };
    const decision = decide([job(request)], { state: { name: "" }, version: 4 }, context);
    const append = toAppendRequest(decision, {
      key,
      model: profile,
      dedupIds: [],
      dedupTtlMs: 1,
      replay: undefined,
    });
    expect(append.snapshot).toEqual({ version: 5, state: { name: "Ada" } });
    expect(append.logEvents).toBe(false);
  });

  it("stores a group commit as one append carrying every command's dedup record", async () => {
    const store = new CountingStore();
    const p = pipeline(store);
    await p.dispatch(increment("g"));
    const replies = await Promise.all(
      ["a", "b", "c"].map((id) => p.dispatch(increment("g", { dedupId: id }))),
    );
    const last = store.appends.at(-1)!;
    expect(store.appends).toHaveLength(2);
    expect(last.expectedVersion).toBe(1);
    expect(last.writeDedup.map(([id, record]) => [id, record.version, record.replyId])).toEqual(
      replies.map((r, i) => [["a", "b", "c"][i], r.version, r.replyId]),
    );
  });
});
