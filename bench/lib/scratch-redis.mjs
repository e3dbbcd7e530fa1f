// A private redis-server for the benchmarks that price Redis work alone (admin-index.mjs,
// event-metadata.mjs, replicated-script.mjs): a free loopback port, no persistence.
import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts redis-server and resolves once it answers PING: `{ port, url, stop }`. */
export async function startScratchRedis() {
  const port = await freePort();
  const proc = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  for (let attempt = 0; ; attempt++) {
    try {
      execFileSync("redis-cli", ["-p", String(port), "ping"], { stdio: "ignore" });
      break;
    } catch (error) {
      if (attempt >= 100) throw error;
      await sleep(50);
    }
  }
  return { port, url: `redis://127.0.0.1:${port}`, stop: () => proc.kill() };
}
