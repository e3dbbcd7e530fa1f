// Launchers for every contender. Each returns { name, port, pids(), stop() } once the server
// answers; all of them listen on 127.0.0.1.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { httpProbe, httpRequest, startProcess, tcpProbe } from "./proc.mjs";

export const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));
export const ROOT = resolve(process.env.KNSTATE_ROOT ?? join(BENCH_DIR, ".."));
const NODE = process.execPath;

export function knstatePaths(root = ROOT) {
  const bin = join(root, "dist/src/cli/bin.js");
  const functions = ["counter", "echo"].map((f) => join(root, "dist/functions", f));
  if (!existsSync(bin) || !functions.every(existsSync)) {
    throw new Error(`knstate is not built under ${root}/dist: run \`npm run build\` first`);
  }
  // The replicated counter of bench/hot-key.mjs, when the checkout has it.
  const likes = join(root, "dist/functions/likes");
  if (existsSync(likes)) functions.push(likes);
  return { bin, functions };
}

/** The environment knstate runs with: loopback, given port, no ambient OTEL settings. */
export function knstateEnv({
  port,
  metricsPort = 0,
  service,
  store = "memory",
  redisUrl,
  cache = true,
  groupCommit = true,
  otlp,
  extra = {},
}) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp", NODE_ENV: "production" };
  Object.assign(env, {
    PORT: String(port),
    KNSTATE_HOST: "127.0.0.1",
    METRICS_PORT: String(metricsPort),
    ADMIN_PORT: "0",
    KNSTATE_STORE: store,
    KNSTATE_CACHE: String(cache),
    KNSTATE_GROUP_COMMIT: String(groupCommit),
    KNSTATE_LOG_LEVEL: process.env.BENCH_KNSTATE_LOG_LEVEL ?? "warn",
    K_SERVICE: service,
  });
  if (redisUrl) env.REDIS_URL = redisUrl;
  if (otlp) {
    env.OTEL_EXPORTER_OTLP_ENDPOINT = otlp;
    env.OTEL_SERVICE_NAME = service;
  }
  return { ...env, ...extra };
}

export function knstateArgs(nodeArgs = [], root = ROOT, command = "serve") {
  const { bin, functions } = knstatePaths(root);
  return [...nodeArgs, bin, command, ...functions];
}

/**
 * `root`: another knstate checkout to run (built), e.g. a baseline worktree for an A/B;
 * `command`: `serve` (default) or `relay`.
 */
export async function startKnstate({
  name,
  logDir,
  nodeArgs = [],
  root = ROOT,
  command = "serve",
  ...options
}) {
  const p = await startProcess({
    name,
    command: NODE,
    args: knstateArgs(nodeArgs, root, command),
    env: knstateEnv(options),
    cwd: root,
    logFile: join(logDir, `${name}.log`),
    probe: httpProbe(options.port, { path: "/readyz" }),
  });
  return { name, port: options.port, pids: () => [p.pid], stop: p.stop, process: p };
}

export async function startFaas({ name = "faas-js-runtime", port, logDir, logLevel }) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp", NODE_ENV: "production" };
  if (logLevel) env.FUNC_LOG_LEVEL = logLevel;
  const p = await startProcess({
    name,
    command: NODE,
    args: [
      "-r",
      join(BENCH_DIR, "servers/loopback-only.cjs"),
      join(BENCH_DIR, "node_modules/faas-js-runtime/bin/cli.js"),
      join(BENCH_DIR, "servers/faas-echo/index.js"),
      "--port",
      String(port),
    ],
    env,
    cwd: join(BENCH_DIR, "servers/faas-echo"),
    logFile: join(logDir, `${name}.log`),
    probe: httpProbe(port, { path: "/health/readiness" }),
  });
  return { name, port, pids: () => [p.pid], stop: p.stop, process: p };
}

