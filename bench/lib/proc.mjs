// Process helpers: start a server and wait until it answers, read its CPU time and RSS from
// /proc, check that it listens on loopback only, and stop it by its PID.
import { spawn, execFileSync } from "node:child_process";
import { openSync, readFileSync, closeSync } from "node:fs";
import { request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** utime + stime of a process, in microseconds (0 when it has exited). */
export function cpuMicros(pid) {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** CPU time a process has used so far, in µs, split into user and system (kernel) time. */
export function cpuTimes(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return { user: (Number(fields[11]) * 1e6) / CLK_TCK, system: (Number(fields[12]) * 1e6) / CLK_TCK };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** VmRSS of a process in MiB (0 when it has exited). */
export function rssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** One HTTP request on loopback; resolves with { status, headers, body } or rejects. */
export function httpRequest({
  port,
  method = "GET",
  path = "/",
  headers = {},
  body,
  timeoutMs = 5000,
  agent,
}) {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method, path, headers, agent: agent ?? false, timeout: timeoutMs },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Spawns a server (stdout/stderr to logFile) and waits until `probe()` resolves truthy, trying
 * every `intervalMs` for at most `timeoutMs`. Returns a handle with its pid and a stop().
 */
export async function startProcess({
  name,
  command,
  args,
  env,
  cwd,
  logFile,
  probe,
  timeoutMs = 30_000,
  intervalMs = 25,
}) {
  const fd = openSync(logFile, "a");
  const child = spawn(command, args, { env, cwd, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  let exited = null;
  child.on("exit", (code, signal) => {
    exited = { code, signal };
  });
  const handle = {
    name,
    child,
    pid: child.pid,
    get exited() {
      return exited;
    },
    stop: () => stopProcess(child),
  };
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; Date.now() < deadline && attempt < 100_000; attempt++) {
    if (exited) throw new Error(`${name} exited during start (${JSON.stringify(exited)}); see ${logFile}`);
    try {
      if (await probe()) return handle;
    } catch {
      // not up yet
    }
    await sleep(intervalMs);
  }
  await stopProcess(child);
  throw new Error(`${name} did not become ready within ${timeoutMs} ms; see ${logFile}`);
}

/** SIGTERM, wait up to graceMs, then SIGKILL. Only ever signals the given child's own PID. */
export async function stopProcess(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = sleep(graceMs).then(() => "timeout");
  if ((await Promise.race([done, timer])) === "timeout") {
    child.kill("SIGKILL");
    await Promise.race([done, sleep(2000)]);
  }
}

/** Probe: resolves true when `GET|POST path` answers 2xx. */
export function httpProbe(port, options = {}) {
  return async () => {
    const res = await httpRequest({ port, timeoutMs: 1000, ...options });
    return res.status >= 200 && res.status < 300;
  };
}

/** Probe: resolves true when something accepts TCP connections on the port. */
export function tcpProbe(port) {
  return async () => {
    try {
      await httpRequest({ port, path: "/", timeoutMs: 1000 });
      return true;
    } catch (error) {
      return !String(error.code ?? error.message).includes("ECONNREFUSED");
    }
  };
}

/**
 * Every TCP listener owned by the given PIDs, from `ss -ltnpH`. Returns
 * [{ pid, address }] and the ones that are not on a loopback address.
 */
export function listeners(pids) {
  const wanted = new Set(pids.map(String));
  let out = "";
  try {
    out = execFileSync("ss", ["-ltnpH"], { encoding: "utf8" });
  } catch {
    return { checked: false, all: [], offending: [] };
  }
  const all = [];
  for (const line of out.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const local = cols[3];
    for (const m of line.matchAll(/pid=(\d+)/g)) {
      if (wanted.has(m[1])) all.push({ pid: Number(m[1]), address: local });
    }
  }
  const loopback = (addr) => /^(127\.\d+\.\d+\.\d+|\[::1\]|\[::ffff:127\.\d+\.\d+\.\d+\]):\d+$/.test(addr);
  return { checked: true, all, offending: all.filter((l) => !loopback(l.address)) };
}
