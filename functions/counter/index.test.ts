import { describe, expect, it } from "vitest";
import { testEntity } from "knstate/testkit";
import counter from "./index.js";

describe("counter", () => {
  it("starts at zero and increments by one without data", () => {
    const c = testEntity(counter, "c1");
    expect(c.state).toEqual({ value: 0 });
    const run = c.run("increment");
    expect(run.reply).toEqual({ value: 1 });
    expect(run.events).toEqual([{ type: "changed", data: { by: 1 } }]);
    expect(c.version).toBe(1);
  });

  it("increments and decrements by the given amount", () => {
    const c = testEntity(counter);
    c.run("increment", { by: 5 });
    expect(c.run("decrement", { by: 2 }).reply).toEqual({ value: 3 });
    expect(c.version).toBe(2);
  });

  it("reads without storing anything", () => {
    const c = testEntity(counter).given({ type: "changed", data: { by: 7 } });
    const run = c.run("get");
    expect(run.reply).toEqual({ value: 7 });
    expect(run.events).toEqual([]);
    expect(c.version).toBe(1);
  });

  it("resets to zero, and a reset at zero stores nothing", () => {
    const c = testEntity(counter).given({ type: "changed", data: { by: 3 } });
    expect(c.run("reset").reply).toEqual({ value: 0 });
    expect(c.version).toBe(2);
    expect(c.run("reset").events).toEqual([]);
    expect(c.version).toBe(2);
  });

  it.each([
    [{ by: 1.5 }, /safe integer/],
    [{ by: "2" }, /safe integer/],
    [{ by: 2 ** 53 }, /safe integer/],
    [{ by: 1, extra: true }, /unexpected key "extra"/],
    [[1], /expected an object/],
    ["1", /expected an object/],
  ])("refuses data %j as invalid", (data, message) => {
    const run = testEntity(counter).run("increment", data as never);
    expect(run.invalid).toMatch(message);
    expect(run.events).toEqual([]);
  });

  it("rejects an increment that would leave the safe integer range", () => {
    const c = testEntity(counter).given({ type: "changed", data: { by: Number.MAX_SAFE_INTEGER } });
    const run = c.run("increment", { by: 1 });
    expect(run.rejected).toMatch(/safe integer range/);
    expect(c.state.value).toBe(Number.MAX_SAFE_INTEGER);
  });
});
