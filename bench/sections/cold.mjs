// The cold-start section: spawn to first 2xx reply, knstate beside faas-js-runtime and node:http.
import { join } from "node:path";
import { coldStartOnce, firstRequests } from "../lib/coldstart.mjs";
import { startRedisIfUsable } from "../lib/redis.mjs";
import { cfg, log, logDir, results, start, stopAll } from "../lib/run-state.mjs";
import * as S from "../lib/servers.mjs";
import { fmt, max, median, min } from "../lib/stats.mjs";

export async function coldSection() {
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
