import { describe, expect, expectTypeOf, it } from "vitest";
import {
  counter,
  defineReplicatedEntity,
  emit,
  flag,
  lease,
  map,
  operations,
  register,
  reject,
  reply,
  set,
  vote,
  type LeaseState,
  type Values,
  type VoteState,
} from "knstate";
import { toReplicatedModel } from "../../src/entity/replicated/model.js";
import likes from "../../functions/likes/index.js";

const board = {
  count: counter(),
  open: flag(),
  title: register<string>(),
  tags: set<string>(),
  votes: vote<"yes" | "no">(),
  owner: lease(),
  scores: map(counter()),
} as const;

describe("the replicated entity API's types", () => {
  it("types each value as handlers read it", () => {
    expectTypeOf<Values<typeof board>>().toEqualTypeOf<{
      readonly count: number;
      readonly open: boolean;
      readonly title: string | undefined;
      readonly tags: readonly string[];
      readonly votes: VoteState<"yes" | "no">;
      readonly owner: LeaseState;
      readonly scores: Readonly<Record<string, number>>;
    }>();
  });

  it("offers only the operations of each declared value, with its argument types", () => {
    const ops = operations(board);
    ops.count.increment(2);
    ops.tags.add("x");
    ops.scores.at("ann").decrement();
    ops.votes.vote("ann", "yes");
    expect(() => {
      // @ts-expect-error -- no such value
      ops.nope.increment(); // eslint-disable-line @typescript-eslint/no-unsafe-call
    }).toThrow(/declares no replicated value "nope"/);
    expect(() => {
      // @ts-expect-error -- a set has no increment
      ops.tags.increment(1); // eslint-disable-line @typescript-eslint/no-unsafe-call
    }).toThrow(TypeError);
    // @ts-expect-error -- a set of strings takes strings
    expect(() => ops.tags.add(5)).not.toThrow();
    // @ts-expect-error -- a vote takes one of its values
    ops.votes.vote("ann", "maybe");
    // @ts-expect-error -- a counter takes a number
    expect(() => ops.count.increment("2")).toThrow(/safe integer/);
    expect(() => {
      // @ts-expect-error -- a map of counters holds counters
      ops.scores.at("a").add("x"); // eslint-disable-line @typescript-eslint/no-unsafe-call
    }).toThrow(TypeError);
  });

  it("refuses operations on another entity's values in a handler's result", () => {
    const other = operations({ elsewhere: counter() });
    defineReplicatedEntity({
      name: "typed",
      typePrefix: "com.example",
      values: board,
      commands: {
        right: (v, cmd: { by: number }, { ops }) => {
          expectTypeOf(v.count).toEqualTypeOf<number>();
          return v.open ? [ops.count.increment(cmd.by)] : reject("closed");
        },
        read: (v) => reply(v.tags),
        both: (_v, _cmd: undefined, { ops }) => emit([ops.open.enable(), ops.title.set("t")], { ok: true }),
      },
    });
    defineReplicatedEntity({
      name: "typed",
      typePrefix: "com.example",
      values: board,
      commands: {
        // @ts-expect-error -- `elsewhere` is not a value of this entity
        wrong: () => [other.elsewhere.increment()],
      },
    });
  });
});

