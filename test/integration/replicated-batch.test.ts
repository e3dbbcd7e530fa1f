import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { counter, lease, operations, type ReplicatedOp } from "knstate";
import {
  REPLICATED_APPLY_SCRIPT,
  decodeReplicatedBatch,
  encodeReplicatedBatch,
  memoryReplicated,
  replicatedKeys,
  type ReplicatedApplyRequest,
  type ReplicatedBatchItem,
} from "../../src/store/replicated/index.js";
import { decodeRecord } from "../../src/store/replicated/record.js";
import { redisAvailable } from "../support/redis.js";
import { redisForSuite } from "../support/redis-suite.js";

/**
 * Several commands to one entity in one apply script: each keeps its own sequence, dedup
 * record, returned cells and outcome, as if applied one after the other; the memory store
 * gives the same answers.
 */

const withRedis = redisAvailable();
const redis = redisForSuite();
let entities = 0;

const specs = { n: counter(), leader: lease() };
const ops = operations(specs);

function command(list: readonly ReplicatedOp[], dedupId?: string): ReplicatedApplyRequest {
  return {
    ops: list,
    observed: Number.MAX_SAFE_INTEGER,
    returnCells: ["c|n"],
    checkDedup: dedupId === undefined ? [] : [dedupId],
    ...(dedupId === undefined ? {} : { writeDedup: { id: dedupId, replyId: `reply-${dedupId}` } }),
    dedupTtlMs: 60_000,
  };
}

async function onRedis(
  requests: readonly ReplicatedApplyRequest[],
  withAll = false,
  entityId = `b${++entities}`,
) {
  const key = { entityType: "things", entityId };
  const keys = replicatedKeys("ks", "test", key);
  const call = encodeReplicatedBatch(keys, requests, withAll);
  const reply = await redis.client.eval(
    REPLICATED_APPLY_SCRIPT,
    call.keys.length,
    ...call.keys,
    ...call.args,
  );
  return {
    keys,
    ...decodeReplicatedBatch(
      reply,
      requests.map((r) => r.checkDedup),
    ),
  };
}

/** The dedup record of `id` as stored (without its expiry), or null. */
async function stored(keys: { dedup: string }, id: string): Promise<string | null> {
  const value = await redis.client.hget(keys.dedup, `r${id}`);
  return value === null ? null : value.slice(value.indexOf("|") + 1);
}

async function inMemory(requests: readonly ReplicatedApplyRequest[]) {
  return memoryReplicated().applyReplicatedBatch({ entityType: "things", entityId: "m" }, requests, true);
}

/** What both stores must agree on: each command's kind, sequence and returned cells. */
function outline(results: readonly ReplicatedBatchItem[]) {
  return results.map((r) =>
    r.kind === "applied"
      ? { kind: r.kind, seq: r.seq, cells: Object.fromEntries(r.cells) }
      : { kind: r.kind },
  );
}

