// The counter section: increments on 1,000 entities and on one hot entity, knstate (cache, group
// commit and tracing on and off) beside redis-benchmark and Restate.
import { join } from "node:path";
import { checkCounter } from "../lib/checks.mjs";
import { idleRss, rounds, sectionRows } from "../lib/measure.mjs";
import { appendScriptCall, measureRedisBenchmark, startRedisIfUsable } from "../lib/redis.mjs";
import { cfg, dataDir, log, logDir, results, rssOf, start, started, stopAll } from "../lib/run-state.mjs";
import * as S from "../lib/servers.mjs";

export async function counterSection() {
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
