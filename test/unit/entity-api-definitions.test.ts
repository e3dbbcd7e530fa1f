import { describe, expect, it } from "vitest";
import { defineAction, defineEntity, defineValueEntity } from "knstate";

/** What define* accepts and refuses, and what it returns. */

describe("definitions", () => {
  const base = { typePrefix: "com.example", initialState: () => ({}), events: {}, commands: {} };

  it.each(["Counter", "1counter", "my_entity", "", "a".repeat(64), "café"])(
    "refuses the entity name %j",
    (name) => {
      expect(() => defineEntity({ ...base, name })).toThrow(new RegExp(`entity name "${name}"`));
      expect(() => defineValueEntity({ ...base, name })).toThrow(TypeError);
      expect(() => defineAction({ name, typePrefix: "com.example", handlers: {} })).toThrow(/action name/);
    },
  );

  it.each(["", ".com", "com..example", "com example", "com.example."])(
    "refuses the type prefix %j",
    (typePrefix) => {
      expect(() => defineEntity({ ...base, name: "ok", typePrefix })).toThrow(/typePrefix/);
    },
  );

  it.each(["", "1st", "with space", "dotted.name", "a".repeat(64)])(
    "refuses the command name %j",
    (command) => {
      expect(() => defineEntity({ ...base, name: "ok", commands: { [command]: (): never[] => [] } })).toThrow(
        /command name/,
      );
      expect(() =>
        defineAction({ name: "ok", typePrefix: "com.example", handlers: { [command]: () => 1 } }),
      ).toThrow(/command name/);
    },
  );

  it.each([0, -1, 1.5, Number.NaN])("refuses snapshotEvery %d", (snapshotEvery) => {
    expect(() => defineEntity({ ...base, name: "ok", snapshotEvery })).toThrow(/snapshotEvery/);
  });

  it("returns frozen definitions with the defaults filled in", () => {
    const entity = defineEntity({ ...base, name: "ok-1", commands: { do_it: () => [] } });
    expect(Object.isFrozen(entity)).toBe(true);
    expect(entity.snapshotEvery).toBe(100);
    expect(entity.reply).toBeUndefined();
    expect(
      Object.isFrozen(defineAction({ name: "act", typePrefix: "io.x-y", handlers: { go: () => 1 } })),
    ).toBe(true);
  });
});
