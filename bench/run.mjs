#!/usr/bin/env node
// knstate benchmarks, side by side with faas-js-runtime, Restate, bare node:http and
// redis-benchmark. See docs/benchmarks.md. Prints the tables and PASS/MISS lines and writes
// bench/results/latest.json.
//
// Settings (environment): BENCH_ROUNDS (3), BENCH_DURATION (10 s), BENCH_WARMUP (3 s),
// BENCH_CONNECTIONS (64), BENCH_QUICK=1 (1 round of 3 s: a smoke run), BENCH_SECTIONS
// (echo,counter,load,cold,footprint), BENCH_FOOTPRINT_COUNTS (10000,100000), BENCH_COLD_RUNS (10), BENCH_RESTATE=0 (leave Restate out),
// BENCH_ONLY (comma-separated contender ids to measure), BENCH_NETNS=0 (do not enter a
// private network namespace; Restate is then left out), KNSTATE_ROOT (the built knstate to measure; default: this repository).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem, tmpdir, release } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

// Every contender runs inside a private network namespace that has only loopback: nothing
// can listen on, or reach, anything else (restate-server phones home at every start).
const { enterLoopbackNetns } = await import("./lib/netns.mjs");
const inNetns = enterLoopbackNetns();

const { cpuMicros, rssMiB, listeners, httpRequest } = await import("./lib/proc.mjs");
const { runWrk } = await import("./lib/wrk.mjs");
const { median, min, max, fmt } = await import("./lib/stats.mjs");
const { summarize, ratioOf, throughputTable, target, targetLine, table } = await import("./lib/report.mjs");
const { checkEcho, checkCounter } = await import("./lib/checks.mjs");
const { coldStartOnce, firstRequests } = await import("./lib/coldstart.mjs");
const S = await import("./lib/servers.mjs");
const { footprint, footprintReport, footprintTargets } = await import("./lib/footprint.mjs");

