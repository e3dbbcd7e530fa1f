#!/usr/bin/env node
// Durable timers on one host with Redis (appendonly yes, appendfsync everysec), the reminder
// function (`functions/reminder`) served beside the counter. Three measures, taken in turns,
// round after round, medians over the rounds (see docs/timers.md):
//  1. the cost of a timer on the commit path: `reminder.schedule` (one event and a timer set)
//     against `reminder.fire` (the same event without a timer), by wrk over 1,000 entities;
//  2. firing throughput: TIMERS_BACKLOG timers due at the same moment, written to Redis
//     beforehand; fired and applied per second until the due index is empty;
//  3. lateness: TIMERS_SPREAD timers due evenly over TIMERS_WINDOW seconds, each recording when
//     its command ran; p50/p99 of (ran − due), with the host idle and with the counter load
//     (wrk, 1,000 counters) on the same host at the same time.
// `node bench/timers.mjs` after `npm run build`; TIMERS_ROUNDS (3), TIMERS_SECONDS (5),
// TIMERS_CONNECTIONS (32), TIMERS_BACKLOG (5000), TIMERS_SPREAD (1000), TIMERS_WINDOW (8).
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

const { benchSetup, scratchDir } = await import("./lib/bench-setup.mjs");
const { S, runWrk, fmt, median, medianRatio, cpuMicros, httpProbe, startProcess } = await benchSetup();
const { timerAppend } = await import("./lib/timer-append.mjs");

const rounds = Number(process.env.TIMERS_ROUNDS ?? 3);
const seconds = Number(process.env.TIMERS_SECONDS ?? 5);
const connections = Number(process.env.TIMERS_CONNECTIONS ?? 32);
const backlog = Number(process.env.TIMERS_BACKLOG ?? 5000);
const spread = Number(process.env.TIMERS_SPREAD ?? 1000);
const windowS = Number(process.env.TIMERS_WINDOW ?? 8);
const { dataDir, logDir } = scratchDir("timers");
const started = [];
const load = [loadavg()[0]];

const dist = (path) => import(pathToFileURL(join(S.ROOT, "dist", path)).href);
const { RedisStore } = await dist("src/store/redis-store.js");
const { loadConfig } = await dist("src/config/load-config.js");
const { silentLogger } = await dist("src/observability/logger.js");

const progress = (line) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function percentile(values, p) {
  const xs = [...values].sort((a, b) => a - b);
  return xs.length === 0 ? NaN : xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
}

/** Appends, for each id, a `scheduled` event and a timer firing `fire` at `dueOf(i)`. */
async function preload(store, ids, dueOf) {
  for (let i = 0; i < ids.length; i += 500) {
    await Promise.all(ids.slice(i, i + 500).map((id, j) => store.append(timerAppend(id, dueOf(i + j), "b"))));
  }
}

