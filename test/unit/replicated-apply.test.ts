import { describe, expect, it } from "vitest";
import { applyOps } from "../../src/entity/replicated/apply.js";
import type { Cells } from "../../src/entity/replicated/cells.js";
import { decodeValues } from "../../src/entity/replicated/decode.js";
import { CASES, comparable } from "../support/replicated-cases.js";

/** The shared cases on the memory apply, with a clock that moves only on `wait`. */
describe("the memory apply of replicated operations", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", (_name, testCase) => {
    let cells: Cells = new Map();
    let nowMs = 1_700_000_000_000;
    for (const step of testCase.steps) {
      if ("wait" in step) {
        nowMs += step.wait;
        continue;
      }
      const seq = Number(cells.get("#") ?? "0");
      const result = applyOps(cells, step.ops, { nowUs: nowMs * 1000, observed: step.observed ?? seq });
      if (step.refused) {
        expect(result).toEqual({ kind: "refused", reason: expect.stringMatching(step.refused) });
        continue;
      }
      expect(result.kind).toBe("applied");
      if (result.kind === "applied") {
        expect(result.seq).toBe(seq + 1);
        cells = result.cells;
      }
    }
    expect(comparable(decodeValues(testCase.specs, cells, nowMs))).toEqual(testCase.expected);
  });

  it("does not change the cells it is given", () => {
    const before = new Map([["c|n", "1"]]);
    const op = { field: "n", code: "inc", cell: "c|n", a: "2", b: "", c: "", entry: "" } as const;
    const result = applyOps(before, [op], { nowUs: 0, observed: 0 });
    expect(before).toEqual(new Map([["c|n", "1"]]));
    expect(result.kind === "applied" && result.cells.get("c|n")).toBe("3");
  });
});
