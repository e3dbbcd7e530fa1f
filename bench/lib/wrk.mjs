// Runs wrk (a separate C process) against one contender and parses the JSON line that
// wrk/bench.lua prints from its done() hook.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../wrk/bench.lua", import.meta.url));

/**
 * wrk -t1 -c<connections> -d<seconds>s [--latency] -s wrk/bench.lua <url>, with the request
 * shape chosen by `mode` (see bench.lua) and ids drawn from `keys` entities (0: the `hot` id).
 */
export function runWrk({
  url,
  mode,
  seconds,
  connections = 64,
  keys = 1000,
  hot = "hot",
  idPrefix = "e",
  latency = true,
}) {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "5s"];
  if (latency) args.push("--latency");
  args.push("-s", script, url);
  const env = {
    ...process.env,
    BENCH_MODE: mode,
    BENCH_KEYS: String(keys),
    BENCH_HOT: hot,
    BENCH_ID_PREFIX: idPrefix,
  };
  return new Promise((resolve, reject) => {
    execFile(
      "wrk",
      args,
      { env, timeout: (seconds + 30) * 1000, maxBuffer: 4 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`wrk failed: ${error.message}\n${stderr}`));
          return;
        }
        const line = stdout.split("\n").find((l) => l.startsWith("BENCHJSON "));
        if (!line) {
          reject(new Error(`wrk printed no result:\n${stdout}\n${stderr}`));
          return;
        }
        const r = JSON.parse(line.slice("BENCHJSON ".length));
        const ok = r.requests - r.non2xx;
        resolve({
          ...r,
          ok,
          rps: ok / (r.durationUs / 1e6),
          p50Ms: r.p50Us / 1000,
          p99Ms: r.p99Us / 1000,
          socketErrors: r.connectErrors + r.readErrors + r.writeErrors + r.timeouts,
        });
      },
    );
  });
}
