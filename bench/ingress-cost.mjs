#!/usr/bin/env node
// CPU cost of the steps where a CloudEvent and an HTTP API command differ, without HTTP around
// them: `node bench/ingress-cost.mjs [/path/to/checkout]` (default: this one, built).
// Parsing (binary-mode CloudEvent vs a JSON body), the reply (its time, its id, its binary-mode
// headers). Each figure is the lowest of INGRESS_RUNS (8) runs of CPU time per call, so a busy
// machine inflates it less.
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";

const root = resolve(process.argv[2] ?? resolve(import.meta.dirname, ".."));
const { parseMessage } = await import(`${root}/dist/src/cloudevents/parse.js`);
const { toBinary } = await import(`${root}/dist/src/cloudevents/reply.js`);
const { checkCharset, isJsonMediaType, parseJson } = await import(`${root}/dist/src/cloudevents/json.js`);

const rawHeaders = [
  ["Host", "127.0.0.1:8080"],
  ["Content-Type", "application/json"],
  ["ce-id", "3f6c2a4e-8b1d-4d0e-9a57-0c1b2d3e4f5a"],
  ["ce-source", "/bench/wrk"],
  ["ce-type", "com.example.counter.increment"],
  ["ce-specversion", "1.0"],
  ["ce-subject", "e42"],
  ["Content-Length", "8"],
].flat();
const body = Buffer.from('{"by":1}');
const reply = {
  id: randomUUID(),
  source: "/bench/counter",
  type: "com.example.counter.increment.reply",
  subject: "e42",
  time: new Date().toISOString(),
  extensions: { entityversion: 12 },
  data: { value: 12 },
};
const steps = {
  "CloudEvent: parseMessage (binary mode)": () => parseMessage(rawHeaders, body),
  "HTTP API: JSON body checks and parse": () => {
    if (isJsonMediaType("application/json")) checkCharset("application/json");
    return parseJson(body.toString("utf8"));
  },
  "reply time: new Date().toISOString()": () => new Date().toISOString(),
  "reply id: randomUUID()": () => randomUUID(),
  "reply headers: toBinary": () => toBinary(reply),
};
const calls = 200_000;
const runs = Number(process.env.INGRESS_RUNS ?? 8);
console.log(`${root}, node ${process.version}: ns of CPU per call, lowest of ${runs} runs`);
for (const [name, step] of Object.entries(steps)) {
  let best = Infinity;
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < 10_000; i++) step();
    const start = process.cpuUsage();
    for (let i = 0; i < calls; i++) step();
    const used = process.cpuUsage(start);
    best = Math.min(best, ((used.user + used.system) * 1000) / calls);
  }
  console.log(`${name.padEnd(42)} ${Math.round(best).toLocaleString("en-US").padStart(6)}`);
}
