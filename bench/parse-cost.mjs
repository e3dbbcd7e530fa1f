#!/usr/bin/env node
// What parsing one incoming CloudEvent costs with knstate's ingress parser and with the
// CloudEvents SDK's `HTTP.toEvent`, on the same messages: `node bench/parse-cost.mjs` (after
// `npm run build`). For a binary-mode and a structured-mode increment, runs each parser
// PARSE_COST_COUNT (50,000) times per round over PARSE_COST_ROUNDS (5) rounds and prints the
// median µs per message, then the time a fresh Node process takes to import each module (the
// SDK loads its JSON-schema validator: that is paid on every cold start).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CloudEvent, HTTP } from "cloudevents";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const count = Number(process.env.PARSE_COST_COUNT ?? 50_000);
const rounds = Number(process.env.PARSE_COST_ROUNDS ?? 5);
const parseUrl = pathToFileURL(join(ROOT, "dist/src/cloudevents/parse.js")).href;
const { parseMessage } = await import(parseUrl);

const event = new CloudEvent({
  id: "a3c1e0b4-6c1f-4e0e-9d9c-2f1d6b3c7e11",
  type: "com.example.counter.increment",
  source: "/bench/parse-cost",
  subject: "c-42",
  time: "2026-01-01T00:00:00.000Z",
  datacontenttype: "application/json",
  data: { by: 1 },
});

/** A message as each parser gets it: Node's raw header list and body Buffer for knstate; the
 * lower-cased header object and body string (what an SDK receiver has) for the SDK. */
function forms(message) {
  const rawHeaders = Object.entries(message.headers).flat();
  const headers = Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const body = String(message.body);
  return { rawHeaders, headers, body, buffer: Buffer.from(body) };
}

const messages = { binary: forms(HTTP.binary(event)), structured: forms(HTTP.structured(event)) };
const parsers = {
  knstate: (m) => parseMessage(m.rawHeaders, m.buffer),
  "cloudevents SDK": (m) => HTTP.toEvent({ headers: m.headers, body: m.body }),
};

// Both parsers must read the same event before they are timed.
for (const [mode, m] of Object.entries(messages)) {
  const ours = parsers.knstate(m).events[0];
  const sdk = parsers["cloudevents SDK"](m);
  for (const key of ["id", "type", "source", "subject", "time"]) {
    if (ours[key] !== sdk[key]) throw new Error(`${mode}: ${key} differs: ${ours[key]} vs ${sdk[key]}`);
  }
  if (JSON.stringify(ours.data) !== JSON.stringify(sdk.data)) throw new Error(`${mode}: data differs`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
for (const [mode, m] of Object.entries(messages)) {
  for (const [name, parse] of Object.entries(parsers)) {
    for (let i = 0; i < 20_000; i++) parse(m); // warm up
    const perMessage = [];
    for (let r = 0; r < rounds; r++) {
      const start = process.cpuUsage();
      for (let i = 0; i < count; i++) parse(m);
      const used = process.cpuUsage(start);
      perMessage.push((used.user + used.system) / count);
    }
    results.push({ mode, parser: name, "µs/message (CPU, median)": Number(median(perMessage).toFixed(3)) });
  }
}
console.table(results);
for (const mode of Object.keys(messages)) {
  const [ours, sdk] = results.filter((r) => r.mode === mode).map((r) => r["µs/message (CPU, median)"]);
  console.log(`${mode}: the SDK takes ${(sdk / ours).toFixed(1)}× knstate's parser`);
}

/** Milliseconds a fresh process takes to import `specifier` (median of 5). */
function importMs(specifier) {
  const script = `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t);`;
  const runs = Array.from({ length: 5 }, () =>
    Number(execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT }).toString()),
  );
  return median(runs).toFixed(1);
}
console.log(
  `import in a fresh process: knstate's parser ${importMs(parseUrl)} ms, cloudevents ${importMs("cloudevents")} ms`,
);