const int = (name, fallback) => {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number (got ${v})`);
  return n;
};
const quick = process.env.BENCH_QUICK === "1";
const cfg = {
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
const resultsDir = join(S.BENCH_DIR, "results");
const logDir = join(resultsDir, "logs", stamp);
mkdirSync(logDir, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), "knstate-bench-"));

const started = [];
const results = {
  date: new Date().toISOString(),
  machine: machine(),
  knstate: knstateRevision(),
  settings: { ...cfg, netns: inNetns, redis: "appendonly yes, appendfsync everysec, no RDB snapshots" },
  notes: [],
  sections: {},
  targets: [],
};

function log(message) {
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

async function start(promise) {
  const server = await promise;
  started.push(server);
  const check = listeners(server.pids());
  if (check.offending.length > 0) {
    throw new Error(`${server.name} listens on a non-loopback address: ${JSON.stringify(check.offending)}`);
  }
  server.listeners = check.all.map((l) => l.address);
  return server;
}

async function stopAll() {
  for (const server of started.splice(0).reverse()) {
    await server.stop().catch(() => {});
  }
}

function rssOf(server) {
  return server.pids().reduce((sum, pid) => sum + rssMiB(pid), 0);
}

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

/** redis-benchmark running knstate's own append script (EVALSHA) against the same Redis. */
async function measureRedisBenchmark(redis, call) {
  const args = [
    "-h",
    "127.0.0.1",
    "-p",
    String(redis.port),
    "--dbnum",
    "1",
    "-c",
    String(cfg.connections),
    "-P",
    "1",
    "-n",
    String(cfg.rbRequests),
    "-r",
    "1000",
    "--csv",
    "EVALSHA",
    call.sha,
    String(call.keys.length),
    ...call.keys,
    ...call.args,
  ];
  const before = cpuMicros(redis.process.pid);
  const out = execFileSync("redis-benchmark", args, { encoding: "utf8", timeout: 300_000 });
  const cpu = cpuMicros(redis.process.pid) - before;
  const line = out
    .trim()
    .split("\n")
    .filter((l) => l.startsWith('"EVALSHA'))
    .pop();
  if (!line) throw new Error(`redis-benchmark printed no result:\n${out}`);
  // The test name holds the whole command (commas included): read the numbers from the end.
  // Columns: test, rps, avg, min, p50, p95, p99, max.
  const f = line
    .split(",")
    .map((x) => x.replace(/"/g, ""))
    .slice(-7);
  f.unshift("EVALSHA");
  const ping = S.redisCli(redis.port, ["-n", "1", "FLUSHDB"]);
  void ping;
  return {
    rps: Number(f[1]),
    p50Ms: Number(f[4]),
    p99Ms: Number(f[6]),
    ok: cfg.rbRequests,
    non2xx: 0,
    socketErrors: 0,
    cpuUsPerReq: NaN,
    redisCpuUsPerReq: cpu / cfg.rbRequests,
  };
}

/** Runs the contenders in turns (A, B, C, A, B, C, …) for cfg.rounds rounds. */
async function rounds(name, all, redis) {
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

async function idleRss(servers) {
  await sleep(cfg.idleWaitMs);
  const out = new Map();
  for (const s of servers) out.set(s, rssOf(s));
  return out;
}

function sectionRows(contenders, runs, refId, idle, second) {
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

// ---------------------------------------------------------------- echo
async function echoSection() {
  const otlp = await start(
    S.startNodeScript({ name: "otlp-sink", script: "otlp-sink.mjs", port: 4318, logDir }),
  );
  const ks = await start(
    S.startKnstate({ name: "knstate-echo", port: 8201, metricsPort: 9501, service: "bench-echo", logDir }),
  );
  const ksOtel = await start(
    S.startKnstate({
      name: "knstate-echo-otel",
      port: 8202,
      metricsPort: 9502,
      service: "bench-echo-otel",
      otlp: "http://127.0.0.1:4318",
      logDir,
    }),
  );
  const faas = await start(S.startFaas({ port: 8101, logDir }));
  const nodeCe = await start(
    S.startNodeScript({ name: "node-http-ce", script: "node-http-ce.mjs", port: 8103, logDir }),
  );
  const hello = await start(
    S.startNodeScript({ name: "node-hello", script: "node-hello.mjs", port: 8104, logDir }),
  );
  await checkEcho(ks.port, "com.example.echo.say");
  await checkEcho(ksOtel.port, "com.example.echo.say");
  await checkEcho(faas.port, "dev.bench.echo");
  await checkEcho(nodeCe.port, "dev.bench.echo");
  const idle = await idleRss([ks, ksOtel, faas, nodeCe, hello]);
  const contenders = [
    {
      id: "ks-echo",
      label: "knstate echo action (binary CloudEvent)",
      server: ks,
      load: { mode: "ks-echo" },
    },
    {
      id: "faas",
      label: "faas-js-runtime 3.0.2, function returns a CloudEvent",
      server: faas,
      load: { mode: "ce-echo" },
    },
    {
      id: "node-ce",
      label: "node:http, hand-parsed ce- headers (Node ceiling)",
      server: nodeCe,
      load: { mode: "ce-echo" },
    },
    { id: "node-hello", label: "node:http hello world", server: hello, load: { mode: "hello" } },
    {
      id: "ks-echo-otel",
      label: "knstate echo, tracing on (OTLP to a local sink)",
      server: ksOtel,
      load: { mode: "ks-echo" },
    },
  ];
  const runs = await rounds("echo", contenders, undefined);
  const section = {
    reference: "node-ce",
    second: "faas",
    rows: sectionRows(contenders, runs, "node-ce", idle, () => "faas"),
  };
  section.otlpSink = await httpRequest({ port: otlp.port, path: "/stats" })
    .then((r) => JSON.parse(r.body))
    .catch(() => undefined);
  results.sections.echo = section;
  section.runs = runs;
  await stopAll();
}

// ---------------------------------------------------------------- counter
/**
 * knstate's append script, verbatim, behind a short prologue. redis-benchmark draws every
 * __rand_int__ on its own and cannot track versions, so the prologue (1) derives the event
 * stream key from the meta key, making both belong to the same entity, (2) uses one dedup field
 * for the check and the write, and (3) puts the entity's current version in ARGV[2], as a host
 * with the entity cached would. The script then runs its full append path on 1,000 existing
 * entities: TIME, one HMGET (version and dedup field), the legacy dedup GET, one HSET of the
 * event, version and record. The prologue adds one HGET.
 */
async function appendScriptCall() {
  const mod = await import(join(S.ROOT, "dist/src/store/redis-scripts.js")).catch(() => undefined);
  if (!mod?.APPEND_SCRIPT || !mod?.syntheticCounterAppend) return undefined;
  const call = mod.syntheticCounterAppend({
    service: "bench-rb",
    entityId: "__rand_int__",
    dedupId: "/bench/__rand_int__",
    expectedVersion: 0,
  });
  // ARGV (src/store/append-encoding.ts): 2 expected version, 10 checked dedup field, 12 written one.
  const prologue = [
    "local KEYS = { KEYS[1], (string.gsub(KEYS[1], ':m$', ':e')), KEYS[3] }",
    "local ARGV = { unpack(ARGV) }",
    "ARGV[2] = redis.call('HGET', KEYS[1], 'v') or '0'",
    "ARGV[12] = ARGV[10]",
  ].join("\n");
  const match = /^(#![^\n]*\n)/.exec(mod.APPEND_SCRIPT);
  const source = match
    ? `${match[1]}${prologue}\n${mod.APPEND_SCRIPT.slice(match[1].length)}`
    : `${prologue}\n${mod.APPEND_SCRIPT}`;
  if (!call.keys[0].endsWith(":m") || !call.keys[1].endsWith(":e")) return undefined;
  return { source, keys: call.keys, args: call.args };
}

async function startRedisIfUsable() {
  const redis = await start(S.startRedis({ port: 6390, dir: join(dataDir, "redis"), logDir }));
  try {
    const probe = await S.startKnstate({
      name: "knstate-redis-probe",
      port: 8299,
      service: "bench-probe",
      store: "redis",
      redisUrl: redis.url,
      logDir,
    });
    await probe.stop();
    return redis;
  } catch (error) {
    results.notes.push(
      `The Redis store did not start (${error.message.split("\n")[0]}): the counter scenarios ran on the memory store and redis-benchmark was left out.`,
    );
    log(`Redis store unavailable: ${error.message.split("\n")[0]}; counter scenarios use the memory store`);
    return undefined;
  }
}

async function counterSection() {
  const otlp =
    started.find((s) => s.name === "otlp-sink") ??
    (await start(S.startNodeScript({ name: "otlp-sink", script: "otlp-sink.mjs", port: 4318, logDir })));
  void otlp;
  const redis = await startRedisIfUsable();
  const store = redis ? { store: "redis", redisUrl: redis.url } : { store: "memory" };
  const storeLabel = redis ? "Redis" : "memory";
  const ks = await start(
    S.startKnstate({ name: "knstate", port: 8211, metricsPort: 9511, service: "bench-ks", ...store, logDir }),
  );
  const ksNoCache = await start(
    S.startKnstate({
      name: "knstate-nocache",
      port: 8212,
      metricsPort: 9512,
      service: "bench-nocache",
      cache: false,
      ...store,
      logDir,
    }),
  );
  const ksNoGc = await start(
    S.startKnstate({
      name: "knstate-nogc",
      port: 8213,
      metricsPort: 9513,
      service: "bench-nogc",
      groupCommit: false,
      ...store,
      logDir,
    }),
  );
  const ksOtel = await start(
    S.startKnstate({
      name: "knstate-otel",
      port: 8214,
      metricsPort: 9514,
      service: "bench-otel",
      otlp: "http://127.0.0.1:4318",
      ...store,
      logDir,
    }),
  );
  const ksMem = redis
    ? await start(
        S.startKnstate({
          name: "knstate-memory",
          port: 8215,
          metricsPort: 9515,
          service: "bench-mem",
          logDir,
        }),
      )
    : undefined;
  let restate;
  if (cfg.restate) {
    try {
      restate = await start(S.startRestate({ dir: join(dataDir, "restate"), logDir }));
      await checkCounter(restate.port, "restate");
    } catch (error) {
      results.notes.push(`Restate did not start: ${error.message.split("\n")[0]}`);
      log(`Restate unavailable: ${error.message}`);
      restate = undefined;
    }
  }
  for (const s of [ks, ksNoCache, ksNoGc, ksOtel, ksMem].filter(Boolean)) {
    await checkCounter(s.port, "ce");
    await checkCounter(s.port, "http");
  }
  const idle = await idleRss([ks, ksNoCache, ksNoGc, ksOtel, ksMem, restate, redis].filter(Boolean));
  const usesRedis = Boolean(redis);
  const rand = { keys: 1000 };
  const hot = { keys: 0, hot: "hot" };
  const contenders = [];
  let call;
  if (redis) {
    call = await appendScriptCall();
    if (call) {
      call.sha = S.redisCli(redis.port, ["SCRIPT", "LOAD", call.source]).trim();
      contenders.push({
        id: "rb-evalsha",
        label: "redis-benchmark EVALSHA knstate append script (Redis ceiling)",
        server: redis,
        measure: () => measureRedisBenchmark(redis, call),
      });
    } else {
      results.notes.push(
        "dist/src/store/redis-scripts.js has no APPEND_SCRIPT / syntheticCounterAppend: the redis-benchmark reference was left out.",
      );
    }
  }
  contenders.push(
    {
      id: "ks-ce-1000",
      label: `knstate counter, CloudEvent, 1,000 entities (${storeLabel}, cache on, group commit on)`,
      server: ks,
      usesRedis,
      load: { mode: "ce-counter", ...rand },
    },
    {
      id: "ks-ce-hot",
      label: `knstate counter, CloudEvent, one hot entity (${storeLabel})`,
      server: ks,
      usesRedis,
      load: { mode: "ce-counter", ...hot },
    },
    {
      id: "ks-http-1000",
      label: "knstate counter, HTTP API, 1,000 entities",
      server: ks,
      usesRedis,
      load: { mode: "http-counter", ...rand },
    },
    {
      id: "ks-http-hot",
      label: "knstate counter, HTTP API, one hot entity",
      server: ks,
      usesRedis,
      load: { mode: "http-counter", ...hot },
    },
    {
      id: "ks-nocache-ce-1000",
      label: "knstate cache off, CloudEvent, 1,000 entities",
      server: ksNoCache,
      usesRedis,
      load: { mode: "ce-counter", ...rand },
    },
    {
      id: "ks-nocache-ce-hot",
      label: "knstate cache off, CloudEvent, hot entity",
      server: ksNoCache,
      usesRedis,
      load: { mode: "ce-counter", ...hot },
    },
    {
      id: "ks-nogc-ce-1000",
      label: "knstate group commit off, CloudEvent, 1,000 entities",
      server: ksNoGc,
      usesRedis,
      load: { mode: "ce-counter", ...rand },
    },
    {
      id: "ks-nogc-ce-hot",
      label: "knstate group commit off, CloudEvent, hot entity",
      server: ksNoGc,
      usesRedis,
      load: { mode: "ce-counter", ...hot },
    },
    {
      id: "ks-otel-ce-1000",
      label: "knstate tracing on, CloudEvent, 1,000 entities",
      server: ksOtel,
      usesRedis,
      load: { mode: "ce-counter", ...rand },
    },
    {
      id: "ks-otel-ce-hot",
      label: "knstate tracing on, CloudEvent, hot entity",
      server: ksOtel,
      usesRedis,
      load: { mode: "ce-counter", ...hot },
    },
  );
  if (ksMem) {
    contenders.push(
      {
        id: "ks-mem-ce-1000",
        label: "knstate memory store, CloudEvent, 1,000 entities",
        server: ksMem,
        load: { mode: "ce-counter", ...rand },
      },
      {
        id: "ks-mem-ce-hot",
        label: "knstate memory store, CloudEvent, hot entity",
        server: ksMem,
        load: { mode: "ce-counter", ...hot },
      },
    );
  }
  if (restate) {
    contenders.push(
      {
        id: "restate-1000",
        label: "Restate 1.7.12 + SDK 1.14.5 counter.add, 1,000 ids",
        server: restate,
        load: { mode: "restate", ...rand },
      },
      {
        id: "restate-hot",
        label: "Restate counter.add, one hot id",
        server: restate,
        load: { mode: "restate", ...hot },
      },
    );
  }
  const runs = await rounds("counter", contenders, redis);
  const ref = call ? "rb-evalsha" : "ks-ce-1000";
  const section = {
    reference: ref,
    store: storeLabel,
    rows: sectionRows(
      contenders,
      runs,
      ref,
      idle,
      restate ? (id) => (id.endsWith("-hot") ? "restate-hot" : "restate-1000") : undefined,
    ),
    second: restate ? "Restate (same id pattern)" : undefined,
    runs,
  };
  if (redis) {
    section.redis = {
      idleMiB: idle.get(redis),
      afterMiB: rssOf(redis),
      persistence: "appendonly yes, appendfsync everysec",
      script: call
        ? {
            sha: call.sha,
            keys: call.keys,
            args: call.args,
            note: "knstate append script behind a prologue that keeps meta and stream keys of one entity and sets the current version: the full append path on 1,000 entities",
          }
        : undefined,
    };
  }
  if (restate) section.restateParts = restate.parts;
  results.sections.counter = section;
  await stopAll();
}

// ---------------------------------------------------------------- load time
async function seed(port, id, events) {
  // Bounded: exactly `events` increments, 32 at a time, each retried at most 5 times.
  const { Agent } = await import("node:http");
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  let next = 0;
  const worker = async () => {
    while (next < events) {
      next++;
      let ok = false;
      for (let attempt = 0; attempt < 5 && !ok; attempt++) {
        const res = await httpRequest({
          port,
          method: "POST",
          path: `/counter/${id}/increment`,
          headers: { "content-type": "application/json" },
          body: '{"by":1}',
          agent,
        }).catch(() => undefined);
        ok = res !== undefined && res.status === 200;
      }
      if (!ok) throw new Error(`seeding ${id} failed`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  agent.destroy();
}

async function timedGets(port, id, n) {
  const { Agent } = await import("node:http");
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await httpRequest({ port, path: `/counter/${id}`, agent });
    times.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`GET /counter/${id} answered ${res.status}: ${res.body}`);
  }
  agent.destroy();
  const sorted = [...times].sort((a, b) => a - b);
  return {
    p50Ms: median(times),
    p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))],
    rps: 1000 / median(times),
  };
}

async function loadSection() {
  const redis = started.find((s) => s.name === "redis-server") ?? (await startRedisIfUsable());
  const store = redis ? { store: "redis", redisUrl: redis.url } : { store: "memory" };
  const ks = await start(
    S.startKnstate({
      name: "knstate-load",
      port: 8216,
      metricsPort: 9516,
      service: "bench-load",
      cache: false,
      ...store,
      logDir,
    }),
  );
  const big = `big-${Date.now()}`;
  const small = `small-${Date.now()}`;
  log(`load: seeding ${cfg.bigEvents} events on ${big} and ${cfg.smallEvents} on ${small}`);
  const t0 = performance.now();
  await seed(ks.port, big, cfg.bigEvents);
  await seed(ks.port, small, cfg.smallEvents);
  log(`load: seeded in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  const check = await httpRequest({ port: ks.port, path: `/counter/${big}` });
  const parsed = JSON.parse(check.body);
  if ((parsed.state?.value ?? parsed.value) !== cfg.bigEvents)
    throw new Error(`GET /counter/${big} answered ${check.body}, expected ${cfg.bigEvents}`);
  const contenders = [
    {
      id: "load-100",
      label: `GET, cache off, entity with ${cfg.smallEvents} events (${redis ? "Redis" : "memory"})`,
      measure: () => timedGets(ks.port, small, cfg.loadGets),
    },
    {
      id: "load-20000",
      label: `GET, cache off, entity with ${cfg.bigEvents} events`,
      measure: () => timedGets(ks.port, big, cfg.loadGets),
    },
  ];
  const runs = await rounds("load", contenders);
  results.sections.load = {
    reference: "load-100",
    store: redis ? "Redis" : "memory",
    gets: cfg.loadGets,
    rows: contenders.map((c) => ({
      id: c.id,
      label: c.label,
      summary: summarize(runs[c.id]),
      rounds: runs[c.id],
      ratioToRef: ratioOf(runs, c.id, "load-100", "p50Ms"),
    })),
    runs,
  };
  await stopAll();
}

