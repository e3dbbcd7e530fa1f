import { describe, expect, expectTypeOf, it } from "vitest";
import { defineEntity, defineValueEntity, reject, type Caller, type CommandContext } from "knstate";
import { testEntity } from "knstate/testkit";
import type { Component } from "../../src/entity/define.js";
import { toModel as modelOf } from "../../src/entity/model.js";
const toModel = (entity: unknown) => modelOf(entity as Component);
import { UnreadableEvent } from "../../src/entity/evolution.js";
import { UnreadableState } from "../../src/entity/snapshots.js";

interface Account {
  readonly balanceCents: number;
  readonly owner: string;
}

// Version 1 stored `deposited { amount }` in whole euros and `opened { name }`; version 2
// counts cents and renamed `opened` to `account-opened`.
const accountV2 = defineEntity({
  name: "account",
  typePrefix: "com.example",
  schemaVersion: 2,
  initialState: (): Account => ({ balanceCents: 0, owner: "" }),
  commands: {
    open: (_s, cmd: { owner: string }, ctx) => [
      { type: "account-opened", data: { owner: cmd.owner || (ctx.caller?.subject ?? "") } },
    ],
    deposit: (_s, cmd: { cents: number }) =>
      cmd.cents > 0
        ? [{ type: "deposited", data: { cents: cmd.cents } }]
        : reject("deposit must be positive"),
  },
  events: {
    "account-opened": (s: Account, e: { owner: string }): Account => ({ ...s, owner: e.owner }),
    deposited: (s: Account, e: { cents: number }): Account => ({
      ...s,
      balanceCents: s.balanceCents + e.cents,
    }),
  },
  upcast: {
    "deposited@1": (data: { amount: number }) => ({ type: "deposited", data: { cents: data.amount * 100 } }),
    opened: (data: { name: string }) => ({ type: "account-opened", data: { owner: data.name } }),
    "audited@1": () => null,
  },
  authorize: (caller, request) =>
    request.kind === "read" || request.command === "open" || caller?.claims["role"] === "teller",
});

/** The account with some options replaced (behaviour tests; the types are tested above). */
function variant(overrides: Record<string, unknown>) {
  return toModel(
    defineEntity({
      name: accountV2.name,
      typePrefix: accountV2.typePrefix,
      schemaVersion: accountV2.schemaVersion,
      initialState: accountV2.initialState,
      commands: accountV2.commands,
      events: accountV2.events,
      upcast: accountV2.upcast as never,
      ...overrides,
    } as never),
  );
}

describe("schema evolution: types", () => {
  it("checks upcasters' results against the current events and the rule's commands", () => {
    const base = {
      name: "typed",
      typePrefix: "com.example",
      schemaVersion: 2,
      initialState: () => 0,
      commands: { add: (_s: number, cmd: { n: number }) => [{ type: "added" as const, data: { n: cmd.n } }] },
      events: { added: (s: number, e: { n: number }) => s + e.n },
    };
    defineEntity({
      ...base,
      upcast: {
        split: () => [
          { type: "added", data: { n: 1 } },
          { type: "added", data: { n: 2 } },
        ],
        dropped: () => null,
        "added@1": (d: { count: number }) => ({ type: "added", data: { n: d.count } }),
      },
      authorize: (_c, r) => r.kind === "read" || r.command === "add",
      upcastState: (old) => Number(old),
    });
    defineEntity({
      ...base,
      upcast: {
        // @ts-expect-error an upcaster must return a current event type
        "added@1": () => ({ type: "removed", data: { n: 1 } }),
      },
    });
    defineEntity({
      ...base,
      upcast: {
        // @ts-expect-error the data must have the current shape
        "plus@1": (d: { x: number }) => ({ type: "added", data: { x: d.x } }),
      },
    });
    defineEntity({
      ...base,
      // @ts-expect-error the rule sees only the entity's command names
      authorize: (_c, r) => r.kind === "command" && r.command === "subtract",
    });
    defineEntity({
      name: "typed",
      typePrefix: "com.example",
      initialState: () => 0,
      commands: { add: () => [] },
      events: {},
      // @ts-expect-error the state upcaster returns the state type
      upcastState: () => "zero",
    });
    expectTypeOf(accountV2.schemaVersion).toEqualTypeOf<number>();
    expectTypeOf<CommandContext["caller"]>().toEqualTypeOf<Caller | undefined>();
  });
});

