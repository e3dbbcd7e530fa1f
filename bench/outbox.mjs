#!/usr/bin/env node
// The outbox relay, side by side: `node bench/outbox.mjs <relay|lag> <variant>...` where a
// variant is `name` or `name:KEY=VALUE,...` (extra environment; `root=/path` runs another built
// checkout, e.g. the base commit; `node=--flag --flag` passes Node options, e.g.
// `node=--cpu-prof --cpu-prof-dir=/tmp/prof`). Every variant runs its own host on one Redis, with
// its own sink (bench/servers/outbox-sink.mjs), taking turns; medians of OUTBOX_ROUNDS (3).
// `relays=N` in a variant adds N `knstate relay` processes for its outbox beside its host (host
// CPU is then the sum over them all).
//   relay  the sink answers 503 while wrk commits for OUTBOX_FILL_SECONDS (3) to 1,000 counters,
//          then 202: events/s from the first to the last event the sink accepts, and the host's
//          CPU per published event.
//   lag    OUTBOX_RATE (200) commands/s for OUTBOX_SECONDS (10) from a paced client to 1,000
//          counters, sink answering 202: lag from commit (`ce-time`) to receipt, p50 and p99.
// The commit path with publishing on and off is bench/ab.mjs (see docs/outbox.md).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const { benchSetup, parseVariant } = await import("./lib/bench-setup.mjs");
const { S, runWrk, fmt, median, cpuTimes, httpRequest } = await benchSetup();

const [mode, ...specs] = process.argv.slice(2);
if (!["relay", "lag"].includes(mode) || specs.length === 0) {
  process.stderr.write("usage: node bench/outbox.mjs <relay|lag> name[:K=V,...]...\n");
  process.exit(2);
}
const rounds = Number(process.env.OUTBOX_ROUNDS ?? 3);
const fillSeconds = Number(process.env.OUTBOX_FILL_SECONDS ?? 3);
const rate = Number(process.env.OUTBOX_RATE ?? 200);
const seconds = Number(process.env.OUTBOX_SECONDS ?? 10);
const dataDir = mkdtempSync(join(tmpdir(), "knstate-outbox-"));
const logDir = join(dataDir, "logs");
mkdirSync(logDir, { recursive: true });
const started = [];

const sinkGet = async (port, path) => JSON.parse((await httpRequest({ port, path })).body);

/** Waits until the sink accepted `count` distinct events (or 120 s passed). */
async function drained(port, count) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const stats = await sinkGet(port, "/stats");
    if (stats.distinct >= count || Date.now() > deadline) return stats;
    await sleep(50);
  }
}

/** `count` commands per second for `seconds` s, one binary CloudEvent each; resolves with the 200s. */
async function paced(port, prefix) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const total = rate * seconds;
  const start = performance.now();
  const pending = [];
  let ok = 0;
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      new Promise((resolve) => {
        const req = request(
          {
            host: "127.0.0.1",
            port,
            method: "POST",
            path: "/",
            agent,
            headers: {
              "ce-specversion": "1.0",
              "ce-id": `${prefix}-${n}`,
              "ce-source": "/bench",
              "ce-type": "com.example.counter.increment",
              "ce-subject": `${prefix}-c${n % 1000}`,
              "content-type": "application/json",
            },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode === 200 ? ok++ : 0));
          },
        );
        req.on("error", () => resolve(0));
        req.end('{"by":1}');
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return ok;
}

