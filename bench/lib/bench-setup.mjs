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

/**
 * A variant given as `name` or `name:KEY=VALUE,KEY=VALUE,...`: its name, the checkout to run
 * (`root=`), Node options (`node=--a --b`), the values of the benchmark's own `options` (a key
 * given without `=VALUE` is ""; one not given is undefined), and the rest as extra environment.
 */
export function parseVariant(spec, options = []) {
  const [name, rest = ""] = spec.split(/:(.*)/s);
  const env = Object.fromEntries(
    rest
      .split(/,(?=[A-Za-z_][A-Za-z0-9_]*=)/)
      .filter(Boolean)
      .map((kv) => kv.split(/=(.*)/s).slice(0, 2)),
  );
  const take = (key) => {
    const value = key in env ? (env[key] ?? "") : undefined;
    delete env[key];
    return value;
  };
  const root = take("root");
  const node = take("node");
  const own = Object.fromEntries(options.map((key) => [key, take(key)]));
  return { name, root, nodeArgs: node ? node.split(" ") : [], options: own, env };
}
