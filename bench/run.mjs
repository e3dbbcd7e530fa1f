#!/usr/bin/env node
// knstate benchmarks, side by side with faas-js-runtime, Restate, bare node:http and
// redis-benchmark. See docs/benchmarks.md. Prints the tables and PASS/MISS lines and writes
// bench/results/latest.json.
//
// Settings (environment): BENCH_ROUNDS (3), BENCH_DURATION (10 s), BENCH_WARMUP (3 s),
// BENCH_CONNECTIONS (64), BENCH_QUICK=1 (1 round of 3 s: a smoke run), BENCH_SECTIONS
// (echo,counter,load,cold,footprint), BENCH_FOOTPRINT_COUNTS (10000,100000), BENCH_COLD_RUNS (10), BENCH_RESTATE=0 (leave Restate out),
// BENCH_ONLY (comma-separated contender ids to measure), BENCH_NETNS=0 (do not enter a
// private network namespace; Restate is then left out), KNSTATE_ROOT (the built knstate to measure; default: this repository).
// The sections are in bench/sections/, one file each; what they share is in bench/lib/.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// Every contender runs inside a private network namespace that has only loopback: nothing
// can listen on, or reach, anything else (restate-server phones home at every start).
const { enterLoopbackNetns } = await import("./lib/netns.mjs");
enterLoopbackNetns();

// The rest is imported inside the namespace (the run's state makes its directories on import).
const { cfg, dataDir, inNetns, log, logDir, results, resultsDir, stopAll } =
  await import("./lib/run-state.mjs");
const S = await import("./lib/servers.mjs");
const { targets } = await import("./lib/targets.mjs");
const { print } = await import("./lib/print.mjs");
const { echoSection } = await import("./sections/echo.mjs");
const { counterSection } = await import("./sections/counter.mjs");
const { loadSection } = await import("./sections/load.mjs");
const { coldSection } = await import("./sections/cold.mjs");
const { footprintSection } = await import("./sections/footprint.mjs");

let failed = false;
try {
  log(
    `settings: ${JSON.stringify({ rounds: cfg.rounds, duration: cfg.duration, warmup: cfg.warmup, sections: cfg.sections, restate: cfg.restate, netns: inNetns })}; logs in ${logDir}`,
  );
  S.knstatePaths();
  if (cfg.sections.includes("echo")) await echoSection();
  if (cfg.sections.includes("counter")) await counterSection();
  if (cfg.sections.includes("load")) await loadSection();
  if (cfg.sections.includes("cold")) await coldSection();
  if (cfg.sections.includes("footprint")) await footprintSection();
} catch (error) {
  failed = true;
  results.error = String(error.stack ?? error);
  log(`FAILED: ${error.stack ?? error}`);
} finally {
  await stopAll();
  rmSync(dataDir, { recursive: true, force: true });
}
results.targets = targets();
for (const s of Object.values(results.sections)) {
  // Keep per-round figures in the rows; the raw map duplicates them.
  delete s.runs;
}
const text = print();
process.stdout.write(`${text}\n`);
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(resultsDir, "latest.md"), `${text}\n`);
log(`wrote ${join(resultsDir, "latest.json")}`);
process.exit(failed ? 1 : 0);
