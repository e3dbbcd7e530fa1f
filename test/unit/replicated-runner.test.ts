import { describe, expect, it } from "vitest";
import { counter, defineReplicatedEntity, set } from "knstate";
import { toReplicatedModel } from "../../src/entity/replicated/model.js";
import { ReplicatedRunner } from "../../src/pipeline/replicated.js";
import { Settler } from "../../src/pipeline/settle.js";
import { MemoryStore } from "../../src/store/memory-store.js";

/**
 * The replicated branch of the pipeline on the memory store: concurrent commands to one entity
 * are batched and each gets the reply of its own apply; a handler that reads no value still
 * replies with values it did not change, read after the batch.
 */

const board = toReplicatedModel(
  defineReplicatedEntity({
    name: "board",
    typePrefix: "com.example",
    values: { hits: counter(), tags: set<string>() },
    commands: {
      hit: (_b, _data: unknown, { ops }) => [ops.hits.increment()],
      tag: (_b, data: { tag: string }, { ops }) => [ops.tags.add(data.tag)],
    },
    reply: (b) => ({ hits: b.hits, tags: b.tags }),
  }) as never,
);

function runner() {
  let ids = 0;
  const observer = {};
  return new ReplicatedRunner({
    store: new MemoryStore(),
    settler: new Settler(observer),
    observer,
    dedupTtlMs: 60_000,
    newId: () => `id-${++ids}`,
  });
}

const command = (name: string, data: unknown, dedupId?: string) => ({
  model: board,
  entityId: "b1",
  command: name,
  data,
  ...(dedupId === undefined ? {} : { dedupId }),
});

describe("replicated commands through the pipeline", () => {
  it("answers each of concurrent commands with the values after its own operations", async () => {
    const host = runner();
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => host.dispatch(command("hit", undefined, `d${i}`))),
    );
    expect(replies.map((r) => (r.reply as { hits: number }).hits).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(replies.map((r) => r.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const again = await host.dispatch(command("hit", undefined, "d7"));
    expect(again).toMatchObject({ duplicate: true, reply: replies[7]!.reply, replyId: replies[7]!.replyId });
    expect((await host.read(board, "b1")).state).toEqual({ hits: 20, tags: [] });
  });

  it("replies with the values a command did not change, without loading before it", async () => {
    const host = runner();
    await host.dispatch(command("tag", { tag: "red" }));
    expect((await host.dispatch(command("hit", undefined))).reply).toEqual({ hits: 1, tags: ["red"] });
    expect((await host.dispatch(command("tag", { tag: "blue" }))).reply).toEqual({
      hits: 1,
      tags: ["blue", "red"],
    });
  });
});
