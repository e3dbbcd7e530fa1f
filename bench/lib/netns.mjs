// Re-runs the current script inside a private network namespace that has only loopback
// (`unshare -n`, or `unshare -rn` when not root), unless BENCH_NETNS=0. Returns whether the
// process is in such a namespace.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export function enterLoopbackNetns() {
  if (process.env.BENCH_NETNS !== "0" && process.env.BENCH_IN_NETNS !== "1") {
    const flags = process.getuid?.() === 0 ? ["-n"] : ["-rn"];
    const r = spawnSync(
      "unshare",
      [
        ...flags,
        "sh",
        "-c",
        'ip link set lo up && exec "$0" "$@"',
        process.execPath,
        ...process.argv.slice(1),
      ],
      { stdio: "inherit", env: { ...process.env, BENCH_IN_NETNS: "1" } },
    );
    if (r.error) {
      process.stderr.write(
        `bench: cannot enter a network namespace (${r.error.message}); set BENCH_NETNS=0 to run without one (Restate is then left out)\n`,
      );
      process.exit(1);
    }
    process.exit(r.status ?? 1);
  }
  return inLoopbackNetns();
}

/** Whether this process runs in the loopback-only namespace enterLoopbackNetns() made. */
export function inLoopbackNetns() {
  return process.env.BENCH_IN_NETNS === "1" && onlyLoopback();
}

/** True when the only network device this process sees is `lo`. */
export function onlyLoopback() {
  try {
    const devs = readFileSync("/proc/self/net/dev", "utf8")
      .split("\n")
      .slice(2)
      .map((l) => l.split(":")[0].trim())
      .filter(Boolean);
    return devs.length === 1 && devs[0] === "lo";
  } catch {
    return false;
  }
}
