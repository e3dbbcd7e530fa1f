import { describe, expect, it } from "vitest";
import { counter, map, operations, vote } from "knstate";
import {
  decodeReplicatedBatch,
  encodeReplicatedBatch,
  type ReplicatedApplyRequest,
} from "../../src/store/replicated/codec.js";

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
    expect(args.slice(3)).toEqual(["3", "", "e1", 'c{"replyId":"r1"', "1", "inc", "c|count", "1", "c|count"]);
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
