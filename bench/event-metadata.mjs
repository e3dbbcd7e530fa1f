#!/usr/bin/env node
// What recording each command's metadata with its events costs (KNSTATE_EVENT_METADATA), against a
// private redis-server:
// - bytes: BENCH_ENTITIES counters get one event each, then BENCH_EVENTS further events each
//   (one event per command, no dedup record: the events alone); Redis's used_memory before and
//   after the further events, per event, for `off`, `trace` (time, trace id) and `full` (also a
//   CloudEvent id, a UUID, and source); with the hash encoding Redis chose;
// - commit path: the client's CPU to encode one append (µs), and appends/s of counter increments
//   through the store with Redis's own time per script call, variants interleaved in rounds.
// Needs `npm run build` first. Settings: BENCH_ENTITIES (10000), BENCH_EVENTS (10), BENCH_ROUNDS (5),
// BENCH_SOURCE (/sensors/7). Usage: node bench/event-metadata.mjs
import { randomBytes, randomUUID } from "node:crypto";
import { startScratchRedis } from "./lib/scratch-redis.mjs";

const root = new URL("../dist/src/", import.meta.url);
const { RedisStore } = await import(new URL("store/redis-store.js", root).href);
const { encodeAppend } = await import(new URL("store/append-encoding.js", root).href);
const { loadConfig } = await import(new URL("config/load-config.js", root).href);
const { silentLogger } = await import(new URL("observability/logger.js", root).href);
const { Redis } = await import("ioredis");

const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 10000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SOURCE = process.env.BENCH_SOURCE ?? "/sensors/7";
const CONCURRENCY = 64;
const VARIANTS = ["off", "trace", "full"];
/** Redis's default `hash-max-listpack-value`, and the raise docs/admin.md suggests with `full`. */
const LISTPACK = [64, 128];

const redis = await startScratchRedis();
const { port } = redis;
const admin = new Redis(port, "127.0.0.1");
const store = await RedisStore.connect(
  loadConfig({ KNSTATE_STORE: "redis", REDIS_URL: `redis://127.0.0.1:${port}`, K_SERVICE: "bench" }),
  silentLogger,
);

// Ids made before the timed loops, so that every variant pays the same to build its requests.
const POOL = 4096;
const traces = Array.from({ length: POOL }, () => randomBytes(16).toString("hex"));
const uuids = Array.from({ length: POOL }, () => randomUUID());
let drawn = 0;

/** The metadata of one command, as the pipeline records it for `variant`. */
function metaOf(variant) {
  const i = drawn++ % POOL;
  if (variant === "off") return undefined;
  const base = { time: Date.now(), traceId: traces[i] };
  return [variant === "full" ? { ...base, eventId: uuids[(i * 7) % POOL], source: SOURCE } : base];
}

const request = (type, id, version, variant, dedup = false) => {
  const meta = metaOf(variant);
  const dedupId = `${SOURCE}\u0000${id}-${version}`;
  const record = { version: version + 1, reply: { value: version + 1 }, replyId: uuids[drawn % POOL] };
  return {
    key: { entityType: type, entityId: id },
    expectedVersion: version,
    events: [{ type: "changed", data: { by: 1 } }],
    logEvents: true,
    checkDedup: dedup ? [dedupId] : [],
    writeDedup: dedup ? [[dedupId, record]] : [],
    dedupTtlMs: 600_000,
    ...(meta ? { meta } : {}),
  };
};

async function each(ids, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ids.length) await task(ids[next++]);
    }),
  );
}

async function usedMemory() {
  const info = await admin.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

const ids = Array.from({ length: ENTITIES }, (_, i) => `c-${i}`);
console.log(`bytes: ${ENTITIES} counters, ${EVENTS} further events each (one per command, no dedup)`);
for (const [variant, listpack] of [...VARIANTS.map((v) => [v, 64]), ["full", 128]]) {
  await admin.flushall();
  await admin.config("SET", "hash-max-listpack-value", String(listpack));
  const type = `m${variant}`;
  await each(ids, async (id) => store.append(request(type, id, 0, variant)));
  const before = await usedMemory();
  for (let v = 1; v <= EVENTS; v++)
    await each(ids, async (id) => store.append(request(type, id, v, variant)));
  const after = await usedMemory();
  const key = `ks:bench:${type}:{c-0}:m`;
  const encoding = await admin.object("ENCODING", key);
  const sample = await admin.hget(key, "e2");
  const perEvent = (after - before) / (ENTITIES * EVENTS);
  console.log(
    `  ${variant.padEnd(5)} listpack-value ${listpack} ${perEvent.toFixed(1).padStart(6)} B/event   hash ${encoding.padEnd(9)} e2 = ${sample.length} chars: ${sample}`,
  );
}
await admin.config("SET", "hash-max-listpack-value", String(LISTPACK[0]));

// Client CPU to encode one append.
for (const variant of VARIANTS) {
  const n = 100_000;
  const requests = Array.from({ length: 1000 }, (_, i) => request("counter", `c-${i}`, 5, variant, true));
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) encodeAppend(requests[i % 1000], 32, false);
  const used = process.cpuUsage(started);
  console.log(
    `encode ${variant.padEnd(5)} ${(((used.user + used.system) / n) * 1).toFixed(2)} µs/append (CPU)`,
  );
}

// Throughput: increments with a dedup record, variants interleaved per round.
async function scriptMicros() {
  const info = await admin.info("commandstats");
  const line = info
    .split("\n")
    .find((l) => l.startsWith("cmdstat_evalsha:") || l.startsWith("cmdstat_eval:"));
  return Number(/usec_per_call=([\d.]+)/.exec(line ?? "")?.[1] ?? NaN);
}
const rate = Object.fromEntries(VARIANTS.map((v) => [v, []]));
const micros = Object.fromEntries(VARIANTS.map((v) => [v, []]));
await admin.flushall();
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
  for (const variant of order) {
    const type = `t${variant}${round}`;
    await each(ids, async (id) => store.append(request(type, id, 0, variant, true)));
    await admin.config("RESETSTAT");
    const started = performance.now();
    await each(ids, async (id) => {
      const result = await store.append(request(type, id, 1, variant, true));
      if (result.kind !== "ok") throw new Error(`append: ${result.kind}`);
    });
    rate[variant].push(ids.length / ((performance.now() - started) / 1000));
    micros[variant].push(await scriptMicros());
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`increments with a dedup record, median of ${ROUNDS} rounds, concurrency ${CONCURRENCY}:`);
for (const variant of VARIANTS) {
  console.log(
    `  ${variant.padEnd(5)} ${median(rate[variant]).toFixed(0).padStart(6)} appends/s   script ${median(micros[variant]).toFixed(2)} µs/call in Redis`,
  );
}
await store.close();
admin.disconnect();
redis.stop();
