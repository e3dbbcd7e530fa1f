#!/usr/bin/env node
// The entity index's cost and the admin listing's speed, against a private redis-server:
// - appends creating new counters (the only appends that write the index) and appends to
//   existing counters, with the index on and off, rounds interleaved in the same run;
// - listing 10,000 ids page by page through the store (limit 100 and 1000).
// Needs `npm run build` first. Settings: BENCH_ENTITIES (20000 per round), BENCH_ROUNDS (3),
// BENCH_CONCURRENCY (64). Usage: node bench/admin-index.mjs
import { startScratchRedis } from "./lib/scratch-redis.mjs";

const root = new URL("../dist/src/", import.meta.url);
const { RedisStore } = await import(new URL("store/redis-store.js", root).href);
const { loadConfig } = await import(new URL("config/load-config.js", root).href);
const { silentLogger } = await import(new URL("observability/logger.js", root).href);

const { Redis } = await import("ioredis");
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 20000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);

const redis = await startScratchRedis();
const { port } = redis;
const admin = new Redis(port, "127.0.0.1");
/** Redis's own time per append script call (µs), since the last reset: immune to client-side noise. */
async function scriptMicros() {
  const info = await admin.info("commandstats");
  const line = info
    .split("\n")
    .find((l) => l.startsWith("cmdstat_evalsha:") || l.startsWith("cmdstat_eval:"));
  return Number(/usec_per_call=([\d.]+)/.exec(line ?? "")?.[1] ?? NaN);
}

const connect = (index, service) =>
  RedisStore.connect(
    loadConfig({
      KNSTATE_STORE: "redis",
      REDIS_URL: `redis://127.0.0.1:${port}`,
      K_SERVICE: service,
      KNSTATE_ENTITY_INDEX: String(index),
    }),
    silentLogger,
  );

const request = (id, version) => ({
  key: { entityType: "counter", entityId: id },
  expectedVersion: version,
  events: [{ type: "changed", data: { by: 1 } }],
  logEvents: true,
  snapshot: undefined,
  checkDedup: [`/bench\u0000${id}-${version}`],
  writeDedup: [
    [
      `/bench\u0000${id}-${version}`,
      {
        version: version + 1,
        reply: { value: version + 1 },
        replyId: "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b",
      },
    ],
  ],
  dedupTtlMs: 600_000,
});

async function run(store, ids, version) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ids.length) {
        const result = await store.append(request(ids[next++], version));
        if (result.kind !== "ok") throw new Error(`append: ${result.kind}`);
      }
    }),
  );
  return ids.length / ((performance.now() - started) / 1000);
}

const results = { create: { on: [], off: [] }, increment: { on: [], off: [] } };
const micros = { create: { on: [], off: [] }, increment: { on: [], off: [] } };
for (let round = 0; round < ROUNDS; round++) {
  for (const index of round % 2 === 0 ? [true, false] : [false, true]) {
    const store = await connect(index, `bench-${index ? "on" : "off"}-${round}`);
    const ids = Array.from({ length: ENTITIES }, (_, i) => `c-${i}`);
    const side = index ? "on" : "off";
    await admin.config("RESETSTAT");
    results.create[side].push(await run(store, ids, 0));
    micros.create[side].push(await scriptMicros());
    await admin.config("RESETSTAT");
    results.increment[side].push(await run(store, ids, 1));
    micros.increment[side].push(await scriptMicros());
    await store.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`appends/s, median of ${ROUNDS} rounds, ${ENTITIES} entities, concurrency ${CONCURRENCY}`);
for (const kind of ["create", "increment"]) {
  const on = median(results[kind].on);
  const off = median(results[kind].off);
  const [mOn, mOff] = [median(micros[kind].on), median(micros[kind].off)];
  console.log(
    `${kind.padEnd(10)} script time in Redis, µs/call: index on ${mOn.toFixed(2)}  off ${mOff.toFixed(2)}  (+${(((mOn - mOff) / mOff) * 100).toFixed(1)}%)`,
  );
  console.log(
    `${kind.padEnd(10)} index on ${on.toFixed(0).padStart(7)}  off ${off.toFixed(0).padStart(7)}  cost ${(((off - on) / off) * 100).toFixed(1)}%`,
  );
}

// Bytes per entity of the index: the sorted set of one round's entities, as Redis counts it.
{
  const ids = await admin.zcard("ks:bench-on-0:counter:i");
  const bytes = await admin.memory("USAGE", "ks:bench-on-0:counter:i", "SAMPLES", "0");
  console.log(`index memory: ${bytes} B for ${ids} ids = ${(bytes / ids).toFixed(1)} B per entity`);
}

// Listing: 10,000 ids of one type, page by page.
const store = await connect(true, "bench-list");
await run(
  store,
  Array.from({ length: 10_000 }, (_, i) => `l-${i}`),
  0,
);
for (const limit of [100, 1000]) {
  const times = [];
  for (let r = 0; r < 5; r++) {
    const started = performance.now();
    let cursor;
    let total = 0;
    do {
      const page = await store.listEntities("counter", { prefix: "", limit, cursor });
      total += page.ids.length;
      cursor = page.cursor ?? undefined;
    } while (cursor !== undefined);
    if (total !== 10_000) throw new Error(`listed ${total}`);
    times.push(performance.now() - started);
  }
  console.log(
    `list 10,000 ids, limit ${String(limit).padStart(4)}: ${median(times).toFixed(0)} ms (median of 5)`,
  );
}
const started = performance.now();
let prefixed = 0;
let cursor;
do {
  const page = await store.listEntities("counter", { prefix: "l-99", limit: 1000, cursor });
  prefixed += page.ids.length;
  cursor = page.cursor ?? undefined;
} while (cursor !== undefined);
console.log(`list prefix l-99 (${prefixed} ids) over 10,000: ${(performance.now() - started).toFixed(0)} ms`);
await store.close();
admin.disconnect();
redis.stop();