try {
  progress("starting Redis and the host");
  const redis = await S.startRedis({ port: 6397, dir: join(dataDir, "redis"), logDir });
  started.push(redis);
  const service = "bench-timers";
  const { bin } = S.knstatePaths();
  const port = 8471;
  const host = await startProcess({
    name: "knstate",
    command: process.execPath,
    args: [bin, "serve", ...["reminder", "counter"].map((f) => join(S.ROOT, "dist/functions", f))],
    env: S.knstateEnv({ port, service, store: "redis", redisUrl: redis.url }),
    cwd: S.ROOT,
    logFile: join(logDir, "knstate.log"),
    probe: httpProbe(port, { path: "/readyz" }),
  });
  started.push({ stop: host.stop });
  const store = await RedisStore.connect(
    loadConfig({ KNSTATE_STORE: "redis", REDIS_URL: redis.url, K_SERVICE: service }),
    silentLogger,
  );
  started.push({ stop: () => store.close() });
  const url = `http://127.0.0.1:${port}/`;
  const pids = [host.pid, redis.process.pid];

  const cost = { fire: [], schedule: [] };
  const drain = [];
  const late = { idle: [], "counter load": [] };

  async function commit(kind, duration) {
    const before = pids.map(cpuMicros);
    const w = await runWrk({ url, mode: `ce-reminder-${kind}`, seconds: duration, connections, keys: 1000 });
    const cpu = pids.map((pid, i) => cpuMicros(pid) - before[i]);
    return { rps: w.rps, p99Ms: w.p99Ms, non2xx: w.non2xx, hostUs: cpu[0] / w.ok, redisUs: cpu[1] / w.ok };
  }

  async function fireBacklog(round) {
    const ids = Array.from({ length: backlog }, (_, i) => `backlog-${round}-${i}`);
    const due = Date.now() + 2000 + backlog; // after the preload, even on a busy machine
    // The commit-path runs left timers an hour away: the backlog is gone when only they remain.
    const baseline = await store.timers.countPending();
    await preload(store, ids, () => due);
    if (Date.now() >= due) throw new Error("the preload took longer than planned: lower TIMERS_BACKLOG");
    await sleep(due - Date.now());
    while ((await store.timers.countPending()) > baseline) await sleep(20);
    const ms = Date.now() - due;
    let applied = 0;
    for (let i = 0; i < ids.length; i += 1000) {
      const checks = await Promise.all(
        ids.slice(i, i + 1000).map((entityId) => store.check({ entityType: "reminder", entityId }, [])),
      );
      applied += checks.filter((c) => c.version === 2).length;
    }
    if (applied !== backlog) throw new Error(`only ${applied} of ${backlog} timers were applied`);
    return { perSecond: backlog / (ms / 1000), ms };
  }

  async function lateness(variant, round) {
    const ids = Array.from({ length: spread }, (_, i) => `late-${variant.replace(" ", "-")}-${round}-${i}`);
    const start = Date.now() + 2000 + spread;
    const dueOf = (i) => start + Math.floor((i * windowS * 1000) / spread);
    const baseline = await store.timers.countPending();
    await preload(store, ids, dueOf);
    const driving =
      variant === "counter load"
        ? runWrk({ url, mode: "ce-counter", seconds: windowS + 2, connections, keys: 1000 })
        : sleep(0);
    await sleep(Math.max(0, start - Date.now() - 500));
    await driving;
    await sleep(Math.max(0, start + windowS * 1000 + 1000 - Date.now()));
    while ((await store.timers.countPending()) > baseline) await sleep(50);
    const lates = [];
    for (let i = 0; i < ids.length; i += 500) {
      const logs = await Promise.all(
        ids.slice(i, i + 500).map((entityId) => store.readEvents({ entityType: "reminder", entityId }, 1)),
      );
      for (const [j, events] of logs.entries()) {
        const fired = events.find((e) => e.type === "fired");
        if (!fired) throw new Error(`${ids[i + j]} did not fire`);
        lates.push(Date.parse(fired.data.firedAt) - dueOf(i + j));
      }
    }
    return {
      p50: percentile(lates, 50),
      p99: percentile(lates, 99),
      early: lates.filter((x) => x < 0).length,
    };
  }

  progress("host and Redis up; warming up");
  // Warm-up: both commands, one backlog.
  await commit("fire", 2);
  await commit("schedule", 2);
  for (let r = 0; r < rounds; r++) {
    progress(`round ${r + 1}: commit path`);
    // The order alternates, so neither command always runs first in a round.
    for (const kind of r % 2 ? ["schedule", "fire"] : ["fire", "schedule"]) {
      cost[kind].push(await commit(kind, seconds));
    }
    load.push(loadavg()[0]);
    progress(`round ${r + 1}: backlog`);
    drain.push(await fireBacklog(r));
    for (const variant of Object.keys(late)) {
      progress(`round ${r + 1}: lateness, ${variant}`);
      late[variant].push(await lateness(variant, r));
    }
    load.push(loadavg()[0]);
  }

  const out = (line) => process.stdout.write(`${line}\n`);
  out(
    `durable timers, one host, Redis; ${rounds} rounds (medians), load average ${fmt(median(load), 1)} (1 min)`,
  );
  out(`commit path, ${connections} connections over 1,000 entities, ${seconds} s per run:`);
  for (const kind of ["fire", "schedule"]) {
    const runs = cost[kind];
    out(
      [
        `  ${kind === "fire" ? "event only      " : "event + timer   "}`,
        `${fmt(median(runs.map((w) => w.rps))).padStart(6)} ok/s`,
        `p99 ${fmt(median(runs.map((w) => w.p99Ms)), 1).padStart(6)} ms`,
        `host ${fmt(median(runs.map((w) => w.hostUs))).padStart(4)} µs/ok`,
        `Redis ${fmt(median(runs.map((w) => w.redisUs))).padStart(3)} µs/ok`,
        `non-2xx ${median(runs.map((w) => w.non2xx))}`,
        `[${runs.map((w) => fmt(w.rps)).join(" ")}]`,
      ].join("  "),
    );
  }
  const rps = (kind) => cost[kind].map((w) => w.rps);
  out(
    `  a command that schedules a timer: ${medianRatio(rps("schedule"), rps("fire")).toFixed(2)}× the throughput of one that does not`,
  );
  out(
    `firing: ${fmt(backlog)} timers due at once, all applied once: ${fmt(median(drain.map((d) => d.perSecond)))} timers/s ` +
      `(backlog gone after ${fmt(median(drain.map((d) => d.ms)))} ms) [${drain.map((d) => fmt(d.perSecond)).join(" ")}]`,
  );
  for (const [variant, runs] of Object.entries(late)) {
    out(
      `lateness, ${fmt(spread)} timers over ${windowS} s, ${variant.padEnd(12)}: p50 ${fmt(median(runs.map((x) => x.p50)))} ms, ` +
        `p99 ${fmt(median(runs.map((x) => x.p99)))} ms, early ${runs.reduce((n, x) => n + x.early, 0)} ` +
        `[p99s ${runs.map((x) => fmt(x.p99)).join(" ")}]`,
    );
  }
} finally {
  for (const s of started.reverse()) await s.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
