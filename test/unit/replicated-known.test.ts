import { describe, expect, it } from "vitest";
import { KnownStates, MAX_BACKOFF, MAX_KNOWN_CELLS } from "../../src/pipeline/replicated-known.js";

const snapshot = (size: number) => ({
  seq: 1,
  nowMs: 0,
  cells: new Map(Array.from({ length: size }, (_, i) => [`c|n${i}`, "1"])),
});

/** How many batches go to the apply script before the next prediction, and whether the last brings the cells. */
function slowRun(known: KnownStates, id: string): number {
  let batches = 0;
  for (;;) {
    if (known.cellsFor(id) !== undefined) return batches;
    batches++;
    const all = known.wantsAll(id);
    known.settled(id, all ? snapshot(2) : undefined);
    if (batches > 1000) throw new Error("never predicts again");
  }
}

describe("what a host knows of replicated entities, to predict their batches", () => {
  it("asks for every cell with the first batch, then predicts from what it wrote", () => {
    const known = new KnownStates();
    expect(known.cellsFor("e")).toBeUndefined();
    expect(known.wantsAll("e")).toBe(true);
    known.settled("e", snapshot(2));
    expect(known.cellsFor("e")?.size).toBe(2);
    known.applied("e", snapshot(3).cells);
    expect(known.cellsFor("e")?.size).toBe(3);
  });

  it("backs off 1, 2, 4 … 64 batches after each stale prediction, and half as long after one that held", () => {
    const known = new KnownStates();
    known.settled("e", snapshot(2));
    const runs: number[] = [];
    for (let i = 0; i < 9; i++) {
      known.stale("e");
      runs.push(slowRun(known, "e"));
    }
    expect(runs).toEqual([1, 2, 4, 8, 16, 32, 64, 64, 64]);
    known.applied("e", snapshot(2).cells);
    known.stale("e");
    expect(slowRun(known, "e")).toBe(64);
    for (let i = 0; i < 7; i++) known.applied("e", snapshot(2).cells);
    known.stale("e");
    expect(slowRun(known, "e")).toBe(1);
  });

  it("does not keep an entity with more cells than it predicts on, nor one whose batches read the clock", () => {
    const known = new KnownStates();
    expect(known.wantsAll("big")).toBe(true);
    known.settled("big", snapshot(MAX_KNOWN_CELLS + 1));
    // Never asked for all its cells again: a large entity would pay a large HGETALL.
    for (let i = 0; i < 500; i++) {
      expect(known.wantsAll("big")).toBe(false);
      known.settled("big", undefined);
    }
    expect(known.cellsFor("big")).toBeUndefined();
    known.settled("clock", snapshot(2));
    known.unpredictable("clock");
    expect(slowRun(known, "clock")).toBe(MAX_BACKOFF);
  });

  it("keeps at most 100,000 cells over all entities, dropping the least recently used", () => {
    const known = new KnownStates();
    for (let i = 0; i < 2000; i++) known.settled(`e${i}`, snapshot(60));
    expect(known.cellsFor("e0")).toBeUndefined();
    expect(known.cellsFor("e1999")?.size).toBe(60);
  });

  it("forgets an entity whose last call had an unknown outcome, and one written through the apply script", () => {
    const known = new KnownStates();
    known.settled("e", snapshot(2));
    known.forget("e");
    expect(known.cellsFor("e")).toBeUndefined();
    known.settled("e", snapshot(2));
    known.settled("e", undefined);
    expect(known.cellsFor("e")).toBeUndefined();
  });
});
