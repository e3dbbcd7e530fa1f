#!/usr/bin/env node
// One hot key, hammered: the replicated counter (`functions/likes`, `com.example.likes.like`)
// against the event-sourced counter (`functions/counter`, `com.example.counter.increment`),
// with 1 host and with 3 hosts, in the same run, on the same Redis (appendonly yes,
// appendfsync everysec). The kinds take turns, round after round. For each: successful
// commands per second, non-2xx answers, p99, CPU per successful command (all hosts, and
// Redis), and the conflicts the hosts counted (knstate_conflicts_total). See
// docs/benchmarks.md. "replicated (script)" is the replicated counter on hosts that send every
// batch to the apply script (KNSTATE_REPLICATED_PREDICT=false): the cost of the path without
// predicted batches, in the same run. `node bench/hot-key.mjs` after `npm run build`; HOT_ROUNDS (3),
// HOT_SECONDS (5), HOT_CONNECTIONS (60, split over the hosts). HOT_BASELINE=<another built
// checkout> adds its replicated counter ("replicated (base)"), on its own hosts, for a
// before/after in the same run.
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";

const { benchSetup, scratchDir } = await import("./lib/bench-setup.mjs");
const { S, runWrk, fmt, median, cpuMicros, httpRequest } = await benchSetup();

const rounds = Number(process.env.HOT_ROUNDS ?? 3);
const seconds = Number(process.env.HOT_SECONDS ?? 5);
const connections = Number(process.env.HOT_CONNECTIONS ?? 60);
const { dataDir, logDir } = scratchDir("hot");
const started = [];

const baseline = process.env.HOT_BASELINE;
const KINDS = {
  "event-sourced": { mode: "ce-counter", entity: "counter", fleet: "current" },
  replicated: { mode: "ce-likes", entity: "likes", fleet: "current" },
  "replicated (script)": { mode: "ce-likes", entity: "likes", fleet: "script" },
  ...(baseline ? { "replicated (base)": { mode: "ce-likes", entity: "likes", fleet: "base" } } : {}),
};

/** Script calls (EVAL/EVALSHA) Redis has run so far, and the µs it spent in them. */
function scriptCalls(port) {
  let calls = 0;
  let usec = 0;
  for (const line of S.redisCli(port, ["INFO", "commandstats"]).split("\n")) {
    const m = /^cmdstat_(?:eval|evalsha|evalsha_ro|eval_ro):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) {
      calls += Number(m[1]);
      usec += Number(m[2]);
    }
  }
  return { calls, usec };
}

