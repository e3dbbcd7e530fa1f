import { describe, expect, it } from "vitest";
import {
  afterApply,
  replyOfDuplicate,
  toReplicatedModel,
  type ReplicatedModel,
} from "../../src/entity/replicated/model.js";
import { memoryReplicated, redisReplicated, type ReplicatedStore } from "../../src/store/replicated/index.js";
import leader from "../../functions/leader/index.js";
import likes from "../../functions/likes/index.js";
import poll from "../../functions/poll/index.js";
import { redisAvailable } from "../support/redis.js";
import { redisForSuite } from "../support/redis-suite.js";

/**
 * Replicated entities through the store interface, as the host runs a command: load, decide,
 * apply with the dedup record, reply; a redelivery answers the first reply and applies nothing.
 */

const withRedis = redisAvailable();
const redis = redisForSuite();
const stores: Record<string, () => ReplicatedStore> = {
  memory: () => memoryReplicated(),
  redis: () =>
    redisReplicated((lua, keys, args) => redis.client.eval(lua, keys.length, ...keys, ...args), "ks", "test"),
};

type Outcome = { status: "ok"; reply: unknown } | { status: "rejected" | "refused"; reason: string };

/** One command, the way the pipeline runs it. */
async function run(
  store: ReplicatedStore,
  model: ReplicatedModel,
  entityId: string,
  command: string,
  data: unknown,
  eventId: string,
): Promise<Outcome> {
  const key = { entityType: model.name, entityId };
  const ctx = { entityId, command };
  const loaded = await store.loadReplicated(key, [eventId]);
  const record = loaded.duplicates.get(eventId);
  const valid = model.validate(command, data);
  if (record)
    return { status: "ok", reply: replyOfDuplicate(model, command, valid, ctx, loaded.snapshot, record) };
  const decision = model.execute(command, loaded.snapshot, valid, ctx);
  if (decision.kind === "rejected") return { status: "rejected", reason: decision.reason };
  if (decision.ops.length === 0) return { status: "ok", reply: decision.reply(loaded.snapshot) };
  const known = decision.returnCells.length === 0 ? { value: decision.reply(loaded.snapshot) } : undefined;
  const result = await store.applyReplicated(key, {
    ops: decision.ops,
    observed: loaded.snapshot.seq,
    returnCells: decision.returnCells,
    checkDedup: [eventId],
    writeDedup: { id: eventId, replyId: `reply-${eventId}`, ...(known ? { reply: known } : {}) },
    dedupTtlMs: 60_000,
  });
  if (result.kind === "refused") return { status: "refused", reason: result.reason };
  if (result.kind === "duplicate") throw new Error("raced with a redelivery");
  if (known) return { status: "ok", reply: known.value };
  return { status: "ok", reply: decision.reply(afterApply(loaded.snapshot, decision.returnCells, result)) };
}

describe.each(Object.keys(stores).filter((name) => name === "memory" || withRedis))(
  "replicated entities on the %s store",
  (name) => {
    const entity = `${name}-${Date.now()}`;

    it("replies with the count after a like, and the same reply to a redelivery", async () => {
      const store = stores[name]!();
      const model = toReplicatedModel(likes as never);
      expect(await run(store, model, entity, "like", { by: 2 }, "e1")).toEqual({
        status: "ok",
        reply: { count: 2 },
      });
      expect(await run(store, model, entity, "like", undefined, "e2")).toEqual({
        status: "ok",
        reply: { count: 3 },
      });
      expect(await run(store, model, entity, "like", { by: 2 }, "e1")).toEqual({
        status: "ok",
        reply: { count: 2 },
      });
      const loaded = await store.loadReplicated({ entityType: "likes", entityId: entity }, []);
      expect(model.state(loaded.snapshot)).toEqual({ count: 3 });
    });

    it("counts a voter's redelivered vote once and reads the results", async () => {
      const store = stores[name]!();
      const model = toReplicatedModel(poll as never);
      const vote = (voter: string, option: string, id: string) =>
        run(store, model, entity, "vote", { voter, option }, id);
      expect(await vote("ann", "red", "v1")).toEqual({
        status: "ok",
        reply: { voter: "ann", option: "red" },
      });
      await vote("ann", "red", "v1");
      await vote("bob", "red", "v2");
      await vote("ann", "blue", "v3");
      expect(await run(store, model, entity, "results", undefined, "r1")).toEqual({
        status: "ok",
        reply: { results: { blue: 1, red: 1 }, voters: 2 },
      });
    });

    it("refuses a leader's write with a stale fencing token", async () => {
      const store = stores[name]!();
      const model = toReplicatedModel(leader as never);
      expect(await run(store, model, entity, "acquire", { pod: "a", ttlMs: 60_000 }, "a1")).toEqual({
        status: "ok",
        reply: { leader: true, holder: "a", token: 1 },
      });
      await run(store, model, entity, "release", { pod: "a" }, "a2");
      await run(store, model, entity, "acquire", { pod: "b", ttlMs: 60_000 }, "b1");
      expect(await run(store, model, entity, "write", { token: 1, config: 1 }, "w1")).toMatchObject({
        status: "refused",
        reason: expect.stringMatching(/stale/),
      });
      expect(await run(store, model, entity, "write", { token: 2, config: 2 }, "w2")).toEqual({
        status: "ok",
        reply: { written: true, token: 2 },
      });
    });
  },
);