describe("schema evolution: behaviour", () => {
  it("folds version 1 events through upcasters, renamed and dropped ones included", () => {
    const kit = testEntity(accountV2, "acc-1").given(
      { type: "opened", data: { name: "ada" } },
      { type: "deposited", data: { amount: 3 } },
      { type: "audited", data: {} },
      { type: "deposited", data: { cents: 50 }, schemaVersion: 2 },
    );
    expect(kit.state).toEqual({ owner: "ada", balanceCents: 350 });
    const run = kit.run("deposit", { cents: 25 });
    expect(run.events).toEqual([{ type: "deposited", data: { cents: 25 }, schemaVersion: 2 }]);
    expect(run.state.balanceCents).toBe(375);
  });

  it("refuses an event no handler or upcaster accepts, and one written by a newer version", () => {
    const model = toModel(accountV2);
    const unknown = () => model.apply(model.initialState("a"), { type: "closed", data: {} });
    expect(unknown).toThrow(UnreadableEvent);
    expect(unknown).toThrow(/account .* "closed" \(schema version 1\)/);
    expect(() => model.apply({}, { type: "deposited", data: { cents: 1 }, schemaVersion: 3 })).toThrow(
      /newer definition/,
    );
  });

  it("refuses upcaster keys that could never apply or would loop", () => {
    const base = {
      name: "bad",
      typePrefix: "com.example",
      initialState: () => 0,
      commands: {},
      events: { added: (s: number) => s + 1 },
    };
    expect(() => toModel(defineEntity({ ...base, schemaVersion: 2, upcast: { added: () => null } }))).toThrow(
      /names a current event/,
    );
    expect(() =>
      toModel(defineEntity({ ...base, schemaVersion: 2, upcast: { "added@2": () => null } })),
    ).toThrow(/below schemaVersion 2/);
    expect(() => defineEntity({ ...base, schemaVersion: 0 })).toThrow(/schemaVersion/);
  });

  it("uses a chain of versioned upcasters by the version each event was written at", () => {
    const v3 = toModel(
      defineEntity({
        name: "temp",
        typePrefix: "com.example",
        schemaVersion: 3,
        initialState: () => [] as number[],
        commands: {},
        events: { measured: (s: number[], e: { kelvin: number }) => [...s, e.kelvin] },
        upcast: {
          "measured@1": (d: { fahrenheit: number }) => ({
            type: "measured",
            data: { kelvin: ((d.fahrenheit - 32) * 5) / 9 + 273 },
          }),
          "measured@2": (d: { celsius: number }) => ({ type: "measured", data: { kelvin: d.celsius + 273 } }),
        },
      }),
    );
    let state: unknown = v3.initialState("t");
    for (const event of [
      { type: "measured", data: { fahrenheit: 212 } },
      { type: "measured", data: { celsius: 0 }, schemaVersion: 2 },
      { type: "measured", data: { kelvin: 5 }, schemaVersion: 3 },
    ])
      state = v3.apply(state, event);
    expect(state).toEqual([373, 273, 5]);
  });

  it("uses only snapshots of the same version and definition code, else rebuilds or migrates", () => {
    const model = toModel(accountV2);
    const same = {
      version: 4,
      state: { owner: "a", balanceCents: 1 },
      schemaVersion: 2,
      fingerprint: model.fingerprint,
    };
    expect(model.acceptSnapshot(same)).toEqual({ use: true, state: same.state, migrated: false });
    expect(model.acceptSnapshot({ ...same, fingerprint: "other" })).toMatchObject({
      use: false,
      reason: /other event-handler code/,
    });
    expect(model.acceptSnapshot({ version: 4, state: {} })).toMatchObject({
      use: false,
      reason: /schema version 1/,
    });
    const migrating = variant({ upcastState: (old: Account) => ({ ...old, balanceCents: 0 }) });
    expect(migrating.acceptSnapshot({ version: 4, state: { owner: "b" }, schemaVersion: 1 })).toEqual({
      use: true,
      state: { owner: "b", balanceCents: 0 },
      migrated: true,
    });
  });

  it("changes the fingerprint with the event handlers' code, not with command handlers", () => {
    const a = variant({}).fingerprint;
    expect(a).toBe(toModel(accountV2).fingerprint);
    const commandsChanged = variant({ commands: { ...accountV2.commands, deposit: () => [] } });
    const eventsChanged = variant({ events: { ...accountV2.events, deposited: (s: Account) => s } });
    expect(commandsChanged.fingerprint).toBe(a);
    expect(eventsChanged.fingerprint).not.toBe(a);
  });

  it("migrates a value entity's older state and refuses one it cannot read", () => {
    const profile = defineValueEntity({
      name: "profile",
      typePrefix: "com.example",
      schemaVersion: 2,
      initialState: () => ({ names: [] as string[] }),
      commands: { rename: (p, cmd: { name: string }) => ({ names: [...p.names, cmd.name] }) },
      upcastState: (old, from) =>
        from === 1 ? { names: [(old as { name: string }).name] } : (old as { names: string[] }),
    });
    const model = toModel(profile);
    expect(model.acceptSnapshot({ version: 1, state: { name: "ada" } })).toEqual({
      use: true,
      state: { names: ["ada"] },
      migrated: true,
    });
    expect(
      model.acceptSnapshot({ version: 1, state: { names: [] }, schemaVersion: 2, fingerprint: "x" }),
    ).toMatchObject({ use: true, migrated: false });
    expect(() => model.acceptSnapshot({ version: 1, state: {}, schemaVersion: 3 })).toThrow(UnreadableState);
    const strict = toModel(
      defineValueEntity({
        name: "profile",
        typePrefix: "com.example",
        schemaVersion: 2,
        initialState: profile.initialState,
        commands: profile.commands,
      }),
    );
    expect(() => strict.acceptSnapshot({ version: 1, state: {} })).toThrow(/declare upcastState/);
    const run = testEntity(profile).run("rename", { name: "x" });
    expect(run.events[0]).toMatchObject({ schemaVersion: 2 });
  });
});

