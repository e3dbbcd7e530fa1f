#!/usr/bin/env node
// Cold start and idle memory of the HTTP edge, side by side for built checkouts, taking turns:
// `node bench/http-edge.mjs name=/path/to/checkout ...` (default: this checkout as "this").
// Each round spawns every checkout twice (memory store, the example functions):
// - "first CE ms": spawn → first 2xx to a CloudEvent (`POST /`, a counter increment);
// - "first API ms": spawn → first 2xx to a read of the HTTP API (`GET /counter/cold`);
// - "idle RSS MiB": the process's RSS 3 s after its first answer (anything loaded after startup is in).
// HE_ROUNDS (7). Prints medians and min–max.
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const { firstRequests } = await import("./lib/coldstart.mjs");
const { knstateArgs, knstateEnv } = await import("./lib/servers.mjs");
const { httpRequest, rssMiB, stopProcess } = await import("./lib/proc.mjs");
const { fmt, median } = await import("./lib/stats.mjs");

const specs = process.argv.slice(2);
const roots = (specs.length ? specs : [`this=${resolve(import.meta.dirname, "..")}`]).map((spec) => {
  const [name, root] = spec.split(/=(.*)/s);
  return { name, root: resolve(root) };
});
const rounds = Number(process.env.HE_ROUNDS ?? 7);
const logDir = mkdtempSync(join(tmpdir(), "knstate-http-edge-"));
const apiRead = (port) => ({ port, method: "GET", path: "/counter/cold" });

/** Spawns a host and resolves with the ms to its first 2xx to `request`, and the child. */
async function firstAnswer(root, port, request) {
  const fd = openSync(join(logDir, `${port}.log`), "a");
  const t0 = performance.now();
  const child = spawn(process.execPath, knstateArgs([], root), {
    env: knstateEnv({ port }),
    cwd: root,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  for (;;) {
    if (performance.now() - t0 > 20_000 || child.exitCode !== null) {
      await stopProcess(child);
      throw new Error(`${root}: no answer; see ${logDir}`);
    }
    try {
      const res = await httpRequest({ ...request(port), timeoutMs: 5000 });
      if (res.status >= 200 && res.status < 300) return { ms: performance.now() - t0, child };
    } catch {
      // not listening yet
    }
    await sleep(1);
  }
}

const samples = new Map(roots.map((r) => [r.name, { ce: [], api: [], rss: [] }]));
let port = 8470;
for (let round = 0; round < rounds; round++) {
  for (const { name, root } of roots) {
    const s = samples.get(name);
    const ce = await firstAnswer(root, ++port, firstRequests.counter);
    s.ce.push(ce.ms);
    await sleep(3000);
    s.rss.push(rssMiB(ce.child.pid));
    await stopProcess(ce.child);
    const api = await firstAnswer(root, ++port, apiRead);
    s.api.push(api.ms);
    await stopProcess(api.child);
  }
}
const range = (xs, d = 0) => `${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)}`;
console.log(`node ${process.version}, ${rounds} rounds`);
console.log("checkout | first CE ms (min–max) | first API ms (min–max) | idle RSS MiB (min–max)");
for (const [name, s] of samples) {
  console.log(
    `${name} | ${fmt(median(s.ce))} (${range(s.ce)}) | ${fmt(median(s.api))} (${range(s.api)}) | ${fmt(median(s.rss), 1)} (${range(s.rss, 1)})`,
  );
}