try {
  const redis = await S.startRedis({ port: 6394, dir: join(dataDir, "redis"), logDir });
  started.push(redis);
  const variants = [];
  for (const [i, spec] of specs.entries()) {
    const { name, root, nodeArgs, options: own, env: extra } = parseVariant(spec, ["relays"]);
    const relays = Number(own.relays ?? 0);
    const sink = await S.startNodeScript({
      name: `sink-${i}`,
      script: "outbox-sink.mjs",
      port: 4340 + i,
      logDir,
    });
    started.push(sink);
    const options = {
      service: `bench-outbox-${i}`,
      store: "redis",
      redisUrl: redis.url,
      ...(root ? { root } : {}),
      nodeArgs,
      extra: {
        K_SINK: `http://127.0.0.1:${sink.port}/`,
        KNSTATE_OUTBOX_BACKOFF: "20ms",
        KNSTATE_OUTBOX_BACKOFF_MAX: "100ms",
        ...extra,
      },
      logDir,
    };
    const ks = await S.startKnstate({ name: `outbox-${i}-${name}`, port: 8440 + i, ...options });
    started.push(ks);
    const pids = [ks.process.pid];
    for (let k = 0; k < relays; k++) {
      const relay = await S.startKnstate({
        name: `outbox-${i}-${name}-relay${k}`,
        port: 8540 + i * 10 + k,
        command: "relay",
        ...options,
      });
      started.push(relay);
      pids.push(relay.process.pid);
    }
    variants.push({ name, ks, sink, pids, runs: [] });
  }
  for (let r = 0; r < rounds; r++) {
    for (const [i, v] of variants.entries()) {
      const url = `http://127.0.0.1:${v.ks.port}/`;
      const prefix = `r${r}v${i}`;
      await sinkGet(v.sink.port, "/reset");
      if (mode === "relay") {
        await sinkGet(v.sink.port, "/status/503");
        const w = await runWrk({
          url,
          mode: "ce-counter",
          keys: 1000,
          seconds: fillSeconds,
          idPrefix: prefix,
          latency: false,
        });
        const cpuOf = () =>
          v.pids.map(cpuTimes).reduce((a, b) => ({ user: a.user + b.user, system: a.system + b.system }));
        const before = cpuOf();
        await sinkGet(v.sink.port, "/reset");
        await sinkGet(v.sink.port, "/status/202");
        const stats = await drained(v.sink.port, w.ok);
        const after = cpuOf();
        const cpu = after.user - before.user + (after.system - before.system);
        v.runs.push({
          events: stats.distinct,
          perSecond: stats.distinct / Math.max(0.001, (stats.last - stats.first) / 1000),
          cpuUs: cpu / stats.distinct,
        });
      } else {
        const ok = await paced(v.ks.port, prefix);
        const stats = await drained(v.sink.port, ok);
        v.runs.push({ events: stats.distinct, p50: stats.lagP50, p99: stats.lagP99 });
      }
    }
  }
  const [l1, l5, l15] = loadavg();
  process.stdout.write(`load average ${l1.toFixed(2)} ${l5.toFixed(2)} ${l15.toFixed(2)}\n`);
  const base = mode === "relay" ? median(variants[0].runs.map((x) => x.perSecond)) : 0;
  for (const v of variants) {
    const events = median(v.runs.map((x) => x.events));
    if (mode === "relay") {
      const eps = median(v.runs.map((x) => x.perSecond));
      const cpu = median(v.runs.map((x) => x.cpuUs));
      const all = v.runs.map((x) => fmt(x.perSecond)).join(" ");
      process.stdout.write(
        `${v.name.padEnd(12)} ${fmt(eps).padStart(8)} events/s  ${fmt(cpu, 1).padStart(6)} µs CPU/event  backlog ${fmt(events)}  ${(eps / base).toFixed(2)}×  [${all}]\n`,
      );
    } else {
      const p50 = median(v.runs.map((x) => x.p50));
      const p99 = median(v.runs.map((x) => x.p99));
      const all = v.runs.map((x) => `${x.p50}/${x.p99}`).join(" ");
      process.stdout.write(
        `${v.name.padEnd(12)} lag p50 ${fmt(p50).padStart(5)} ms  p99 ${fmt(p99).padStart(5)} ms  events ${fmt(events)} at ${rate}/s  [${all}]\n`,
      );
    }
  }
} finally {
  for (const s of started.reverse()) await s.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