describe("the replicated model", () => {
  const model = toReplicatedModel(likes as never);
  const empty = { seq: 0, cells: new Map<string, string>(), nowMs: 0 };
  const ctx = { entityId: "p", command: "like" };

  it("decides operations and the cells its reply needs", () => {
    const decision = model.execute("like", empty, { by: 2 }, ctx);
    expect(decision).toMatchObject({ kind: "accepted", returnCells: ["c|count"] });
    expect(decision.kind === "accepted" && decision.ops.map((op) => [op.code, op.cell, op.a])).toEqual([
      ["inc", "c|count", "2"],
    ]);
  });

  it("decides without values when the handler reads none, and asks for them when it does", () => {
    expect(model.executeBlind("like", { by: 3 }, ctx)).toMatchObject({
      kind: "accepted",
      returnCells: ["c|count"],
    });
    let after = 0;
    const reader = toReplicatedModel(
      defineReplicatedEntity({
        name: "reader",
        typePrefix: "com.example",
        values: { n: counter() },
        commands: {
          bump: (v, _data: unknown, { ops }) => {
            const op = v.n < 10 ? [ops.n.increment()] : [];
            after++; // not reached when the values are withheld: the read throws first
            return op;
          },
          fail: () => {
            throw new Error("refused by the handler");
          },
        },
      }) as never,
    );
    expect(reader.executeBlind("bump", undefined, ctx)).toBeUndefined();
    expect(after).toBe(0);
    expect(() => reader.executeBlind("fail", undefined, ctx)).toThrow(/refused by the handler/);
  });

  it("does not run a command blind again once it has read a value", () => {
    let runs = 0;
    const reader = toReplicatedModel(
      defineReplicatedEntity({
        name: "reader",
        typePrefix: "com.example",
        values: { n: counter() },
        commands: {
          bump: (v, _data: unknown, { ops }) => {
            runs++;
            return v.n < 10 ? [ops.n.increment()] : [];
          },
        },
      }) as never,
    );
    expect(reader.executeBlind("bump", undefined, ctx)).toBeUndefined();
    expect(reader.executeBlind("bump", undefined, ctx)).toBeUndefined();
    expect(runs).toBe(1);
    // The load path still runs it, as often as it is asked.
    reader.execute("bump", { cells: new Map(), seq: 0, nowMs: 0 }, undefined, ctx);
    expect(runs).toBe(2);
  });

  it("types an access rule's command names and runs it", () => {
    const guarded = defineReplicatedEntity({
      name: "guarded",
      typePrefix: "com.example",
      values: { n: counter() },
      commands: { bump: (_v, _data: unknown, { ops }) => [ops.n.increment()] },
      authorize: (caller, request) => {
        if (request.kind === "command") expectTypeOf(request.command).toEqualTypeOf<"bump">();
        return caller?.subject === "ann";
      },
    });
    const guardedModel = toReplicatedModel(guarded as never);
    const request = { kind: "command", command: "bump", entityId: "g" } as const;
    expect(guardedModel.authorize({ subject: "ann", claims: {} }, request)).toBe(true);
    expect(guardedModel.authorize({ subject: "bob", claims: {} }, request)).toBe(false);
    expect(guardedModel.authorize(undefined, request)).toBe(false);
    expect(model.authorize(undefined, request)).toBe(true);
  });

  it("refuses a handler result holding an operation on an undeclared value", () => {
    const bad = defineReplicatedEntity({
      name: "bad",
      typePrefix: "com.example",
      values: { n: counter() },
      commands: { go: () => [operations({ m: counter() }).m.increment() as never] },
    });
    expect(() => toReplicatedModel(bad as never).execute("go", empty, undefined, ctx)).toThrow(
      /undeclared value/,
    );
  });

  it("refuses bad declarations", () => {
    const define = (name: string, values: Record<string, never>) =>
      defineReplicatedEntity({ name, typePrefix: "com.example", values, commands: {} });
    expect(() => define("Bad", { n: counter() as never })).toThrow(/entity name/);
    expect(() => define("ok", {})).toThrow(/declares no values/);
    expect(() => define("ok", { "a|b": counter() as never })).toThrow(/value name/);
    expect(() => vote({ ttlMs: -1 })).toThrow(/ttlMs/);
  });

  it("refuses oversized elements and values that are not JSON", () => {
    const ops = operations({ tags: set<string>(), any: register<number>() });
    expect(() => ops.tags.add("x".repeat(1025))).toThrow(/at most 1024/);
    expect(() => ops.any.set(Number.NaN)).toThrow(/must be JSON/);
    expect(() => ops.any.set(1, 1.5)).toThrow(/clock must be a safe integer/);
    expect(() => ops.any.set(1, -1)).toThrow(/must not be negative/);
  });
});