describe("per-entity access rules", () => {
  const model = toModel(accountV2);
  const teller: Caller = { subject: "t", claims: { role: "teller" } };
  it("asks the entity's rule with the caller and the command", () => {
    expect(model.authorize(teller, { kind: "command", command: "deposit", entityId: "a" })).toBe(true);
    expect(
      model.authorize({ subject: "c", claims: {} }, { kind: "command", command: "deposit", entityId: "a" }),
    ).toBe(false);
    expect(model.authorize(undefined, { kind: "command", command: "open", entityId: "a" })).toBe(true);
    expect(model.authorize(undefined, { kind: "read", entityId: "a" })).toBe(true);
  });

  it("denies when the rule throws or returns a promise, and allows all without a rule", () => {
    const throwing = variant({
      authorize: () => {
        throw new Error("bug");
      },
    });
    const asyncRule = variant({ authorize: () => Promise.resolve(true) });
    const open = variant({ authorize: undefined });
    const request = { kind: "read", entityId: "a" } as const;
    expect(throwing.authorize(teller, request)).toBe(false);
    expect(asyncRule.authorize(teller, request)).toBe(false);
    expect(open.authorize(undefined, request)).toBe(true);
  });

  it("hands the caller to the command handler", () => {
    const decision = model.execute(
      "open",
      model.initialState("a"),
      { owner: "" },
      { entityId: "a", command: "open", caller: teller },
    );
    expect(decision).toMatchObject({ kind: "accepted", state: { owner: "t" } });
  });
});
