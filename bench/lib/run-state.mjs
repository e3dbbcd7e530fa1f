// The run's settings (from the environment, see docs/benchmarks.md), its log, directories and
// results, and the servers it has started.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { cpus, totalmem, tmpdir, release } from "node:os";
import { join } from "node:path";
import { inLoopbackNetns } from "./netns.mjs";
import { listeners, rssMiB } from "./proc.mjs";
import * as S from "./servers.mjs";

export const inNetns = inLoopbackNetns();

const int = (name, fallback) => {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number (got ${v})`);
  return n;
};
const quick = process.env.BENCH_QUICK === "1";
export const cfg = {
  quick,
  rounds: Math.max(1, int("BENCH_ROUNDS", quick ? 1 : 3)),
  duration: Math.max(1, int("BENCH_DURATION", quick ? 3 : 10)),
  warmup: int("BENCH_WARMUP", quick ? 1 : 3),
  connections: Math.max(1, int("BENCH_CONNECTIONS", 64)),
  coldRuns: Math.max(1, int("BENCH_COLD_RUNS", quick ? 3 : 10)),
  loadGets: Math.max(5, int("BENCH_LOAD_GETS", quick ? 30 : 100)),
  bigEvents: Math.max(100, int("BENCH_BIG_EVENTS", 20_000)),
  smallEvents: 100,
  rbRequests: Math.max(1000, int("BENCH_RB_REQUESTS", quick ? 50_000 : 200_000)),
  idleWaitMs: quick ? 500 : 2000,
  sections: (process.env.BENCH_SECTIONS ?? "echo,counter,load,cold,footprint")
    .split(",")
    .map((s) => s.trim()),
  footprintCounts: (process.env.BENCH_FOOTPRINT_COUNTS ?? (quick ? "10000" : "10000,100000"))
    .split(",")
    .map(Number),
  restate: process.env.BENCH_RESTATE !== "0",
};

if (cfg.restate && !inNetns) {
  log("Restate left out: it only runs inside a network namespace that has nothing but loopback");
  cfg.restate = false;
}

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
export const resultsDir = join(S.BENCH_DIR, "results");
export const logDir = join(resultsDir, "logs", stamp);
mkdirSync(logDir, { recursive: true });
export const dataDir = mkdtempSync(join(tmpdir(), "knstate-bench-"));

export const started = [];
export const results = {
  date: new Date().toISOString(),
  machine: machine(),
  knstate: knstateRevision(),
  settings: { ...cfg, netns: inNetns, redis: "appendonly yes, appendfsync everysec, no RDB snapshots" },
  notes: [],
  sections: {},
  targets: [],
};

export function log(message) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** The measured knstate: its directory and git commit (BENCH_KNSTATE_REV names it when not a checkout). */
function knstateRevision() {
  let commit = process.env.BENCH_KNSTATE_REV;
  if (!commit) {
    try {
      commit = execFileSync("git", ["-C", S.ROOT, "rev-parse", "--short", "HEAD"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
      const dirty = execFileSync(
        "git",
        ["-C", S.ROOT, "status", "--porcelain", "--", "src", "functions", "config"],
        { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
      ).trim();
      if (dirty) commit += " (with uncommitted changes)";
    } catch {
      commit = "unknown";
    }
  }
  return { root: S.ROOT, commit };
}

function machine() {
  const c = cpus();
  let os = release();
  try {
    os = readFileSync("/etc/os-release", "utf8").match(/PRETTY_NAME="([^"]+)"/)?.[1] ?? os;
  } catch {
    // keep the kernel release
  }
  return {
    cpu: c[0]?.model ?? "unknown",
    cores: c.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    os,
    kernel: release(),
    node: process.version,
  };
}

export async function start(promise) {
  const server = await promise;
  started.push(server);
  const check = listeners(server.pids());
  if (check.offending.length > 0) {
    throw new Error(`${server.name} listens on a non-loopback address: ${JSON.stringify(check.offending)}`);
  }
  server.listeners = check.all.map((l) => l.address);
  return server;
}

export async function stopAll() {
  for (const server of started.splice(0).reverse()) {
    await server.stop().catch(() => {});
  }
}

export function rssOf(server) {
  return server.pids().reduce((sum, pid) => sum + rssMiB(pid), 0);
}
