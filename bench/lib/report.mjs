// Summaries (medians over rounds, per-round ratios), the printed tables and the PASS/MISS
// lines of the targets.
import { fmt, median, medianRatio } from "./stats.mjs";

/** Medians of one contender's rounds. */
export function summarize(rounds) {
  const pick = (k) => median(rounds.map((r) => r[k]));
  return {
    rps: pick("rps"),
    p50Ms: pick("p50Ms"),
    p99Ms: pick("p99Ms"),
    cpuUsPerReq: pick("cpuUsPerReq"),
    redisCpuUsPerReq: pick("redisCpuUsPerReq"),
    non2xx: rounds.reduce((s, r) => s + (r.non2xx ?? 0), 0),
    socketErrors: rounds.reduce((s, r) => s + (r.socketErrors ?? 0), 0),
  };
}

export function ratioOf(runs, a, b, key = "rps") {
  if (!runs[a] || !runs[b]) return NaN;
  return medianRatio(
    runs[a].map((r) => r[key]),
    runs[b].map((r) => r[key]),
  );
}

/** A markdown table (also readable in a terminal). */
export function table(headers, rows) {
  const lines = [
    `| ${headers.join(" | ")} |`,
    `|${headers.map((_, i) => (i < 2 ? "---" : "---:")).join("|")}|`,
  ];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}

export function throughputTable(section, refId, refLabel, secondLabel) {
  const rows = section.rows.map((row) => {
    const s = row.summary;
    const rss = row.rss ? `${fmt(row.rss.idle, 0)} → ${fmt(row.rss.after, 0)}` : "–";
    return [
      row.id,
      row.label,
      fmt(s.rps),
      fmt(s.p50Ms, 2),
      fmt(s.p99Ms, 2),
      fmt(row.ratioToRef, 3),
      ...(secondLabel ? [fmt(row.ratioToSecond, 2)] : []),
      fmt(s.cpuUsPerReq, 0),
      Number.isFinite(s.redisCpuUsPerReq) ? fmt(s.redisCpuUsPerReq, 0) : "–",
      rss,
      String(s.non2xx + s.socketErrors),
    ];
  });
  return table(
    [
      "id",
      "contender",
      "req/s (2xx)",
      "p50 ms",
      "p99 ms",
      `ratio to ${refLabel ?? refId}`,
      ...(secondLabel ? [`ratio to ${secondLabel}`] : []),
      "server CPU µs/req",
      "redis CPU µs/req",
      "RSS MiB idle → after",
      "non-2xx + socket errors",
    ],
    rows,
  );
}

/** One target: `value op limit`, printed PASS, MISS, or SKIP with the reason. */
export function target(name, value, op, limit, detail = "") {
  let status;
  if (!Number.isFinite(value)) status = "SKIP";
  else if (op === ">=") status = value >= limit ? "PASS" : "MISS";
  else status = value <= limit ? "PASS" : "MISS";
  return { name, value, op, limit, status, detail };
}

export function targetLine(t) {
  const v = Number.isFinite(t.value) ? fmt(t.value, 3) : "n/a";
  return `${t.status.padEnd(4)}  ${t.name}: ${v} (target ${t.op} ${t.limit})${t.detail ? `  ${t.detail}` : ""}`;
}
