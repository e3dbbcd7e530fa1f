// Cold start: the time from spawn() to the first 2xx reply to a served command, with a POST
// tried about every millisecond (connection refused means try again).
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { openSync, closeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { ECHO_BODY } from "./checks.mjs";
import { httpRequest, rssMiB, stopProcess } from "./proc.mjs";

/** One request builder per kind of command. */
export const firstRequests = {
  echo: (port) => ({
    port,
    method: "POST",
    path: "/",
    headers: {
      "content-type": "application/json",
      "ce-id": randomUUID(),
      "ce-source": "/bench/coldstart",
      "ce-type": "dev.bench.echo",
      "ce-specversion": "1.0",
    },
    body: ECHO_BODY,
  }),
  counter: (port) => ({
    port,
    method: "POST",
    path: "/",
    headers: {
      "content-type": "application/json",
      "ce-id": randomUUID(),
      "ce-source": "/bench/coldstart",
      "ce-type": "com.example.counter.increment",
      "ce-specversion": "1.0",
      "ce-subject": "cold",
    },
    body: '{"by":1}',
  }),
};

/**
 * Spawns `command args` and returns { ms, rssMiB } at its first 2xx reply to `request(port)`.
 * Gives up after timeoutMs.
 */
export async function coldStartOnce({ command, args, env, cwd, port, request, logFile, timeoutMs = 20_000 }) {
  const fd = openSync(logFile, "a");
  const t0 = performance.now();
  const child = spawn(command, args, { env, cwd, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  try {
    for (let attempt = 0; attempt < 100_000; attempt++) {
      if (performance.now() - t0 > timeoutMs)
        throw new Error(`no 2xx within ${timeoutMs} ms; see ${logFile}`);
      if (child.exitCode !== null)
        throw new Error(`exited with ${child.exitCode} before answering; see ${logFile}`);
      try {
        const res = await httpRequest({ ...request(port), timeoutMs: 5000 });
        if (res.status >= 200 && res.status < 300) {
          const ms = performance.now() - t0;
          return { ms, rssMiB: rssMiB(child.pid) };
        }
      } catch {
        // not listening yet
      }
      await sleep(1);
    }
    throw new Error("cold start: attempt limit reached");
  } finally {
    await stopProcess(child);
  }
}
