import { describe, expect, it } from "vitest";
import { testEntity } from "knstate/testkit";
import reminder from "./index.js";

describe("reminder", () => {
  it("fires a scheduled reminder once, when due and not before", () => {
    const r = testEntity(reminder, "r1");
    r.run("schedule", { name: "tea", afterMs: 1500, message: "the tea is ready" });
    expect(r.state.pending).toEqual(["tea"]);
    expect(r.timers.map((t) => [t.name, t.command, t.due - r.now])).toEqual([["tea", "fire", 1500]]);
    expect(r.advanceTime(1499)).toEqual([]);
    const fired = r.advanceTime(1);
    expect(fired.map((f) => f.timer)).toEqual(["tea"]);
    expect(r.state.fired.map((f) => [f.name, f.message])).toEqual([["tea", "the tea is ready"]]);
    expect(r.state.pending).toEqual([]);
    expect(r.advanceTime(60_000)).toEqual([]);
  });

  it("replaces a reminder scheduled again under the same name", () => {
    const r = testEntity(reminder);
    r.run("schedule", { name: "a", afterMs: 1000, message: "first" });
    r.run("schedule", { name: "a", afterMs: 5000, message: "second" });
    expect(r.timers).toHaveLength(1);
    expect(r.advanceTime(1000)).toEqual([]);
    r.advanceTime(4000);
    expect(r.state.fired.map((f) => f.message)).toEqual(["second"]);
  });

  it("cancels a pending reminder", () => {
    const r = testEntity(reminder);
    r.run("schedule", { name: "a", afterMs: 1000, message: "m" });
    r.run("cancel", { name: "a" });
    expect(r.timers).toEqual([]);
    expect(r.advanceTime(10_000)).toEqual([]);
    expect(r.state).toEqual({ fired: [], pending: [] });
  });

  it("fires at once a reminder due now, and refuses a negative delay", () => {
    const r = testEntity(reminder);
    r.run("schedule", { name: "now", afterMs: 0, message: "m" });
    expect(r.advanceTime(0).map((f) => f.timer)).toEqual(["now"]);
    expect(r.run("schedule", { name: "x", afterMs: -1, message: "m" }).invalid).toBeDefined();
  });
});