// ---------------------------------------------------------------- cold start
async function coldSection() {
  const otlp = await start(
    S.startNodeScript({ name: "otlp-sink", script: "otlp-sink.mjs", port: 4318, logDir }),
  );
  void otlp;
  const redis = await startRedisIfUsable();
  const store = redis ? { store: "redis", redisUrl: redis.url } : { store: "memory" };
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp", NODE_ENV: "production" };
  const contenders = [
    {
      id: "cold-ks",
      label: `knstate serve counter+echo, first counter command (${redis ? "Redis connected" : "memory store"}), tracing off`,
      command: process.execPath,
      args: S.knstateArgs(),
      env: S.knstateEnv({ port: 8301, metricsPort: 9531, service: "bench-cold", ...store }),
      cwd: S.ROOT,
      port: 8301,
      request: firstRequests.counter,
    },
    {
      id: "cold-ks-otel",
      label: "knstate, the same, tracing on (OTLP to a local sink)",
      command: process.execPath,
      args: S.knstateArgs(),
      env: S.knstateEnv({
        port: 8302,
        metricsPort: 9532,
        service: "bench-cold-otel",
        otlp: "http://127.0.0.1:4318",
        ...store,
      }),
      cwd: S.ROOT,
      port: 8302,
      request: firstRequests.counter,
    },
    {
      id: "cold-faas",
      label: "faas-js-runtime 3.0.2 CLI, first echo CloudEvent",
      command: process.execPath,
      args: [
        "-r",
        join(S.BENCH_DIR, "servers/loopback-only.cjs"),
        join(S.BENCH_DIR, "node_modules/faas-js-runtime/bin/cli.js"),
        join(S.BENCH_DIR, "servers/faas-echo/index.js"),
        "--port",
        "8303",
      ],
      env,
      cwd: join(S.BENCH_DIR, "servers/faas-echo"),
      port: 8303,
      request: firstRequests.echo,
    },
    {
      id: "cold-node-ce",
      label: "node:http hand-parsed CloudEvent (floor)",
      command: process.execPath,
      args: [join(S.BENCH_DIR, "servers/node-http-ce.mjs"), "8304"],
      env,
      cwd: S.BENCH_DIR,
      port: 8304,
      request: firstRequests.echo,
    },
  ];
  const samples = Object.fromEntries(contenders.map((c) => [c.id, []]));
  // One discarded spawn each, then cfg.coldRuns spawns in turns.
  for (let i = -1; i < cfg.coldRuns; i++) {
    for (const c of contenders) {
      const r = await coldStartOnce({ ...c, logFile: join(logDir, `${c.id}.log`) });
      if (i >= 0) samples[c.id].push(r);
    }
    log(
      `cold: spawn ${i + 1}/${cfg.coldRuns}: ${contenders.map((c) => `${c.id} ${fmt(samples[c.id].at(-1)?.ms ?? NaN, 1)} ms`).join(", ")}`,
    );
  }
  const median_ = (id) => median(samples[id].map((s) => s.ms));
  results.sections.cold = {
    rows: contenders.map((c) => ({
      id: c.id,
      label: c.label,
      medianMs: median_(c.id),
      minMs: min(samples[c.id].map((s) => s.ms)),
      maxMs: max(samples[c.id].map((s) => s.ms)),
      rssMiB: median(samples[c.id].map((s) => s.rssMiB)),
      ratioToFaas: median_(c.id) / median_("cold-faas"),
      samples: samples[c.id],
    })),
  };
  await stopAll();
}

