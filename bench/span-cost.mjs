#!/usr/bin/env node
// The CPU a command's span costs, without HTTP around it: `node bench/span-cost.mjs`.
// Runs the tracing hooks of one CloudEvent command (event span, handler time, reply context)
// SPAN_COST_COUNT (100,000) times, 64 at a time, in turns: untraced, unsampled
// (OTEL_TRACES_SAMPLER=always_off) and sampled (recorded, encoded as OTLP protobuf and exported
// to a local dummy receiver). Prints the median CPU µs per command of each over
// SPAN_COST_ROUNDS (5) rounds, and what tracing adds. Much steadier than a run under load, so
// it tells whether a change to the tracer made a span cheaper; `bench/ab.mjs` tells what
// that is worth to a server. SPAN_COST_VARIANTS=sampled (comma-separated) runs only those,
// e.g. under `node --cpu-prof`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const S = await import("./lib/servers.mjs");
const { fmt, median } = await import("./lib/stats.mjs");

const count = Number(process.env.SPAN_COST_COUNT ?? 100_000);
const rounds = Number(process.env.SPAN_COST_ROUNDS ?? 5);
const dist = (path) => import(pathToFileURL(join(S.ROOT, "dist/src", path)).href);
const { startTracing } = await dist("observability/start-tracing.js");
const { silentLogger } = await dist("observability/logger.js");

const logDir = mkdtempSync(join(tmpdir(), "knstate-span-cost-"));
const sink = await S.startNodeScript({ name: "otlp-sink", script: "otlp-sink.mjs", port: 4331, logDir });
try {
  const tracer = (sampler) =>
    startTracing(
      { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}`, OTEL_TRACES_SAMPLER: sampler },
      { service: "bench-span-cost", revision: "r1", logger: silentLogger },
    );
  const only = process.env.SPAN_COST_VARIANTS?.split(",");
  const variants = [
    { name: "untraced", observer: undefined },
    { name: "unsampled", tracing: await tracer("always_off") },
    { name: "sampled", tracing: await tracer("parentbased_always_on") },
  ].filter((v) => only === undefined || only.includes(v.name));
  const transport = { host: "127.0.0.1:8080", "content-type": "application/json" };
  // What the pipeline does around one command, as the event handler and dispatcher call it.
  const command = (observer, i) => {
    const event = {
      id: `evt-${i}`,
      source: "/bench/span-cost",
      type: "com.example.counter.increment",
      specversion: "1.0",
      subject: `c${i % 1000}`,
      extensions: {},
      dataKind: "json",
      data: { by: 1 },
    };
    const run = async (trace) => {
      observer?.handled?.("counter", "increment", 0.000_01, trace);
      return {
        id: `counter/c${i % 1000}/${i}`,
        source: "/bench-span-cost/counter",
        type: "com.example.counter.increment.reply",
        subject: event.subject,
        time: new Date().toISOString(),
        extensions: { entityversion: i },
        data: { value: i },
      };
    };
    return observer?.traceEvent ? observer.traceEvent(event, transport, run) : run(undefined);
  };
  const measure = async (observer) => {
    const before = process.cpuUsage();
    for (let i = 0; i < count; i += 64) {
      const batch = [];
      for (let j = 0; j < 64; j++) batch.push(command(observer, i + j));
      await Promise.all(batch);
      // One turn of the event loop per batch, as a server's requests arrive: the exporter sends.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  };
  for (const v of variants) {
    v.observer ??= v.tracing?.observer;
    v.samples = [];
    await measure(v.observer); // warm-up
  }
  for (let r = 0; r < rounds; r++) for (const v of variants) v.samples.push(await measure(v.observer));
  const base = variants[0].name === "untraced" ? median(variants[0].samples) : undefined;
  for (const v of variants) {
    const us = median(v.samples);
    const added = base === undefined || v === variants[0] ? "" : `  (+${fmt(us - base, 2)} µs)`;
    process.stdout.write(`${v.name.padEnd(10)} ${fmt(us, 2).padStart(6)} µs CPU per command${added}\n`);
  }
  for (const v of variants) await v.tracing?.shutdown();
  const stats = await fetch(`http://127.0.0.1:${sink.port}/stats`).then((r) => r.text());
  process.stdout.write(`otlp sink: ${stats}\n`);
} finally {
  await sink.stop();
  rmSync(logDir, { recursive: true, force: true });
}