/** The sum of a metric's samples for one entity type on a host's /metrics. */
async function metric(port, name, entity) {
  const { body } = await httpRequest({ port, path: "/metrics" });
  let total = 0;
  for (const line of body.split("\n")) {
    if (line.startsWith(`${name}{`) && line.includes(`entity_type="${entity}"`)) {
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return total;
}

try {
  const redis = await S.startRedis({ port: 6394, dir: join(dataDir, "redis"), logDir });
  started.push(redis);
  const fleets = { current: [], script: [], base: [] };
  const scriptOnly = { KNSTATE_REPLICATED_PREDICT: "false" };
  for (const [fleet, root, offset, extra] of [
    ["current", S.ROOT, 0, {}],
    ["script", S.ROOT, 20, scriptOnly],
    ...(baseline ? [["base", baseline, 10, {}]] : []),
  ]) {
    for (let i = 0; i < 3; i++) {
      const ks = await S.startKnstate({
        name: `hot-${fleet}-${i}`,
        port: 8440 + offset + i,
        metricsPort: 9580 + offset + i,
        service: "bench-hot",
        store: "redis",
        redisUrl: redis.url,
        logDir,
        root,
        extra,
      });
      started.push(ks);
      fleets[fleet].push({ ...ks, metricsPort: 9580 + offset + i });
    }
  }
  const variants = [];
  for (const count of [1, 3]) {
    for (const [kind, load] of Object.entries(KINDS)) {
      variants.push({ name: `${kind} ×${count}`, kind, count, load, runs: [] });
    }
  }
  // Warm-up: every host, both kinds.
  for (const v of variants.filter((x) => x.count === 3)) await drive(v, 2);
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) v.runs.push(await drive(v, seconds));
  }
  process.stdout.write(
    `hot key, ${connections} connections split over the hosts, ${rounds} rounds of ${seconds} s (medians); load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}\n`,
  );
  const base = {};
  for (const v of variants) {
    const rps = median(v.runs.map((w) => w.rps));
    base[v.count] ??= rps;
    const line = [
      v.name.padEnd(25),
      `${fmt(rps).padStart(7)} ok/s`,
      `non-2xx ${String(median(v.runs.map((w) => w.non2xx))).padStart(6)}`,
      `p99 ${fmt(median(v.runs.map((w) => w.p99Ms)), 1).padStart(6)} ms`,
      `hosts ${fmt(median(v.runs.map((w) => w.hostUs)), 0).padStart(5)} µs/ok`,
      `Redis ${fmt(median(v.runs.map((w) => w.redisUs)), 0).padStart(4)} µs/ok`,
      `ok/script ${fmt(median(v.runs.map((w) => w.perCall)), 1).padStart(5)}`,
      `script ${fmt(median(v.runs.map((w) => w.callUs)), 0).padStart(4)} µs`,
      `conflicts ${String(median(v.runs.map((w) => w.conflicts))).padStart(7)}`,
      `${(rps / base[v.count]).toFixed(2)}× the event-sourced counter`,
      `[${v.runs.map((w) => fmt(w.rps)).join(" ")}]`,
    ];
    process.stdout.write(`${line.join("  ")}\n`);
  }

  /** One run of a variant: wrk on each of its hosts at once. */
  async function drive(v, duration) {
    const on = fleets[v.load.fleet].slice(0, v.count);
    const pids = [...on.map((h) => h.process.pid), redis.process.pid];
    const scriptsBefore = scriptCalls(redis.port);
    const cpuBefore = pids.map(cpuMicros);
    const conflictsBefore = await Promise.all(
      on.map((h) => metric(h.metricsPort, "knstate_conflicts_total", v.load.entity)),
    );
    const results = await Promise.all(
      on.map((h, i) =>
        runWrk({
          url: `http://127.0.0.1:${h.port}/`,
          mode: v.load.mode,
          seconds: duration,
          connections: Math.max(1, Math.round(connections / v.count)),
          keys: 0,
          hot: "hot",
          idPrefix: `${v.kind}-${i}-`,
        }),
      ),
    );
    const cpu = pids.map((pid, i) => cpuMicros(pid) - cpuBefore[i]);
    const scriptsAfter = scriptCalls(redis.port);
    const conflictsAfter = await Promise.all(
      on.map((h) => metric(h.metricsPort, "knstate_conflicts_total", v.load.entity)),
    );
    const ok = results.reduce((n, w) => n + w.ok, 0);
    return {
      rps: results.reduce((n, w) => n + w.rps, 0),
      non2xx: results.reduce((n, w) => n + w.non2xx, 0),
      p99Ms: Math.max(...results.map((w) => w.p99Ms)),
      hostUs: cpu.slice(0, -1).reduce((a, b) => a + b, 0) / ok,
      redisUs: cpu.at(-1) / ok,
      perCall: ok / (scriptsAfter.calls - scriptsBefore.calls),
      callUs: (scriptsAfter.usec - scriptsBefore.usec) / (scriptsAfter.calls - scriptsBefore.calls),
      conflicts: conflictsAfter.reduce((a, b) => a + b, 0) - conflictsBefore.reduce((a, b) => a + b, 0),
    };
  }
} finally {
  for (const s of started.reverse()) await s.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