/** Redis bytes per entity, event and dedup record: the store's layout beside the former one. */
async function footprintSection() {
  const redis = await start(S.startRedis({ port: 6391, dir: join(dataDir, "redis-footprint"), logDir }));
  S.redisCli(redis.port, ["CONFIG", "SET", "appendonly", "no"]);
  log(`footprint: ${cfg.footprintCounts.join(", ")} entities, current and former layout`);
  results.sections.footprint = await footprint({
    root: S.ROOT,
    port: redis.port,
    counts: cfg.footprintCounts,
    soakSeconds: cfg.quick ? 5 : 15,
    log,
  });
  await redis.stop();
}

// ---------------------------------------------------------------- report
function targets() {
  const t = [];
  t.push(...footprintTargets(results.sections.footprint, target));
  const echo = results.sections.echo?.runs ?? {};
  const counter = results.sections.counter?.runs ?? {};
  const rowOf = (section, id) => results.sections[section]?.rows.find((r) => r.id === id);
  const p99 = (section, id) => rowOf(section, id)?.summary.p99Ms ?? NaN;
  const rps = (section, id) => rowOf(section, id)?.summary.rps ?? NaN;

  t.push(target("stateless echo req/s vs faas-js-runtime", ratioOf(echo, "ks-echo", "faas"), ">=", 2));
  t.push(
    target(
      "stateless echo p99 vs faas-js-runtime (must be lower)",
      p99("echo", "ks-echo") / p99("echo", "faas"),
      "<=",
      0.999,
      `(${fmt(p99("echo", "ks-echo"), 2)} ms vs ${fmt(p99("echo", "faas"), 2)} ms)`,
    ),
  );
  t.push(
    target(
      "stateless echo req/s vs bare node:http CloudEvent",
      ratioOf(echo, "ks-echo", "node-ce"),
      ">=",
      0.45,
    ),
  );
  const store = results.sections.counter?.store;
  const onRedis = store === "Redis" ? "" : " [memory store: Redis store not available]";
  t.push(
    target(
      "counter 1,000 entities (CE, cache on) vs redis-benchmark EVALSHA",
      ratioOf(counter, "ks-ce-1000", "rb-evalsha"),
      ">=",
      0.3,
      onRedis,
    ),
  );
  t.push(
    target(
      "counter 1,000 entities (CE, cache off) vs redis-benchmark EVALSHA",
      ratioOf(counter, "ks-nocache-ce-1000", "rb-evalsha"),
      ">=",
      0.25,
      onRedis,
    ),
  );
  t.push(
    target(
      "counter 1,000 entities (CE) req/s vs Restate",
      ratioOf(counter, "ks-ce-1000", "restate-1000"),
      ">=",
      15,
      onRedis,
    ),
  );
  t.push(
    target(
      "counter 1,000 entities (CE) p99 vs Restate p99",
      p99("counter", "ks-ce-1000") / p99("counter", "restate-1000"),
      "<=",
      0.1,
      `(${fmt(p99("counter", "ks-ce-1000"), 2)} ms vs ${fmt(p99("counter", "restate-1000"), 2)} ms)`,
    ),
  );
  t.push(
    target(
      "hot entity vs knstate's own 1,000-entity figure",
      ratioOf(counter, "ks-ce-hot", "ks-ce-1000"),
      ">=",
      0.5,
      onRedis,
    ),
  );
  t.push(
    target("hot entity vs Restate hot", ratioOf(counter, "ks-ce-hot", "restate-hot"), ">=", 25, onRedis),
  );
  const cold = results.sections.cold?.rows ?? [];
  const coldOf = (id) => cold.find((r) => r.id === id)?.medianMs ?? NaN;
  t.push(
    target(
      "cold start, tracing off, vs faas-js-runtime",
      coldOf("cold-ks") / coldOf("cold-faas"),
      "<=",
      0.75,
      `(${fmt(coldOf("cold-ks"), 1)} ms vs ${fmt(coldOf("cold-faas"), 1)} ms)`,
    ),
  );
  t.push(
    target(
      "cold start, tracing on, vs faas-js-runtime",
      coldOf("cold-ks-otel") / coldOf("cold-faas"),
      "<=",
      1,
      `(${fmt(coldOf("cold-ks-otel"), 1)} ms)`,
    ),
  );
  t.push(
    target(
      "telemetry tax, echo (1 - traced/untraced req/s)",
      1 - ratioOf(echo, "ks-echo-otel", "ks-echo"),
      "<=",
      0.15,
    ),
  );
  t.push(
    target(
      "telemetry tax, counter 1,000 entities",
      1 - ratioOf(counter, "ks-otel-ce-1000", "ks-ce-1000"),
      "<=",
      0.15,
    ),
  );
  t.push(
    target(
      "telemetry tax, counter hot entity",
      1 - ratioOf(counter, "ks-otel-ce-hot", "ks-ce-hot"),
      "<=",
      0.15,
    ),
  );
  const load = results.sections.load;
  t.push(
    target(
      `load of a ${cfg.bigEvents}-event entity vs a 100-event one (p50 GET, cache off)`,
      load ? ratioOf(load.runs, "load-20000", "load-100", "p50Ms") : NaN,
      "<=",
      1.5,
    ),
  );
  // Memory targets: the knstate processes in their production shape (Redis store when it is
  // available). The memory-store process holds every event and dedup record in process, so it
  // grows with the load by design; it is reported on its own line.
  const ksRows = [...(results.sections.echo?.rows ?? []), ...(results.sections.counter?.rows ?? [])].filter(
    (r) => r.server?.startsWith("knstate") && r.server !== "knstate-memory" && r.rss,
  );
  const idleMax = Math.max(...ksRows.map((r) => r.rss.idle));
  const afterMax = Math.max(...ksRows.map((r) => r.rss.after));
  const largest = (key) =>
    ksRows.find((r) => r.rss[key] === (key === "idle" ? idleMax : afterMax))?.server ?? "";
  t.push(
    target(
      "knstate idle RSS MiB (largest knstate process)",
      ksRows.length ? idleMax : NaN,
      "<=",
      80,
      largest("idle"),
    ),
  );
  t.push(
    target(
      "knstate RSS after load MiB (largest knstate process)",
      ksRows.length ? afterMax : NaN,
      "<=",
      150,
      largest("after"),
    ),
  );
  const mem = results.sections.counter?.rows.find((r) => r.server === "knstate-memory" && r.rss);
  if (mem)
    t.push(
      target(
        "knstate memory-store process RSS after load MiB (holds all state in process)",
        mem.rss.after,
        "<=",
        150,
      ),
    );
  void rps;
  return t;
}

