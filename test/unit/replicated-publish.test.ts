import { describe, expect, it } from "vitest";
import {
  counter,
  defineReplicatedEntity,
  lease,
  testReplicatedEntity,
  type ReplicatedContext,
} from "knstate";
import { toReplicatedModel } from "../../src/entity/replicated/model.js";
import { servedComponents } from "../../src/outbox/served-components.js";
import { silentLogger } from "../../src/observability/logger.js";
import { encodeReplicatedBatch, type ReplicatedApplyRequest } from "../../src/store/replicated/codec.js";
import poll from "../../functions/poll/index.js";

const values = { count: counter(), lock: lease() };
const commands = {
  like: (_v: unknown, cmd: { by: number }, { ops }: ReplicatedContext<typeof values>) => [
    ops.count.increment(cmd.by),
  ],
};
/** The parts of the test entity that stay the same. */
const likes = { name: "likes", typePrefix: "com.example", values, commands } as const;

describe("a replicated entity's publish option", () => {
  it("refuses at definition time an event named like a command, whose type a Trigger would feed back", () => {
    expect(() => defineReplicatedEntity({ ...likes, publish: { like: "like" } })).toThrow(
      /named "like", like a command/,
    );
    expect(() =>
      defineReplicatedEntity({
        ...likes,
        commands: { ...commands, unlike: commands.like },
        publish: { like: "unlike" },
      }),
    ).toThrow(/like a command/);
  });

  it.each([
    [true, /true or a list would publish the commands' own types/],
    [["like"], /true or a list/],
    [{ nope: "liked" }, /"nope", which is not a command/],
    [{ like: "not a name" }, /must have a name matching/],
    [{ like: 3 }, /must be an event name or a function/],
  ])("refuses publish %j with a clear error", (publish, message) => {
    expect(() => defineReplicatedEntity({ ...likes, publish: publish as never })).toThrow(message);
  });

  it("maps each applied command to its events: a name (the command's data), or a function", () => {
    const entity = defineReplicatedEntity({
      name: "likes",
      typePrefix: "com.example",
      values,
      commands: { ...commands, reset: (_v, _cmd: null) => [] },
      publish: {
        like: (data, reply) => [
          { type: "liked", data },
          { type: "seen", data: reply ?? null },
        ],
      },
    });
    const model = toReplicatedModel(entity as never);
    expect(model.publish?.("like", { by: 2 }, undefined)).toEqual([
      { type: "liked", data: { by: 2 } },
      { type: "seen", data: null },
    ]);
    expect(model.publish?.("reset", null, undefined)).toBeUndefined();
  });

  it("types a publish function's data by command, and refuses true and lists at compile time", () => {
    defineReplicatedEntity({
      name: "likes",
      typePrefix: "com.example",
      values,
      commands: { ...commands, note: (_v, _cmd: { text: string }) => [] },
      publish: (applied) =>
        applied.command === "like"
          ? { type: "liked", data: applied.data.by + 1 }
          : { type: "noted", data: applied.data.text.length },
    });
    // @ts-expect-error: true would publish the commands' own types
    expect(() => defineReplicatedEntity({ ...likes, publish: true })).toThrow();
    // @ts-expect-error: a mapping names commands only
    expect(() => defineReplicatedEntity({ ...likes, publish: { nope: "x" } })).toThrow();
  });

  it("fails a command whose publish function returns a command's name (nothing is applied)", () => {
    const entity = defineReplicatedEntity({ ...likes, publish: () => ({ type: "like", data: null }) });
    expect(() => testReplicatedEntity(entity).run("like", { by: 1 })).toThrow(/like a command/);
  });

  it("is absent from the model of an entity that publishes nothing, or of a host without K_SINK", () => {
    expect(
      toReplicatedModel(defineReplicatedEntity({ name: "x", typePrefix: "a", values, commands }) as never)
        .publish,
    ).toBeUndefined();
    const [served] = servedComponents(undefined, [poll as never], silentLogger);
    expect(toReplicatedModel(served as never).publish).toBeUndefined();
    expect(toReplicatedModel(poll as never).publish).toBeDefined();
  });
});

describe("the test kit of a publishing replicated entity", () => {
  it("records what each applied command published, and nothing for a read or an invalid command", () => {
    const lunch = testReplicatedEntity(poll, "lunch");
    expect(lunch.run("vote", { voter: "ann", option: "pizza" }).published).toEqual([
      { type: "voted", data: { voter: "ann", option: "pizza" } },
    ]);
    expect(lunch.run("results").published).toEqual([]);
    expect(lunch.run("vote", { voter: "" }).published).toEqual([]);
  });
});

describe("the apply script's call", () => {
  const keys = { values: "ks:s:poll:{p}:r", dedup: "ks:s:poll:{p}:rd" };
  const outbox = { stream: "ks:s:_outbox:1", key: { entityType: "poll", entityId: 'p"1' } };
  const request: ReplicatedApplyRequest = {
    ops: [],
    observed: 0,
    returnCells: [],
    checkDedup: ["e1"],
    writeDedup: { id: "e1", replyId: "r1" },
    dedupTtlMs: 1000,
  };

  it("carries no outbox key or argument when no command of the batch publishes", () => {
    expect(encodeReplicatedBatch(keys, [request, request], false, outbox)).toEqual(
      encodeReplicatedBatch(keys, [request, request], false),
    );
  });

  it("sends the stream, the JSON head of the ids and each command's message tails when one publishes", () => {
    const publish = [{ type: "com.example.poll.voted", data: { a: 1 }, time: "2026-01-01T00:00:00.000Z" }];
    const call = encodeReplicatedBatch(keys, [request, { ...request, publish }], false, outbox);
    expect(call.keys).toEqual([keys.values, keys.dedup, outbox.stream]);
    expect(call.args[3]).toBe('{"entityType":"poll","entityId":"p\\"1","id":"poll/p\\"1/');
    const tail = ',"type":"com.example.poll.voted","data":{"a":1},"time":"2026-01-01T00:00:00.000Z"}';
    expect(call.args.slice(-2)).toEqual(["1", tail]);
    const message = `${call.args[3]}7","version":7${tail}`;
    expect(JSON.parse(message)).toEqual({
      entityType: "poll",
      entityId: 'p"1',
      id: 'poll/p"1/7',
      version: 7,
      type: "com.example.poll.voted",
      data: { a: 1 },
      time: "2026-01-01T00:00:00.000Z",
    });
  });
});
