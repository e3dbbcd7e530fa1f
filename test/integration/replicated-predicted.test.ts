import { describe, expect, it } from "vitest";
import { counter, defineReplicatedEntity, flag, map, set, vote } from "../../src/entity/replicated/index.js";
import { toReplicatedModel } from "../../src/entity/replicated/model.js";
import { predictBatch } from "../../src/pipeline/replicated-predict.js";
import { replicatedDrafts } from "../../src/pipeline/replicated-publish.js";
import type { ReplicatedApplyRequest } from "../../src/store/replicated/codec.js";
import { redisReplicated, type ReplicatedStore } from "../../src/store/replicated/index.js";
import { decodeRecord } from "../../src/store/replicated/record.js";
import { redisAvailable } from "../support/redis.js";
import { redisForSuite } from "../support/redis-suite.js";

/**
 * A batch the host predicts (src/pipeline/replicated-predict.ts) and writes with the predicted
 * script must leave Redis exactly as the apply script leaves it: the same cells, the same
 * dedup records, the same outbox messages, the same results. And a prediction made on a state
 * the entity has left, or for a command already recorded, writes nothing.
 */

const board = toReplicatedModel(
  defineReplicatedEntity({
    name: "board",
    typePrefix: "com.example",
    values: {
      hits: counter(),
      tags: set<string>(),
      open: flag(),
      scores: map(counter()),
      picks: vote<string>(),
    },
    commands: {
      hit: (_b, cmd: { by: number }, { ops }) => [ops.hits.increment(cmd.by)],
      tag: (_b, cmd: { tag: string }, { ops }) => [ops.tags.add(cmd.tag)],
      untag: (_b, cmd: { tag: string }, { ops }) => [ops.tags.remove(cmd.tag)],
      open: (_b, _cmd: unknown, { ops }) => [ops.open.enable()],
      score: (_b, cmd: { key: string; by: number }, { ops }) => [ops.scores.at(cmd.key).increment(cmd.by)],
      drop: (_b, cmd: { key: string }, { ops }) => [ops.scores.remove(cmd.key)],
      pick: (_b, cmd: { voter: string; pick: string }, { ops }) => [ops.picks.vote(cmd.voter, cmd.pick)],
      unpick: (_b, cmd: { voter: string }, { ops }) => [ops.picks.withdraw(cmd.voter)],
    },
    reply: (b) => b,
    publish: { hit: "hitted", tag: "tagged" },
  }) as never,
);

const withRedis = redisAvailable();
const redis = redisForSuite();

function store(prefix: string): ReplicatedStore {
  return redisReplicated(
    (lua, keys, args) => redis.client.eval(lua, keys.length, ...keys, ...args),
    prefix,
    "test",
    (key) => `${prefix}:outbox:{${key.entityId}}`,
  );
}

/** A pseudo-random command of the board (seeded: every run plays the same batches). */
function commands(seed: number, n: number): Array<{ command: string; data: unknown }> {
  let x = seed;
  const next = (m: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return Math.floor(x / 65536) % m;
  };
  const pick = <T>(items: readonly T[]) => items[next(items.length)]!;
  return Array.from({ length: n }, () => {
    const command = pick(["hit", "hit", "tag", "untag", "open", "score", "drop", "pick", "unpick"]);
    const data = {
      by: pick([1, 2, -3, 2 ** 52]),
      tag: pick(["a", "b", "c"]),
      key: pick(["x", "y"]),
      voter: pick(["ann", "bob"]),
      pick: pick(["red", "blue"]),
    };
    return { command, data };
  });
}

function requests(batch: number, list: ReturnType<typeof commands>, ids: boolean): ReplicatedApplyRequest[] {
  return list.map(({ command, data }, i) => {
    const ctx = { entityId: "e", command };
    const decision = board.executeBlind(command, data, ctx);
    if (decision?.kind !== "accepted") throw new Error(`${command} did not decide blind`);
    const id = `c\u0000/test\u0000${batch}-${i}`;
    return {
      ops: decision.ops,
      observed: Number.MAX_SAFE_INTEGER,
      returnCells: decision.returnCells,
      checkDedup: ids ? [id] : [],
      ...(ids ? { writeDedup: { id, replyId: `reply-${batch}-${i}` } } : {}),
      dedupTtlMs: 60_000,
      publish: (replicatedDrafts(board, command, data, undefined, undefined) ?? []).map((draft) => ({
        ...draft,
        time: "2026-01-01T00:00:00.000Z",
      })),
    };
  });
}

/** What Redis holds for the entity under `prefix`: values, dedup records without expiry, messages. */
async function stored(prefix: string, id: string) {
  const base = `${prefix}:test:board:{${id}}`;
  const values = await redis.client.hgetall(`${base}:r`);
  const dedup = Object.fromEntries(
    Object.entries(await redis.client.hgetall(`${base}:rd`))
      .filter(([field]) => field.startsWith("r"))
      .map(([field, value]) => [field, comparableRecord(value.slice(value.indexOf("|") + 1))]),
  );
  const stream = await redis.client.xrange(`${prefix}:outbox:{${id}}`, "-", "+");
  return { values, dedup, messages: stream.map(([, fields]) => fields) };
}

