import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counter, lease, operations, set, vote, type ReplicatedOp, type ValueSpecs } from "knstate";
import { decodeValues } from "../../src/entity/replicated/decode.js";
import {
  REPLICATED_APPLY_SCRIPT,
  REPLICATED_LOAD_SCRIPT,
  decodeReplicatedApply,
  decodeReplicatedLoad,
  encodeReplicatedApply,
  encodeReplicatedLoad,
  replicatedKeys,
  type ReplicatedApplyRequest,
  type ReplicatedApplyResult,
} from "../../src/store/replicated/index.js";
import { CASES, comparable } from "../support/replicated-cases.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

/** The replicated scripts on a real redis-server: the shared cases, then concurrency. */

const withRedis = redisAvailable();
let redis: RedisServer;
let clients: Redis[] = [];
let entities = 0;

beforeAll(async () => {
  if (!withRedis) return;
  redis = await startRedis();
  clients = Array.from({ length: 3 }, () => new Redis(redis.url));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit()));
  await redis?.stop();
});

const newKeys = () => replicatedKeys("ks", "test", { entityType: "things", entityId: `e${++entities}` });
type Keys = ReturnType<typeof newKeys>;

async function load(keys: Keys, specs: ValueSpecs, client = clients[0]!) {
  const call = encodeReplicatedLoad(keys, []);
  const { snapshot } = decodeReplicatedLoad(
    await client.eval(REPLICATED_LOAD_SCRIPT, call.keys.length, ...call.keys),
    [],
  );
  return {
    seq: snapshot.seq,
    cells: snapshot.cells,
    values: decodeValues(specs, snapshot.cells, snapshot.nowMs),
  };
}

async function apply(
  keys: Keys,
  ops: readonly ReplicatedOp[],
  options: Partial<ReplicatedApplyRequest> & { client?: Redis } = {},
): Promise<ReplicatedApplyResult> {
  const request: ReplicatedApplyRequest = {
    ops,
    observed: Number.MAX_SAFE_INTEGER,
    returnCells: [],
    checkDedup: [],
    dedupTtlMs: 60_000,
    ...options,
  };
  const call = encodeReplicatedApply(keys, request);
  const client = options.client ?? clients[0]!;
  return decodeReplicatedApply(
    await client.eval(REPLICATED_APPLY_SCRIPT, call.keys.length, ...call.keys, ...call.args),
    request.checkDedup,
  );
}

