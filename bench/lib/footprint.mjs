// Redis bytes per entity, per further event and per dedup record, for the store's layout and the
// former one (src/store/legacy-layout.ts), measured with used_memory on a fresh redis-server.
// Each figure is a difference of used_memory over N entities, divided by what was added:
//   entity   N counters with one event each (no dedup record)
//   event    9 more events on each (small data: {"by":1})
//   dedup    one more event with a CloudEvent dedup record on each, minus one event's cost
//   µs       Redis CPU per append with a dedup record (INFO commandstats, the dedup phase)
//   spilled  30 more events on each (41 in all), per entity: past the hash, in the stream (first
//            entity count only)
// and a short soak: dedup records written continuously with a 2 s window (appends that advance the
// version only, so that events do not grow), used_memory sampled.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";

const BATCH = 1000;
const REPLY_ID = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b";

async function usedMemory(client) {
  return Number(/used_memory:(\d+)/.exec(await client.info("memory"))[1]);
}

/** Runs `make(i)` (a script call) for i in [0, n), pipelined, and checks every reply is ok. */
async function runAll(client, sha, n, make) {
  for (let i = 0; i < n; i += BATCH) {
    const pipeline = client.pipeline();
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      const call = make(j);
      pipeline.evalsha(sha, call.keys.length, ...call.keys, ...call.args);
    }
    for (const [error, reply] of await pipeline.exec()) {
      if (error || reply[0] !== "ok") throw error ?? new Error(`append answered ${JSON.stringify(reply)}`);
    }
  }
}

async function measure(client, lua, synthetic, n, spilled) {
  await client.flushall();
  const sha = await client.script("LOAD", lua);
  const call = (j, version, dedupId = null) =>
    synthetic({ service: "fp", entityId: `c${j}`, expectedVersion: version, dedupId, replyId: REPLY_ID });
  const m0 = await usedMemory(client);
  await runAll(client, sha, n, (j) => call(j, 0));
  const m1 = await usedMemory(client);
  for (let v = 1; v < 10; v++) await runAll(client, sha, n, (j) => call(j, v));
  const m2 = await usedMemory(client);
  await client.config("RESETSTAT");
  // A CloudEvent's dedup id as the host forms it: source, NUL, id.
  await runAll(client, sha, n, (j) =>
    call(j, 10, `https://example.com/sources/orders\u0000${j}-${REPLY_ID}`),
  );
  const m3 = await usedMemory(client);
  const stats = /cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/.exec(
    await client.info("commandstats"),
  );
  const event = (m2 - m1) / (9 * n);
  const row = {
    entities: n,
    perEntity: (m1 - m0) / n,
    perEvent: event,
    perDedup: (m3 - m2) / n - event,
    usPerAppend: stats ? Number(stats[1]) : NaN,
  };
  if (!spilled) return row;
  for (let v = 11; v < 41; v++) await runAll(client, sha, n, (j) => call(j, v));
  const m4 = await usedMemory(client);
  return { ...row, perEntity41: (m4 - m0) / n - (m3 - m2) / n + event };
}

/** used_memory while dedup records are written without pause, with a short window. */
async function soak(client, lua, synthetic, { entities = 2000, windowMs = 2000, seconds = 10 } = {}) {
  await client.flushall();
  const sha = await client.script("LOAD", lua);
  const versions = new Array(entities).fill(0);
  const samples = [];
  const end = Date.now() + seconds * 1000;
  let next = Date.now() + 1000;
  let seq = 0;
  while (Date.now() < end) {
    await runAll(client, sha, BATCH, () => {
      const j = seq++ % entities;
      return synthetic({
        service: "soak",
        entityId: `c${j}`,
        expectedVersion: versions[j]++,
        dedupId: `/soak\u0000${seq}`,
        dedupTtlMs: windowMs,
        logEvents: false,
      });
    });
    if (Date.now() >= next) {
      samples.push(await usedMemory(client));
      next += 1000;
    }
  }
  return { entities, windowMs, commands: seq, samples };
}

/** The footprint figures of the current and the former layout, at each entity count. */
export async function footprint({ root, port, counts, soakSeconds, log = () => {} }) {
  const current = await import(join(root, "dist/src/store/redis-scripts.js"));
  const legacy = await import(join(root, "dist/src/store/legacy-layout.js")).catch(() => undefined);
  const client = new Redis(port, "127.0.0.1");
  try {
    const layouts = [["current", current.APPEND_SCRIPT, current.syntheticCounterAppend]];
    if (legacy) layouts.push(["former", legacy.LEGACY_APPEND_SCRIPT, legacy.legacyCounterAppend]);
    const rows = [];
    for (const [i, n] of counts.entries()) {
      for (const [layout, lua, synthetic] of layouts) {
        log(`footprint: ${layout} layout, ${n} entities`);
        rows.push({ layout, ...(await measure(client, lua, synthetic, n, i === 0)) });
      }
    }
    const soaks = [];
    if (soakSeconds > 0) {
      for (const [layout, lua, synthetic] of layouts) {
        soaks.push({ layout, ...(await soak(client, lua, synthetic, { seconds: soakSeconds })) });
        await sleep(10);
      }
    }
    return { rows, soaks };
  } finally {
    client.disconnect();
  }
}

const TARGETS = [
  ["perEntity", "Redis bytes per new small entity (1 event)", 400],
  ["perEvent", "Redis bytes per further small event", 100],
  ["perDedup", "Redis bytes per dedup record inside its window", 120],
];

/** PASS/MISS lines for the current layout at each entity count, the former layout's figure beside. */
export function footprintTargets(section, target) {
  const out = [];
  for (const row of section?.rows.filter((r) => r.layout === "current") ?? []) {
    const former = section.rows.find((r) => r.layout === "former" && r.entities === row.entities);
    for (const [field, name, limit] of TARGETS) {
      const detail = former ? `(former layout: ${Math.round(former[field])} B)` : "";
      out.push(
        target(`${name}, ${row.entities.toLocaleString("en")} entities`, row[field], "<=", limit, detail),
      );
    }
  }
  return out;
}

/** The footprint tables, as markdown lines. */
export function footprintReport(section, table) {
  const out = [
    "\n## Redis footprint (used_memory differences, counters, fresh redis-server with default listpack limits)\n",
    table(
      [
        "layout",
        "entities",
        "B / entity (1 event)",
        "B / further event",
        "B / dedup record",
        "B / entity at 41 events",
        "script µs / append (Redis CPU, with a dedup record)",
      ],
      section.rows.map((r) => [
        r.layout,
        r.entities.toLocaleString("en"),
        Math.round(r.perEntity),
        r.perEvent.toFixed(1),
        Math.round(r.perDedup),
        r.perEntity41 === undefined ? "–" : Math.round(r.perEntity41),
        r.usPerAppend.toFixed(2),
      ]),
    ),
  ];
  for (const s of section.soaks ?? []) {
    const mb = s.samples.map((b) => (b / 1048576).toFixed(1)).join(", ");
    out.push(
      `\nSoak, ${s.layout} layout: ${s.commands.toLocaleString("en")} appends with a dedup record each over ${s.entities.toLocaleString("en")} entities, window ${s.windowMs / 1000} s; used_memory MiB each second: ${mb}`,
    );
  }
  return out;
}