describe.runIf(withRedis)("predicted batches of replicated entities on Redis", () => {
  it("leave the same cells, records, messages and results as the apply script, batch after batch", async () => {
    const id = `same-${Date.now()}`;
    const key = { entityType: "board", entityId: id };
    const slow = store("slow");
    const fast = store("fast");
    let predicted = 0;
    let refused = 0;
    for (let batch = 0; batch < 40; batch++) {
      const list = requests(batch, commands(batch + 1, 1 + (batch % 7)), batch % 3 !== 0);
      const expected = await slow.applyReplicatedBatch(key, list, false);
      refused += expected.results.filter((r) => r.kind === "refused").length;
      const { snapshot } = await fast.loadReplicated(key, []);
      const prediction = predictBatch(key, snapshot.cells, list);
      expect(prediction).toBeDefined();
      const written = await fast.applyPredicted!(key, prediction!.batch);
      expect(written.kind).toBe("applied");
      predicted++;
      const { results } = prediction!.outcome(0, false);
      expect(results.map(withoutClock)).toEqual(expected.results.map(withoutClock));
      expect(Object.fromEntries(prediction!.after)).toEqual(
        await redis.client.hgetall(`fast:test:board:{${id}}:r`),
      );
    }
    expect(predicted).toBe(40);
    expect(refused).toBeGreaterThan(0);
    const [a, b] = [await stored("slow", id), await stored("fast", id)];
    expect(b).toEqual(a);
    // The runs did something of each kind: refusals, removes and messages.
    expect(a.messages.length).toBeGreaterThan(10);
    expect(Object.keys(a.dedup).length).toBeGreaterThan(50);
  });

  it("writes nothing when the entity moved on since the prediction, or a command is already recorded", async () => {
    const id = `stale-${Date.now()}`;
    const key = { entityType: "board", entityId: id };
    const fast = store("fast");
    const first = requests(0, [{ command: "hit", data: { by: 1 } }], true);
    await fast.applyReplicatedBatch(key, first, false);
    const { snapshot } = await fast.loadReplicated(key, []);
    // Another writer applies a command after the state the prediction is made on.
    const later = requests(1, [{ command: "hit", data: { by: 5 } }], true);
    const prediction = predictBatch(key, snapshot.cells, later)!;
    await fast.applyReplicatedBatch(key, later, false);
    const before = await stored("fast", id);
    const again = predictBatch(
      key,
      snapshot.cells,
      requests(2, [{ command: "tag", data: { tag: "a" } }], true),
    )!;
    expect(await fast.applyPredicted!(key, again.batch)).toEqual({ kind: "stale" });
    // At the entity's current state, a batch holding an already recorded command.
    const now = (await fast.loadReplicated(key, [])).snapshot.cells;
    const redelivered = predictBatch(key, now, [
      ...requests(3, [{ command: "open", data: {} }], true),
      ...later,
    ])!;
    expect(await fast.applyPredicted!(key, redelivered.batch)).toEqual({ kind: "stale" });
    expect(await stored("fast", id)).toEqual(before);
    expect(prediction.batch.expectedSeq).toBe(1);
  });

  it("is not made for operations that read the store's clock, nor for a dedup id twice in a batch", () => {
    const key = { entityType: "board", entityId: "clock" };
    const here = toReplicatedModel(
      defineReplicatedEntity({
        name: "here",
        typePrefix: "com.example",
        values: { members: vote({ ttlMs: 1000 }) },
        commands: { beat: (_h, cmd: { user: string }, { ops }) => [ops.members.vote(cmd.user, true)] },
      }) as never,
    );
    const beat = here.executeBlind("beat", { user: "ann" }, { entityId: "h", command: "beat" });
    if (beat?.kind !== "accepted") throw new Error("beat did not decide blind");
    const timed: ReplicatedApplyRequest = {
      ops: beat.ops,
      observed: Number.MAX_SAFE_INTEGER,
      returnCells: beat.returnCells,
      checkDedup: [],
      dedupTtlMs: 1000,
    };
    expect(predictBatch(key, new Map(), [timed])).toBeUndefined();
    const twice = requests(0, [{ command: "hit", data: { by: 1 } }], true);
    expect(predictBatch(key, new Map(), [...twice, ...twice])).toBeUndefined();
    expect(predictBatch(key, new Map(), twice)).toBeDefined();
  });
});

/** A record with its returned cells in name order (a set's cells come back in no set order). */
function comparableRecord(record: string): unknown {
  const { cells, ...rest } = decodeRecord(record);
  if (cells === undefined) return rest;
  const pairs: string[][] = [];
  for (let i = 0; i < cells.length; i += 2) pairs.push([cells[i]!, cells[i + 1]!]);
  return { ...rest, cells: pairs.sort(([a], [b]) => (a! < b! ? -1 : 1)) };
}

function withoutClock(item: object): object {
  const { nowMs: _ignored, ...rest } = item as { nowMs?: number };
  return rest;
}