describe.skipIf(!withRedis)("the replicated scripts on Redis", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
    const keys = newKeys();
    let seq = 0;
    for (const step of testCase.steps) {
      if ("wait" in step) {
        await sleep(step.wait);
        continue;
      }
      const result = await apply(keys, step.ops, { observed: step.observed ?? seq });
      if (step.refused) {
        expect(result).toEqual({ kind: "refused", reason: expect.stringMatching(step.refused) });
        continue;
      }
      expect(result).toMatchObject({ kind: "applied", seq: seq + 1 });
      seq++;
    }
    expect(comparable((await load(keys, testCase.specs)).values)).toEqual(testCase.expected);
  });

  it("counts 6,000 concurrent increments from three connections exactly", async () => {
    const keys = newKeys();
    const ops = operations({ n: counter() });
    await Promise.all(
      Array.from({ length: 6000 }, (_, i) => apply(keys, [ops.n.increment()], { client: clients[i % 3]! })),
    );
    const loaded = await load(keys, { n: counter() });
    expect(loaded.values.n).toBe(6000);
    expect(loaded.seq).toBe(6000);
  });

  it("keeps an element added concurrently with its removal, in every interleaving", async () => {
    const specs = { tags: set<string>() };
    const ops = operations(specs);
    const keys = newKeys();
    for (let round = 0; round < 100; round++) {
      await apply(keys, [ops.tags.add("x")], { client: clients[1]! });
      const seen = (await load(keys, specs, clients[2])).seq;
      await Promise.all([
        apply(keys, [ops.tags.add("x")], { client: clients[1]!, observed: seen }),
        apply(keys, [ops.tags.remove("x")], { client: clients[2]!, observed: seen }),
      ]);
      expect((await load(keys, specs)).values.tags, `round ${round}`).toEqual(["x"]);
    }
    const seen = (await load(keys, specs)).seq;
    await apply(keys, [ops.tags.remove("x")], { observed: seen });
    expect((await load(keys, specs)).values.tags).toEqual([]);
  });

  it("counts each voter once, for their last vote, when a vote is redelivered and replaced", async () => {
    const specs = { poll: vote<string>() };
    const ops = operations(specs);
    const keys = newKeys();
    const voters = Array.from({ length: 500 }, (_, i) => `voter-${i}`);
    const cast = (voter: string, option: string, id: string, client: Redis) =>
      apply(keys, [ops.poll.vote(voter, option)], {
        client,
        checkDedup: [id],
        writeDedup: { id, replyId: `r-${id}`, reply: { value: { ok: true } } },
      });
    await Promise.all(
      voters.map(async (voter, i) => {
        const twice = await Promise.all([
          cast(voter, "red", `${voter}/1`, clients[i % 3]!),
          cast(voter, "red", `${voter}/1`, clients[(i + 1) % 3]!),
        ]);
        expect(twice.map((r) => r.kind).sort()).toEqual(["applied", "duplicate"]);
        const duplicate = twice.find((r) => r.kind === "duplicate");
        expect(duplicate?.kind === "duplicate" && duplicate.duplicates.get(`${voter}/1`)).toMatchObject({
          replyId: `r-${voter}/1`,
          reply: { ok: true },
        });
        await cast(voter, i % 5 === 0 ? "red" : "blue", `${voter}/2`, clients[(i + 2) % 3]!);
      }),
    );
    const poll = (await load(keys, specs)).values.poll as { voters: number; tally: Record<string, number> };
    expect(poll.voters).toBe(500);
    expect(poll.tally).toEqual({ red: 100, blue: 400 });
  });

  it("records the cells a reply needs with the dedup record when the reply is not known before", async () => {
    const ops = operations({ n: counter() });
    const keys = newKeys();
    const request = { returnCells: ["c|n"], checkDedup: ["e1"], writeDedup: { id: "e1", replyId: "r1" } };
    expect(await apply(keys, [ops.n.increment(4)], request)).toMatchObject({
      kind: "applied",
      cells: new Map([["c|n", "4"]]),
    });
    const again = await apply(keys, [ops.n.increment(4)], request);
    expect(again.kind === "duplicate" && again.duplicates.get("e1")).toEqual({
      replyId: "r1",
      seq: 1,
      cells: ["c|n", "4"],
    });
    expect((await load(keys, { n: counter() })).values.n).toBe(4);
  });

  it("gives a lease to one of two racing pods, then to the other after the TTL, fencing the first", async () => {
    const specs = { leader: lease(), writes: counter() };
    const ops = operations(specs);
    const keys = newKeys();
    await Promise.all([
      apply(keys, [ops.leader.acquire("pod-a", 1500)], { client: clients[1]! }),
      apply(keys, [ops.leader.acquire("pod-b", 1500)], { client: clients[2]! }),
    ]);
    const first = (await load(keys, specs)).values.leader as { holder: string; token: number };
    expect(["pod-a", "pod-b"]).toContain(first.holder);
    expect(first.token).toBe(1);
    const other = first.holder === "pod-a" ? "pod-b" : "pod-a";
    expect(await apply(keys, [ops.leader.fence(1), ops.writes.increment()])).toMatchObject({
      kind: "applied",
    });
    await apply(keys, [ops.leader.acquire(other, 60_000)]);
    expect((await load(keys, specs)).values.leader).toMatchObject({ holder: first.holder, token: 1 });
    await sleep(1600);
    await apply(keys, [ops.leader.acquire(other, 60_000)]);
    expect((await load(keys, specs)).values.leader).toMatchObject({ holder: other, token: 2 });
    expect(await apply(keys, [ops.leader.fence(1), ops.writes.increment()])).toMatchObject({
      kind: "refused",
    });
    expect(await apply(keys, [ops.leader.fence(2), ops.writes.increment()])).toMatchObject({
      kind: "applied",
    });
    expect((await load(keys, specs)).values.writes).toBe(2);
  });

  it("deletes the cells of expired voters on the next heartbeat", async () => {
    const specs = { here: vote({ ttlMs: 100 }) };
    const ops = operations(specs);
    const keys = newKeys();
    await apply(keys, [ops.here.vote("ann", true), ops.here.vote("bob", true)]);
    await sleep(200);
    await apply(keys, [ops.here.vote("bob", true)]);
    expect([...(await load(keys, specs)).cells.keys()].sort()).toEqual(["#", "v|here|bob"]);
  });

  it("answers a bad operation with an error and writes nothing", async () => {
    const keys = newKeys();
    const good = operations({ n: counter() }).n.increment(1);
    const bad = { ...good, a: "1.5" };
    await expect(apply(keys, [good, bad])).rejects.toThrow(/bad increment/);
    expect((await load(keys, { n: counter() })).cells.size).toBe(0);
  });
});
