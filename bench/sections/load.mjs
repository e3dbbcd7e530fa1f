// The load-time section: GET with the cache off, an entity with many events beside one with few.

import { rounds } from "../lib/measure.mjs";
import { httpRequest } from "../lib/proc.mjs";
import { startRedisIfUsable } from "../lib/redis.mjs";
import { ratioOf, summarize } from "../lib/report.mjs";
import { cfg, log, logDir, results, start, started, stopAll } from "../lib/run-state.mjs";
import * as S from "../lib/servers.mjs";
import { fmt, median } from "../lib/stats.mjs";

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

export async function loadSection() {
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
