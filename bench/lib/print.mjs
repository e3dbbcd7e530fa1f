// The printed report: a table per section, the machine's load, notes and the targets.
import { footprintReport } from "./footprint.mjs";
import { table, targetLine, throughputTable } from "./report.mjs";
import { cfg, results } from "./run-state.mjs";
import { fmt, max, median } from "./stats.mjs";

export function print() {
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
