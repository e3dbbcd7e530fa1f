import { describe, expect, it } from "vitest";
import { counter, map, operations, vote } from "knstate";
import {
  decodeReplicatedBatch,
  encodeReplicatedBatch,
  type ReplicatedApplyRequest,
} from "../../src/store/replicated/codec.js";
import { decodeRecord, recordHead } from "../../src/store/replicated/record.js";

const keys = { values: "ks:s:likes:{p}:r", dedup: "ks:s:likes:{p}:rd" };
const ops = operations({ count: counter(), scores: map(vote()) }, "likes");
const like = (id: string): ReplicatedApplyRequest => ({
  ops: [ops.count.increment(1)],
  observed: Number.MAX_SAFE_INTEGER,
  returnCells: ["c|count"],
  checkDedup: [id],
  writeDedup: { id, replyId: "r1" },
  dedupTtlMs: 1000,
});

describe("the replicated apply script's call", () => {
  it("sends a hot counter's like in nine arguments, its dedup id once", () => {
    const { args } = encodeReplicatedBatch(keys, [like("e1")], false);
    expect(args.slice(3)).toEqual(["3", "", "e1", "c2|r1", "1", "inc", "c|count", "1", "c|count"]);
  });

  it("sends only the arguments each operation uses, and a map entry's sequence cell after them", () => {
    const request = { ...like("e1"), ops: [ops.scores.at("k").vote("ann", true)] };
    const { args } = encodeReplicatedBatch(keys, [request], false);
    const op = ops.scores.at("k").vote("ann", true);
    expect(args.slice(8, 14)).toEqual(["vote*", op.cell, op.a, op.b, op.c, op.entry]);
    expect(args[3]).toBe("6");
  });

  it("refuses a command that checks several dedup ids, or records another than it checks", () => {
    expect(() => encodeReplicatedBatch(keys, [{ ...like("e1"), checkDedup: ["e1", "e2"] }], false)).toThrow(
      /at most one dedup id/,
    );
    expect(() => encodeReplicatedBatch(keys, [{ ...like("e1"), checkDedup: ["e2"] }], false)).toThrow(
      /at most one dedup id/,
    );
  });

  it("reads one flat reply for the whole batch", () => {
    const reply = [7, [1, 4, 2, "c|count", "4", 2, "stale", 3, '{"replyId":"r","seq":2}', 4, "bad"], null];
    const { results } = decodeReplicatedBatch(reply, [["a"], ["b"], ["c"], ["d"]]);
    expect(results).toEqual([
      { kind: "applied", seq: 4, nowMs: 7, cells: new Map([["c|count", "4"]]) },
      { kind: "refused", reason: "stale" },
      { kind: "duplicate", duplicates: new Map([["c", { replyId: "r", seq: 2 }]]) },
      { kind: "failed", message: "bad" },
    ]);
  });
});

describe("a replicated dedup record", () => {
  const uuid = "0f8e2b1c-3d4a-4b5c-9d6e-7f8091a2b3c4";

  it("keeps a UUID reply id in 23 characters and reads back what was recorded", () => {
    const head = recordHead(uuid, undefined);
    expect(head).toMatch(/^cu[\w-]{22}$/);
    // The apply script puts the sequence before the head and the returned cells after it.
    expect(decodeRecord(`41|${head}["c|count","41"]`)).toEqual({
      replyId: uuid,
      seq: 41,
      cells: ["c|count", "41"],
    });
    expect(decodeRecord(`7|${head}[]`)).toEqual({ replyId: uuid, seq: 7, cells: [] });
  });

  it("keeps a recorded reply, any reply id, and no reply as none", () => {
    const id = "reply|with|bars";
    expect(decodeRecord(`3|${recordHead(id, { value: { ok: "a|b" } })}`)).toEqual({
      replyId: id,
      seq: 3,
      reply: { ok: "a|b" },
    });
    const none = decodeRecord(`4|${recordHead("r", { value: undefined })}`);
    expect(none).toEqual({ replyId: "r", seq: 4, reply: undefined });
    expect(Object.hasOwn(none, "reply")).toBe(true);
  });

  it("still reads a record stored as JSON", () => {
    expect(decodeRecord('{"replyId":"r","seq":2,"cells":["c|n","1"]}')).toEqual({
      replyId: "r",
      seq: 2,
      cells: ["c|n", "1"],
    });
  });
});