function print() {
  const out = [];
  const m = results.machine;
  out.push(`# knstate benchmarks ${results.date} (knstate ${results.knstate.commit})`);
  out.push(
    `machine: ${m.cores} × ${m.cpu}, ${m.memGiB} GiB, ${m.os}, Node ${m.node}; wrk -t1 -c${cfg.connections}, ${cfg.warmup} s warm-up + ${cfg.duration} s, ${cfg.rounds} round(s), medians${cfg.quick ? " (QUICK smoke run: not for comparison)" : ""}`,
  );
  if (results.sections.echo) {
    out.push(
      "\n## Stateless binary-mode CloudEvent echo (ratio to node:http hand-parsed CloudEvent, same round)\n",
    );
    out.push(throughputTable(results.sections.echo, "node-ce", undefined, "faas"));
  }
  if (results.sections.counter) {
    const c = results.sections.counter;
    out.push(
      `\n## Counter increment (${c.store} store${c.store === "Redis" ? ", appendonly yes, appendfsync everysec" : ""}; ratio to ${c.reference}, same round)\n`,
    );
    out.push(throughputTable(c, c.reference, undefined, c.second));
    if (c.redis)
      out.push(
        `\nredis-server RSS ${fmt(c.redis.idleMiB)} → ${fmt(c.redis.afterMiB)} MiB. redis-benchmark: knstate's append script on 1,000 entities (-r 1000), behind a prologue that matches the stream key to the meta key and sets the current version (one extra HGET): the full append path.`,
      );
    if (c.restateParts)
      out.push("Restate CPU and RSS are restate-server + the SDK endpoint process together.");
  }
  if (results.sections.load) {
    const l = results.sections.load;
    out.push(
      `\n## Entity load time (GET with cache off, ${l.gets} sequential GETs per round, ${l.store} store)\n`,
    );
    out.push(
      table(
        ["id", "contender", "p50 ms", "p99 ms", "ratio (p50) to load-100"],
        l.rows.map((r) => [
          r.id,
          r.label,
          fmt(r.summary.p50Ms, 2),
          fmt(r.summary.p99Ms, 2),
          fmt(r.ratioToRef, 2),
        ]),
      ),
    );
  }
  if (results.sections.cold) {
    out.push(`\n## Cold start: spawn to first 2xx reply (median of ${cfg.coldRuns}, in turns)\n`);
    out.push(
      table(
        ["id", "contender", "median ms", "min–max ms", "RSS at first reply MiB", "ratio to faas"],
        results.sections.cold.rows.map((r) => [
          r.id,
          r.label,
          fmt(r.medianMs, 1),
          `${fmt(r.minMs, 1)}–${fmt(r.maxMs, 1)}`,
          fmt(r.rssMiB),
          fmt(r.ratioToFaas, 2),
        ]),
      ),
    );
  }
  if (results.sections.footprint) out.push(...footprintReport(results.sections.footprint, table));
  const loads = Object.values(results.sections).flatMap((s) =>
    (s.rows ?? []).flatMap((r) => (r.rounds ?? []).map((x) => x.loadavg1)),
  );
  if (loads.length)
    out.push(
      `\nMachine load (1-min load average at the end of each measurement): median ${fmt(median(loads), 1)}, max ${fmt(max(loads), 1)} on ${m.cores} cores.`,
    );
  if (results.notes.length) out.push(`\nNotes:\n${results.notes.map((n) => `- ${n}`).join("\n")}`);
  out.push("\n## Targets\n");
  out.push("```");
  for (const t of results.targets) out.push(targetLine(t));
  out.push("```");
  return out.join("\n");
}

let failed = false;
try {
  log(
    `settings: ${JSON.stringify({ rounds: cfg.rounds, duration: cfg.duration, warmup: cfg.warmup, sections: cfg.sections, restate: cfg.restate, netns: inNetns })}; logs in ${logDir}`,
  );
  S.knstatePaths();
  if (cfg.sections.includes("echo")) await echoSection();
  if (cfg.sections.includes("counter")) await counterSection();
  if (cfg.sections.includes("load")) await loadSection();
  if (cfg.sections.includes("cold")) await coldSection();
  if (cfg.sections.includes("footprint")) await footprintSection();
} catch (error) {
  failed = true;
  results.error = String(error.stack ?? error);
  log(`FAILED: ${error.stack ?? error}`);
} finally {
  await stopAll();
  rmSync(dataDir, { recursive: true, force: true });
}
results.targets = targets();
for (const s of Object.values(results.sections)) {
  // Keep per-round figures in the rows; the raw map duplicates them.
  delete s.runs;
}
const text = print();
process.stdout.write(`${text}\n`);
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(resultsDir, "latest.md"), `${text}\n`);
log(`wrote ${join(resultsDir, "latest.json")}`);
process.exit(failed ? 1 : 0);
