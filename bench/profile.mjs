#!/usr/bin/env node
// CPU profile of knstate's hot path under wrk load:
// `node bench/profile.mjs [echo|counter|counter-hot|likes-hot|http] [--tracing]`; PROFILE_ENV=K=V,K=V adds
// to knstate's environment (e.g. OTEL_TRACES_SAMPLER=always_off); PROFILE_SINK=1 starts a sink
// answering 200 on 127.0.0.1:4329 (for PROFILE_ENV=K_SINK=http://127.0.0.1:4329/).
// Starts knstate with `node --cpu-prof` (Redis store for counter/http, on a private
// redis-server), warms up, profiles PROFILE_SECONDS (10) of load, stops it, and prints the
// functions with the most self time, plus self time by file/package. The .cpuprofile is kept
// under bench/results/profiles/ (open it in Chrome DevTools or speedscope).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { benchSetup } = await import("./lib/bench-setup.mjs");
const { S, runWrk, fmt } = await benchSetup();

const scenario = process.argv[2] ?? "echo";
const traced = process.argv.includes("--tracing");
const loads = {
  echo: { mode: "ks-echo" },
  counter: { mode: "ce-counter", keys: 1000 },
  "counter-hot": { mode: "ce-counter", keys: 0, hot: "hot" },
  "likes-hot": { mode: "ce-likes", keys: 0, hot: "hot" },
  http: { mode: "http-counter", keys: 1000 },
};
if (!loads[scenario]) {
  process.stderr.write(`usage: node bench/profile.mjs [${Object.keys(loads).join("|")}] [--tracing]\n`);
  process.exit(2);
}
const seconds = Number(process.env.PROFILE_SECONDS ?? 10);
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const profileDir = join(
  S.BENCH_DIR,
  "results",
  "profiles",
  `${scenario}${traced ? "-tracing" : ""}-${stamp}`,
);
const logDir = join(S.BENCH_DIR, "results", "logs", `profile-${stamp}`);
mkdirSync(profileDir, { recursive: true });
mkdirSync(logDir, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), "knstate-profile-"));

let redis;
let ks;
let sink;
let outboxSink;
try {
  if (process.env.PROFILE_SINK === "1") {
    outboxSink = await S.startNodeScript({ name: "sink", script: "otlp-sink.mjs", port: 4329, logDir });
  }
  if (traced) {
    sink = await S.startNodeScript({ name: "otlp-sink", script: "otlp-sink.mjs", port: 4319, logDir });
  }
  const stateful = scenario !== "echo";
  if (stateful) redis = await S.startRedis({ port: 6391, dir: join(dataDir, "redis"), logDir });
  ks = await S.startKnstate({
    name: `knstate-profile-${scenario}`,
    port: 8401,
    metricsPort: 9541,
    service: "bench-profile",
    ...(redis ? { store: "redis", redisUrl: redis.url } : {}),
    ...(traced ? { otlp: "http://127.0.0.1:4319" } : {}),
    nodeArgs: ["--cpu-prof", "--cpu-prof-dir", profileDir],
    extra: Object.fromEntries(
      (process.env.PROFILE_ENV ?? "")
        .split(",")
        .filter(Boolean)
        .map((kv) => kv.split(/=(.*)/s).slice(0, 2)),
    ),
    logDir,
  });
  const load = { url: `http://127.0.0.1:${ks.port}/`, ...loads[scenario] };
  await runWrk({ ...load, seconds: 3, latency: false });
  const w = await runWrk({ ...load, seconds });
  process.stderr.write(`${scenario}: ${fmt(w.rps)} req/s under the profiler, p99 ${fmt(w.p99Ms, 2)} ms\n`);
} finally {
  await ks?.stop();
  await redis?.stop();
  await sink?.stop();
  await outboxSink?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const file = readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"));
if (!file) {
  process.stderr.write(`no profile was written to ${profileDir}\n`);
  process.exit(1);
}
summarize(JSON.parse(readFileSync(join(profileDir, file), "utf8")), join(profileDir, file));

function summarize(profile, path) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fn = new Map();
  const area = new Map();
  for (const [id, us] of selfUs) {
    const { callFrame: cf } = byId.get(id);
    const where = cf.url ? `${shorten(cf.url)}:${cf.lineNumber + 1}` : "";
    const key = `${cf.functionName || "(anonymous)"} ${where}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + us);
    const a = areaOf(cf);
    area.set(a, (area.get(a) ?? 0) + us);
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  const lines = [
    `# CPU profile: ${scenario} (${fmt(total / 1000)} ms sampled) ${path}`,
    "",
    "## Self time by function",
    "",
  ];
  for (const [k, us] of top(fn, 30)) lines.push(`${fmt((100 * us) / total, 1).padStart(5)}%  ${k}`);
  lines.push("", "## Self time by file or package", "");
  for (const [k, us] of top(area, 25)) lines.push(`${fmt((100 * us) / total, 1).padStart(5)}%  ${k}`);

  // Where the time of the heaviest native functions (socket writes, mostly) comes from.
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n) =>
    `${n.callFrame.functionName || "(anonymous)"} ${shorten(n.callFrame.url ?? "").replace(/^.*node_modules\//, "")}`.trim();
  const heavyNative = top(fn, 6)
    .map(([k]) => k)
    .filter((k) => !k.startsWith("(") && !k.includes(" "));
  for (const name of heavyNative.slice(0, 3)) {
    const chains = new Map();
    for (const [id, us] of selfUs) {
      const n = byId.get(id);
      if ((n.callFrame.functionName || "(anonymous)") !== name || n.callFrame.url) continue;
      const chain = [];
      for (let p = parent.get(id), depth = 0; p !== undefined && depth < 8; p = parent.get(p), depth++) {
        const pn = byId.get(p);
        if (pn.callFrame.url?.includes("dist/") || pn.callFrame.url?.includes("node_modules/"))
          chain.push(label(pn));
        if (chain.length >= 3) break;
      }
      const key = chain.join(" < ") || "(no JS caller)";
      chains.set(key, (chains.get(key) ?? 0) + us);
    }
    lines.push("", `## Callers of ${name}`, "");
    for (const [k, us] of top(chains, 4)) lines.push(`${fmt((100 * us) / total, 1).padStart(5)}%  ${k}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

function shorten(url) {
  return url.replace(/^file:\/\//, "").replace(S.ROOT + "/", "");
}

function areaOf(cf) {
  const url = shorten(cf.url ?? "");
  if (!url) return cf.functionName.startsWith("(") ? cf.functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm:${pkg[1]}`;
  if (url.startsWith("node:")) return url;
  return url;
}
