// The targets the run is held to (PASS/MISS), from the sections' results.
import { footprintTargets } from "./footprint.mjs";
import { ratioOf, target } from "./report.mjs";
import { cfg, results } from "./run-state.mjs";
import { fmt } from "./stats.mjs";

export function targets() {
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
