#!/usr/bin/env node
// Side-by-side A/B of knstate variants under the same wrk load, taking turns:
// `node bench/ab.mjs <echo|counter|counter-hot|http> <variant>...` where a variant is
// `name` or `name:KEY=VALUE,KEY=VALUE` (extra environment; `otlp` turns on tracing to a local
// sink; `root=/path` runs another built checkout, e.g. a `git worktree` of the base commit;
// `node=--flag --flag` passes Node options; `load=<scenario>` gives that variant another load, e.g.
// `node bench/ab.mjs counter ce http:load=http` compares the CloudEvent and HTTP API paths).
// AB_ROUNDS (3), AB_SECONDS (5). Prints each variant's median req/s, p99, server CPU µs per
// request (and Redis's), and its throughput ratio to the first.
// Each variant is its own service (`bench-ab-<n>`), so a variant with K_SINK relays only its own
// outbox; after each run the measurement waits until that outbox is empty (or stops shrinking for
// 2 s, e.g. an unreachable sink), so the CPU of relaying the run's events is counted in its run,
// and `drained` is the run's requests over its load time plus that wait.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { benchSetup, parseVariant } = await import("./lib/bench-setup.mjs");
const { S, runWrk, fmt, median, cpuMicros, cpuTimes, httpRequest } = await benchSetup();

const [scenario = "echo", ...specs] = process.argv.slice(2);
const loads = {
  echo: { mode: "ks-echo" },
  counter: { mode: "ce-counter", keys: 1000 },
  "counter-hot": { mode: "ce-counter", keys: 0, hot: "hot" },
  http: { mode: "http-counter", keys: 1000 },
};
if (!loads[scenario] || specs.length === 0) {
  process.stderr.write(`usage: node bench/ab.mjs [${Object.keys(loads).join("|")}] name[:K=V,...]...\n`);
  process.exit(2);
}
const rounds = Number(process.env.AB_ROUNDS ?? 3);
const seconds = Number(process.env.AB_SECONDS ?? 5);
const dataDir = mkdtempSync(join(tmpdir(), "knstate-ab-"));
const logDir = join(dataDir, "logs");
mkdirSync(logDir, { recursive: true });
const started = [];
try {
  const sink = await S.startNodeScript({ name: "otlp-sink", script: "otlp-sink.mjs", port: 4329, logDir });
  started.push(sink);
  const redis =
    scenario === "echo" ? undefined : await S.startRedis({ port: 6393, dir: join(dataDir, "redis"), logDir });
  if (redis) started.push(redis);
  const variants = [];
  for (const [i, spec] of specs.entries()) {
    const { name, root, nodeArgs, options, env: extra } = parseVariant(spec, ["load", "otlp"]);
    const otlp = options.otlp !== undefined;
    const loadName = options.load ?? scenario;
    if (!loads[loadName]) throw new Error(`unknown load ${loadName}`);
    const ks = await S.startKnstate({
      name: `ab-${i}-${name}`,
      port: 8420 + i,
      metricsPort: 9560 + i,
      service: `bench-ab-${i}`,
      ...(redis ? { store: "redis", redisUrl: redis.url } : {}),
      ...(otlp ? { otlp: `http://127.0.0.1:${sink.port}` } : {}),
      ...(root ? { root } : {}),
      nodeArgs,
      extra,
      logDir,
    });
    started.push(ks);
    const load = { url: `http://127.0.0.1:${ks.port}/`, ...loads[loadName], idPrefix: `v${i}-` };
    await runWrk({ ...load, seconds: 2, latency: false });
    variants.push({ name, load, pid: ks.process.pid, metricsPort: 9560 + i, runs: [] });
  }
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const before = cpuTimes(v.pid);
      const redisBefore = redis ? cpuMicros(redis.process.pid) : 0;
      const w = await runWrk({ ...v.load, seconds });
      const waitMs = await outboxDrained(v.metricsPort);
      const redisUs = redis ? (cpuMicros(redis.process.pid) - redisBefore) / w.ok : NaN;
      const after = cpuTimes(v.pid);
      const user = after.user - before.user;
      const system = after.system - before.system;
      v.runs.push({
        ...w,
        drainedRps: w.ok / (seconds + waitMs / 1000),
        cpuUs: (user + system) / w.ok,
        systemShare: system / (user + system),
        redisUs,
      });
    }
  }
  const base = median(variants[0].runs.map((w) => w.rps));
  const baseDrained = median(variants[0].runs.map((w) => w.drainedRps));
  for (const v of variants) {
    const rps = median(v.runs.map((w) => w.rps));
    const drained = median(v.runs.map((w) => w.drainedRps));
    const p99 = median(v.runs.map((w) => w.p99Ms));
    const cpu = median(v.runs.map((w) => w.cpuUs));
    const redisCpu = median(v.runs.map((w) => w.redisUs));
    const system = median(v.runs.map((w) => w.systemShare));
    const all = v.runs.map((w) => fmt(w.rps)).join(" ");
    process.stdout.write(
      `${v.name.padEnd(16)} ${fmt(rps).padStart(8)} req/s  p99 ${fmt(p99, 2).padStart(6)} ms  ${fmt(cpu, 1).padStart(5)} µs/req (${Math.round(system * 100)}% kernel)${Number.isNaN(redisCpu) ? "" : ` (Redis ${fmt(redisCpu, 1)})`}  ${(rps / base).toFixed(3)}×  drained ${fmt(drained)} req/s ${(drained / baseDrained).toFixed(3)}×  [${all}]\n`,
    );
  }
  const stats = await httpRequest({ port: 4329, path: "/stats" }).catch(() => undefined);
  if (stats?.body && stats.body !== '{"exports":0,"bytes":0}')
    process.stdout.write(`otlp sink: ${stats.body}\n`);
} finally {
  for (const s of started.reverse()) await s.stop();
  for (const file of readdirSync(logDir)) {
    for (const line of readFileSync(join(logDir, file), "utf8").split("\n")) {
      if (line.includes('"level":"warn"') || line.includes('"level":"error"'))
        process.stdout.write(`${file}: ${line}\n`);
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
}

/** Waits until the host's outbox is empty or stops shrinking for 2 s; the time waited (ms). */
async function outboxDrained(metricsPort) {
  const start = Date.now();
  let last = Infinity;
  let progress = start;
  while (Date.now() - start < 60_000) {
    const res = await httpRequest({ port: metricsPort, path: "/metrics" }).catch(() => undefined);
    const m = /^knstate_outbox_length(?:\{[^}]*\})? (\d+)/m.exec(res?.body ?? "");
    const length = m ? Number(m[1]) : 0;
    if (length === 0) break;
    if (length < last) [last, progress] = [length, Date.now()];
    else if (Date.now() - progress > 2_000) return progress - start;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - start;
}
