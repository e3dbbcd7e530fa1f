#!/usr/bin/env node
// Redis's time per command of the three ways a hot counter's batch is written, against a private
// redis-server (no AOF), side by side: batches of BENCH_BATCH (28) counter increments with a
// CloudEvent dedup id each, to one entity, one call at a time:
// - `apply`: a replicated batch through the apply script (Redis applies each operation);
// - `predicted`: the same batch computed by the host (predictBatch) and written by the
//   predicted-batch script;
// - `event-sourced`: an event-sourced append of as many events and dedup records.
// Each variant writes its own entity, BENCH_CALLS (2000) calls per round after a warm-up, variants
// interleaved for BENCH_ROUNDS (5) rounds; medians of Redis's µs per script call (INFO
// commandstats) divided by the batch. The dedup hashes grow as they would under load. Also the
// host's CPU to compute and encode a predicted batch. Needs `npm run build` first.
// Usage: node bench/replicated-script.mjs
import { randomUUID } from "node:crypto";
import { startScratchRedis } from "./lib/scratch-redis.mjs";

const root = new URL("../dist/src/", import.meta.url);
const { RedisStore } = await import(new URL("store/redis-store.js", root).href);
const { loadConfig } = await import(new URL("config/load-config.js", root).href);
const { silentLogger } = await import(new URL("observability/logger.js", root).href);
const { predictBatch } = await import(new URL("pipeline/replicated-predict.js", root).href);
const { Redis } = await import("ioredis");

const BATCH = Number(process.env.BENCH_BATCH ?? 28);
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const server = await startScratchRedis();
const { url } = server;
const store = await RedisStore.connect(
  loadConfig({ KNSTATE_STORE: "redis", REDIS_URL: url, K_SERVICE: "bench" }),
  silentLogger,
);
const admin = new Redis(url);
const run = randomUUID().slice(0, 8);
let n = 0;
const dedupId = () => `c\u0000/bench/wrk\u0000${run}-${++n}`;
const like = () => {
  const id = dedupId();
  return {
    ops: [{ code: "inc", field: "count", cell: "c|count", a: "1", b: "", c: "", entry: "" }],
    observed: Number.MAX_SAFE_INTEGER,
    returnCells: ["c|count"],
    checkDedup: [id],
    writeDedup: { id, replyId: randomUUID() },
    dedupTtlMs: 86_400_000,
  };
};

const likes = { entityType: "likes", entityId: "apply" };
const predictedKey = { entityType: "likes", entityId: "predicted" };
const counterKey = { entityType: "counter", entityId: "hot" };
let cells = (await store.replicated.applyReplicatedBatch(predictedKey, [like()], true)).all.cells;
let version = 0;
let predictUs = 0;
let predicted = 0;

const VARIANTS = {
  apply: () => store.replicated.applyReplicatedBatch(likes, Array.from({ length: BATCH }, like), false),
  predicted: async () => {
    const started = process.hrtime.bigint();
    const prediction = predictBatch(predictedKey, cells, Array.from({ length: BATCH }, like));
    predictUs += Number(process.hrtime.bigint() - started) / 1000;
    predicted++;
    const written = await store.replicated.applyPredicted(predictedKey, prediction.batch);
    if (written.kind !== "applied") throw new Error("a prediction went stale with one writer");
    cells = prediction.after;
  },
  "event-sourced": async () => {
    const ids = Array.from({ length: BATCH }, dedupId);
    const result = await store.append({
      key: counterKey,
      expectedVersion: version,
      logEvents: true,
      events: ids.map(() => ({ type: "changed", data: { by: 1 } })),
      checkDedup: ids,
      writeDedup: ids.map((id, i) => [
        id,
        { version: version + i + 1, reply: { value: version + i + 1 }, replyId: randomUUID() },
      ]),
      dedupTtlMs: 86_400_000,
    });
    if (result.kind !== "ok") throw new Error(`append: ${result.kind}`);
    version = result.version;
  },
};

async function scriptTime() {
  const text = await admin.info("commandstats");
  let calls = 0;
  let usec = 0;
  for (const m of text.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+),usec=(\d+)/g)) {
    calls += Number(m[1]);
    usec += Number(m[2]);
  }
  return { calls, usec };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const perCommand = Object.fromEntries(Object.keys(VARIANTS).map((v) => [v, []]));
try {
  for (const call of Object.values(VARIANTS)) for (let i = 0; i < 200; i++) await call();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, call] of Object.entries(VARIANTS)) {
      const before = await scriptTime();
      for (let i = 0; i < CALLS; i++) await call();
      const after = await scriptTime();
      perCommand[name].push((after.usec - before.usec) / (after.calls - before.calls) / BATCH);
    }
  }
  process.stdout.write(
    `Redis µs per command, batches of ${BATCH}, ${ROUNDS} rounds of ${CALLS} calls (medians):\n`,
  );
  const base = median(perCommand.apply);
  for (const [name, xs] of Object.entries(perCommand)) {
    const m = median(xs);
    process.stdout.write(
      `  ${name.padEnd(14)} ${m.toFixed(2).padStart(6)} µs  (${(m / base).toFixed(2)}× the apply script)  [${xs.map((x) => x.toFixed(2)).join(" ")}]\n`,
    );
  }
  process.stdout.write(
    `host: computing and encoding a predicted batch: ${(predictUs / predicted / BATCH).toFixed(2)} µs per command\n`,
  );
} finally {
  admin.disconnect();
  await store.close();
  server.stop();
}
