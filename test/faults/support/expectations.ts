import { expect } from "vitest";
import type { Figures } from "./checker.js";
import type { HostProcess } from "../../support/host.js";
import { COMMAND_TIMEOUT_MS, runScenario } from "./harness.js";

/**
 * The longest a delivery attempt may take while Redis stalls. A request's batch makes at most
 * two store calls (load, then append), each bounded by the command timeout, and may first wait
 * for the batch of the same entity ahead of it (two more); plus scheduling margin.
 */
export const STALL_BUDGET_MS = 4 * COMMAND_TIMEOUT_MS + 1000;

/** The invariants of every scenario: nothing acknowledged lost, nothing applied twice, no gaps. */
export function expectNothingLostOrDoubled(figures: Figures): void {
  expect(figures.acked_lost).toBe(0);
  expect(figures.dup_applied).toBe(0);
  expect(figures.version_gaps).toBe(0);
  expect(figures.version_mismatch).toBe(0);
  expect(figures.unknown_applied).toBe(0);
}

/** A scenario that stalls Redis or the network under load over `hosts`, reporting the budget. */
export function stallScenario(
  name: string,
  hosts: () => readonly HostProcess[],
  fault: () => Promise<number>,
) {
  return runScenario({
    name,
    hosts: () => hosts().map((h) => h.url),
    reader: () => hosts()[0]!.url,
    fault,
    extra: () => ({ budget_ms: STALL_BUDGET_MS }),
  });
}