export async function startNodeScript({ name, script, port, logDir }) {
  const p = await startProcess({
    name,
    command: NODE,
    args: [join(BENCH_DIR, "servers", script), String(port)],
    env: { PATH: process.env.PATH, NODE_ENV: "production" },
    cwd: BENCH_DIR,
    logFile: join(logDir, `${name}.log`),
    probe: tcpProbe(port),
  });
  return { name, port, pids: () => [p.pid], stop: p.stop, process: p };
}

/** redis-server on loopback with AOF (appendfsync everysec) in `dir`. */
export async function startRedis({ port, dir, logDir }) {
  mkdirSync(dir, { recursive: true });
  const p = await startProcess({
    name: "redis-server",
    command: "redis-server",
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--protected-mode",
      "yes",
      "--save",
      "",
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--dir",
      dir,
      "--daemonize",
      "no",
      "--loglevel",
      "warning",
    ],
    env: { PATH: process.env.PATH },
    cwd: dir,
    logFile: join(logDir, "redis-server.log"),
    probe: async () => redisCli(port, ["PING"]).trim() === "PONG",
  });
  return {
    name: "redis-server",
    port,
    url: `redis://127.0.0.1:${port}/0`,
    pids: () => [p.pid],
    stop: p.stop,
    process: p,
  };
}

export function redisCli(port, args) {
  return execFileSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], {
    encoding: "utf8",
    timeout: 30_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/**
 * restate-server (data in `dir`, ingress 8080, admin 9070, fabric 5122) plus the SDK endpoint
 * serving the counter object on `sdkPort`, registered through the admin API. Only call this
 * inside a network namespace that has nothing but loopback: restate-server contacts an
 * outside host at every start.
 */
export async function startRestate({ dir, sdkPort = 9080, logDir }) {
  mkdirSync(dir, { recursive: true });
  const bin = join(BENCH_DIR, "node_modules/@restatedev/restate-server-linux-x64/bin/restate-server");
  const server = await startProcess({
    name: "restate-server",
    command: bin,
    args: [
      "--config-file",
      join(BENCH_DIR, "servers/restate.toml"),
      "--no-logo",
      "--listen-mode",
      "tcp",
      "--bind-ip",
      "127.0.0.1",
      "--bind-port",
      "5122",
      "--base-dir",
      dir,
      "--node-name",
      "bench",
    ],
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp" },
    cwd: dir,
    logFile: join(logDir, "restate-server.log"),
    probe: httpProbe(9070, { path: "/health" }),
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  let sdk;
  try {
    sdk = await startProcess({
      name: "restate-sdk",
      command: NODE,
      args: [join(BENCH_DIR, "servers/restate-counter.mjs"), String(sdkPort)],
      env: { PATH: process.env.PATH, NODE_ENV: "production" },
      cwd: BENCH_DIR,
      logFile: join(logDir, "restate-sdk.log"),
      probe: tcpProbe(sdkPort),
    });
    const body = JSON.stringify({ uri: `http://127.0.0.1:${sdkPort}`, force: true });
    const res = await httpRequest({
      port: 9070,
      method: "POST",
      path: "/deployments",
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      body,
      timeoutMs: 30_000,
    });
    if (res.status >= 300) throw new Error(`registering the deployment failed: ${res.status} ${res.body}`);
    // The ingress learns about new services asynchronously: wait until a call goes through.
    const ready = httpProbe(8080, {
      method: "POST",
      path: "/counter/ready-probe/add",
      headers: { "content-type": "application/json" },
      body: "0",
    });
    let ok = false;
    for (let i = 0; i < 200 && !ok; i++) {
      ok = await ready().catch(() => false);
      if (!ok) await sleep(100);
    }
    if (!ok) throw new Error("the Restate ingress never answered the counter");
  } catch (error) {
    await sdk?.stop();
    await server.stop();
    throw error;
  }
  return {
    name: "restate",
    port: 8080,
    pids: () => [server.pid, sdk.pid],
    parts: ["restate-server", "restate-sdk"],
    stop: async () => {
      await sdk.stop();
      await server.stop();
    },
  };
}
