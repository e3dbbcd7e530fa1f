// The start that the side-by-side benchmarks share (bench/ab.mjs, outbox.mjs, hot-key.mjs,
// timers.mjs, profile.mjs): the loopback-only network namespace first, then their helpers.
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enterLoopbackNetns } from "./netns.mjs";

/**
 * Re-runs the script inside a loopback-only network namespace (see netns.mjs), then loads there
 * what every benchmark uses: the servers (`S`), `runWrk`, and the statistics and process helpers
 * (stats.mjs, proc.mjs) spread into the same object.
 */
export async function benchSetup() {
  enterLoopbackNetns();
  // Loaded inside the namespace only: the process outside it exits in enterLoopbackNetns().
  const [S, wrk, stats, proc] = await Promise.all([
    import("./servers.mjs"),
    import("./wrk.mjs"),
    import("./stats.mjs"),
    import("./proc.mjs"),
  ]);
  return { S, ...wrk, ...stats, ...proc };
}

/** A scratch directory `knstate-<name>-…` for one run, with its `logs/` folder. */
export function scratchDir(name) {
  const dataDir = mkdtempSync(join(tmpdir(), `knstate-${name}-`));
  const logDir = join(dataDir, "logs");
  mkdirSync(logDir, { recursive: true });
  return { dataDir, logDir };
}
