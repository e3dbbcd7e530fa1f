// Measuring contenders: a wrk run with the server's CPU, rounds in turns, idle RSS, section rows.
import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { cpuMicros } from "./proc.mjs";
import { ratioOf, summarize } from "./report.mjs";
import { cfg, log, rssOf } from "./run-state.mjs";
import { fmt } from "./stats.mjs";
import { runWrk } from "./wrk.mjs";

/** Warm-up (discarded), then the measured wrk run, with the server's CPU over the window. */
async function measureWrk(c, redis) {
  const load = { url: `http://127.0.0.1:${c.server.port}/`, connections: cfg.connections, ...c.load };
  if (cfg.warmup > 0) await runWrk({ ...load, seconds: cfg.warmup, latency: false });
  const pids = c.server.pids();
  const before = pids.map(cpuMicros);
  const redisBefore = redis ? cpuMicros(redis.process.pid) : 0;
  const w = await runWrk({ ...load, seconds: cfg.duration });
  const parts = pids.map((pid, i) => cpuMicros(pid) - before[i]);
  const redisCpu = redis ? cpuMicros(redis.process.pid) - redisBefore : NaN;
  const ok = Math.max(1, w.ok);
  return {
    rps: w.rps,
    p50Ms: w.p50Ms,
    p99Ms: w.p99Ms,
    ok: w.ok,
    non2xx: w.non2xx,
    socketErrors: w.socketErrors,
    cpuUsPerReq: parts.reduce((a, b) => a + b, 0) / ok,
    cpuPartsUsPerReq: parts.map((p) => p / ok),
    redisCpuUsPerReq: c.usesRedis ? redisCpu / ok : NaN,
  };
}

/** Runs the contenders in turns (A, B, C, A, B, C, …) for cfg.rounds rounds. */
export async function rounds(name, all, redis) {
  const only = (process.env.BENCH_ONLY ?? "").split(",").filter(Boolean);
  const contenders = only.length ? all.filter((c) => only.includes(c.id)) : all;
  const runs = Object.fromEntries(all.map((c) => [c.id, []]));
  for (let round = 0; round < cfg.rounds; round++) {
    for (const c of contenders) {
      log(`${name}: round ${round + 1}/${cfg.rounds}: ${c.id}`);
      const r = c.measure ? await c.measure() : await measureWrk(c, redis);
      r.loadavg1 = loadavg()[0];
      runs[c.id].push(r);
      log(
        `  ${fmt(r.rps)} req/s, p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms, ${fmt(r.cpuUsPerReq)} µs/req` +
          (r.non2xx || r.socketErrors ? `, ${r.non2xx} non-2xx, ${r.socketErrors} socket errors` : ""),
      );
    }
  }
  return runs;
}

export async function idleRss(servers) {
  await sleep(cfg.idleWaitMs);
  const out = new Map();
  for (const s of servers) out.set(s, rssOf(s));
  return out;
}

export function sectionRows(contenders, runs, refId, idle, second) {
  return contenders
    .filter((c) => runs[c.id].length > 0)
    .map((c) => ({
      id: c.id,
      label: c.label,
      summary: summarize(runs[c.id]),
      rounds: runs[c.id],
      ratioToRef: ratioOf(runs, c.id, refId),
      ...(second ? { ratioToSecond: ratioOf(runs, c.id, second(c.id)) } : {}),
      rss: c.server && idle.has(c.server) ? { idle: idle.get(c.server), after: rssOf(c.server) } : undefined,
      server: c.server?.name,
      listeners: c.server?.listeners,
    }));
}
