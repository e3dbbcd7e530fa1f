// The Redis the counter, load and cold sections share, and redis-benchmark running knstate's
// own append script against it (the Redis ceiling of the counter section).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { cpuMicros } from "./proc.mjs";
import { cfg, dataDir, log, logDir, results, start } from "./run-state.mjs";
import * as S from "./servers.mjs";

/** redis-benchmark running knstate's own append script (EVALSHA) against the same Redis. */
export async function measureRedisBenchmark(redis, call) {
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

/**
 * knstate's append script, verbatim, behind a short prologue. redis-benchmark draws every
 * __rand_int__ on its own and cannot track versions, so the prologue (1) derives the event
 * stream key from the meta key, making both belong to the same entity, (2) uses one dedup field
 * for the check and the write, and (3) puts the entity's current version in ARGV[2], as a host
 * with the entity cached would. The script then runs its full append path on 1,000 existing
 * entities: TIME, one HMGET (version and dedup field), the legacy dedup GET, one HSET of the
 * event, version and record. The prologue adds one HGET.
 */
export async function appendScriptCall() {
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

export async function startRedisIfUsable() {
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