describe.skipIf(!withRedis)("a batch of replicated commands", () => {
  it("gives each command its own sequence, returned value and dedup record", async () => {
    const batch = ["d1", "d2", "d3"].map((id) => command([ops.n.increment(2)], id));
    const { results, keys } = await onRedis(batch);
    expect(outline(results)).toEqual([
      { kind: "applied", seq: 1, cells: { "c|n": "2" } },
      { kind: "applied", seq: 2, cells: { "c|n": "4" } },
      { kind: "applied", seq: 3, cells: { "c|n": "6" } },
    ]);
    expect(await stored(keys, "d2")).toBe('2|c8|reply-d2["c|n","4"]');
    expect(decodeRecord((await stored(keys, "d2"))!)).toEqual({
      replyId: "reply-d2",
      seq: 2,
      cells: ["c|n", "4"],
    });
    expect(await redis.client.hgetall(keys.values)).toEqual({ "#": "3", "c|n": "6" });
    expect(outline((await inMemory(batch)).results)).toEqual(outline(results));
  });

  it("applies a dedup id repeated within one batch once", async () => {
    const batch = [command([ops.n.increment()], "same"), command([ops.n.increment()], "same")];
    const { results, keys } = await onRedis(batch);
    expect(results[0]).toMatchObject({ kind: "applied", seq: 1 });
    expect(results[1]).toMatchObject({ kind: "duplicate" });
    const second = results[1]!;
    expect(second.kind === "duplicate" && second.duplicates.get("same")).toMatchObject({
      replyId: "reply-same",
      seq: 1,
    });
    expect(await redis.client.hgetall(keys.values)).toEqual({ "#": "1", "c|n": "1" });
    expect(outline((await inMemory(batch)).results)).toEqual(outline(results));
  });

  it("refuses one command and applies the ones around it", async () => {
    const batch = [
      command([ops.n.increment()], "a"),
      command([ops.leader.fence(7), ops.n.increment(100)], "b"),
      command([ops.n.increment()], "c"),
    ];
    const { results, keys } = await onRedis(batch);
    expect(outline(results)).toEqual([
      { kind: "applied", seq: 1, cells: { "c|n": "1" } },
      { kind: "refused" },
      { kind: "applied", seq: 2, cells: { "c|n": "2" } },
    ]);
    expect(await stored(keys, "b")).toBeNull();
    expect(await redis.client.hgetall(keys.values)).toEqual({ "#": "2", "c|n": "2" });
    expect(outline((await inMemory(batch)).results)).toEqual(outline(results));
  });

  it("writes the sequence once per batch, and leaves it when nothing of the batch applied", async () => {
    const entityId = `b${++entities}`;
    const refusedOnly = [command([ops.leader.fence(3)], "f1"), command([ops.leader.fence(4)], "f2")];
    const first = await onRedis(refusedOnly, false, entityId);
    expect(outline(first.results)).toEqual([{ kind: "refused" }, { kind: "refused" }]);
    expect(await redis.client.hgetall(first.keys.values)).toEqual({});
    // A command without operations answers with the sequence and cells of the one before it.
    const batch = [command([ops.n.increment(4)], "x"), command([], "y"), command([ops.n.increment()], "x")];
    const { results, keys } = await onRedis(batch, false, entityId);
    expect(outline(results)).toEqual([
      { kind: "applied", seq: 1, cells: { "c|n": "4" } },
      { kind: "applied", seq: 1, cells: { "c|n": "4" } },
      { kind: "duplicate" },
    ]);
    expect(await redis.client.hgetall(keys.values)).toEqual({ "#": "1", "c|n": "4" });
    expect(outline((await inMemory(batch)).results)).toEqual(outline(results));
  });

  it("fails a command with a bad operation alone, writing nothing of it", async () => {
    const bad = { ...ops.n.increment(), a: "1.5" };
    const batch = [command([ops.n.increment(), bad], "bad"), command([ops.n.increment(3)], "good")];
    const { results, keys } = await onRedis(batch);
    expect(results[0]).toEqual({ kind: "failed", message: "bad increment" });
    expect(outline(results.slice(1))).toEqual([{ kind: "applied", seq: 1, cells: { "c|n": "3" } }]);
    expect(await stored(keys, "bad")).toBeNull();
    expect(await redis.client.hgetall(keys.values)).toEqual({ "#": "1", "c|n": "3" });
  });

  it("returns every cell after the batch when asked", async () => {
    const batch = [command([ops.leader.acquire("pod-a", 60_000)]), command([ops.n.increment(5)])];
    const { all } = await onRedis(batch, true);
    expect(all?.seq).toBe(2);
    expect([...all!.cells.keys()].sort()).toEqual(["#", "c|n", "l|leader"]);
    expect(all!.cells.get("c|n")).toBe("5");
    const { all: withoutAll } = await onRedis(batch, false);
    expect(withoutAll).toBeUndefined();
  });

  it("applies a redelivery again once its record expired, and sweeps expired records", async () => {
    const short = { ...command([ops.n.increment()], "old"), dedupTtlMs: 100 };
    const { keys } = await onRedis([short], false, "expiring");
    expect((await onRedis([short], false, "expiring")).results[0]).toMatchObject({ kind: "duplicate" });
    await sleep(250);
    expect((await onRedis([short], false, "expiring")).results[0]).toMatchObject({ kind: "applied", seq: 2 });
    await sleep(250);
    await onRedis([command([ops.n.increment()], "new")], false, "expiring");
    // "old" expired again and was swept; "new" keeps the default TTL.
    expect((await redis.client.hkeys(keys.dedup)).filter((f) => f.startsWith("r"))).toEqual(["rnew"]);
    expect(await redis.client.hget(keys.values, "c|n")).toBe("3");
  });
});
