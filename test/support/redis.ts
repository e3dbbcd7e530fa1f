import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { connect as connectTls, type ConnectionOptions } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.js";

/**
 * Real `redis-server` processes for integration and fault-injection tests: each on a free
 * loopback port (never 6379), with its own temporary directory, no RDB snapshots, and killed
 * or stopped by the test that started it.
 *
 * ```ts
 * const redis = await startRedis({ appendonly: "yes", appendfsync: "always" });
 * await redis.kill9();   // crash it
 * await redis.restart(); // same port, same directory: the AOF is replayed
 * await redis.stop();    // stop and delete the directory
 * ```
 */

const run = promisify(execFile);

/**
 * True when `redis-server` can be run. When it cannot, warns loudly so the skipped suite is
 * noticed, and throws when `CI` is set (CI must never skip the Redis tests).
 */
export function redisAvailable(): boolean {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (probe.status === 0) return true;
  const message =
    "redis-server is not installed: the Redis integration tests are SKIPPED (install it: sudo bash .ci/install-tools)";
  if (process.env.CI) throw new Error(`${message} (not allowed when CI is set)`);
  console.warn(`\n!!!!!!!!!! ${message} !!!!!!!!!!\n`);
  return false;
}

export interface RedisServerOptions {
  /** `yes` to log every write to an append-only file (default `no`). */
  readonly appendonly?: "yes" | "no";
  /** `always` (fsync before each reply), `everysec` (default) or `no`. */
  readonly appendfsync?: "always" | "everysec" | "no";
  /** More `redis-server` arguments, e.g. `["--maxmemory-policy", "allkeys-lru"]`. */
  readonly extraArgs?: readonly string[];
  /** Port to use (default: a free one). */
  readonly port?: number;
  /** Serve TLS only on the port (see `createTestCertificates`); `url` is then `rediss://`. */
  readonly tls?: TlsFiles;
}

/** PEM files for a TLS server: its certificate and key, and the CA that signed it. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/**
 * A throwaway CA and a server certificate for `localhost` and 127.0.0.1, made with `openssl`
 * in a temporary directory (removed by `remove()`).
 */
export async function createTestCertificates(): Promise<TlsFiles & { dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "knstate-tls-"));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  await openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    at("ca.key"),
    "-out",
    at("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=knstate test CA",
  );
  await openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    at("server.key"),
    "-out",
    at("server.csr"),
    "-subj",
    "/CN=localhost",
  );
  writeFileSync(at("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await openssl(
    "x509",
    "-req",
    "-in",
    at("server.csr"),
    "-CA",
    at("ca.crt"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-out",
    at("server.crt"),
    "-days",
    "2",
    "-extfile",
    at("ext.cnf"),
  );
  return {
    dir,
    certFile: at("server.crt"),
    keyFile: at("server.key"),
    caFile: at("ca.crt"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Working directory (AOF, cluster config); removed by `stop()`. */
  readonly dir: string;
  /** Pid of the current process (changes on `restart()`). */
  readonly pid: number;
  /** SIGTERM, wait for exit, remove the directory. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL (a crash: nothing is flushed) and wait for exit; the directory stays. */
  kill9(): Promise<void>;
  /** Starts it again on the same port and directory (after `kill9()` or on its own), waits for PING. */
  restart(): Promise<void>;
  /** Runs `redis-cli -p <port> ...args` and resolves with its trimmed stdout. */
  cli(...args: string[]): Promise<string>;
}

/** Starts a `redis-server` on a free loopback port and resolves when it answers PING. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  // A free port can be taken by another process before redis-server binds it: try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisOnce(options, options.port ?? (await freePort()));
    } catch (error) {
      if (!(error instanceof PortTaken) || options.port !== undefined || attempt >= 5) throw error;
    }
  }
}

class PortTaken extends Error {}

async function startRedisOnce(options: RedisServerOptions, port: number): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "knstate-redis-"));
  const tls = options.tls;
  const listen = tls
    ? [
        "--port",
        "0",
        "--tls-port",
        String(port),
        "--tls-cert-file",
        tls.certFile,
        "--tls-key-file",
        tls.keyFile,
        "--tls-ca-cert-file",
        tls.caFile,
        "--tls-auth-clients",
        "no",
      ]
    : ["--port", String(port)];
  const args = [
    ...listen,
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--daemonize",
    "no",
    "--appendonly",
    options.appendonly ?? "no",
    "--appendfsync",
    options.appendfsync ?? "everysec",
    "--loglevel",
    "warning",
    "--logfile",
    join(dir, "redis.log"),
    ...(options.extraArgs ?? []),
  ];
  let child: ChildProcess;
  try {
    child = await launch(args, port, tls !== undefined, join(dir, "redis.log"));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  const server: RedisServer = {
    url: `${tls ? "rediss" : "redis"}://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child.pid ?? -1;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate(child, "SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
    async kill9() {
      await terminate(child, "SIGKILL");
    },
    async restart() {
      await terminate(child, "SIGTERM");
      child = await launch(args, port, tls !== undefined, join(dir, "redis.log"));
    },
    async cli(...cliArgs: string[]) {
      const secure = tls ? ["--tls", "--cacert", tls.caFile] : [];
      const { stdout } = await run(
        "redis-cli",
        [...secure, "-h", "127.0.0.1", "-p", String(port), ...cliArgs],
        {
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      return stdout.trim();
    },
  };
  return server;
}

export interface RedisCluster {
  /** `127.0.0.1:<port>` of every node (masters first), for REDIS_CLUSTER_NODES. */
  readonly nodes: string[];
  readonly servers: readonly RedisServer[];
  stop(): Promise<void>;
}

/**
 * A Redis Cluster on loopback: `masters` masters (at least 3) with `replicasPerMaster`
 * replicas each, created with `redis-cli --cluster create`, resolved once every node reports
 * `cluster_state:ok` and every replica has synced with its master.
 */
export async function startRedisCluster(
  options: { masters?: number; replicasPerMaster?: 0 | 1; extraArgs?: readonly string[] } = {},
): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  const count = masters * (1 + replicas);
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const busPort = await freePort();
      servers.push(
        await startRedis({
          extraArgs: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "3000",
            "--cluster-port",
            String(busPort),
            "--repl-diskless-sync-delay",
            "0",
            ...(options.extraArgs ?? []),
          ],
        }),
      );
    }
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    await run(
      "redis-cli",
      ["--cluster", "create", ...nodes, "--cluster-replicas", String(replicas), "--cluster-yes"],
      { timeout: 30_000 },
    );
    const deadline = Date.now() + 30_000;
    for (const server of servers) {
      while (!(await server.cli("cluster", "info")).includes("cluster_state:ok")) {
        if (Date.now() > deadline) throw new Error("the Redis Cluster did not reach cluster_state:ok in 30s");
        await sleep(100);
      }
      // A replica counts for WAIT only once its first sync is done.
      for (;;) {
        const replication = await server.cli("info", "replication");
        if (replication.includes("role:master") || replication.includes("master_link_status:up")) break;
        if (Date.now() > deadline) throw new Error("a Redis Cluster replica did not sync in 30s");
        await sleep(100);
      }
    }
    return { nodes, servers, stop: () => stopAll(servers) };
  } catch (error) {
    await stopAll(servers);
    throw error;
  }
}

async function stopAll(servers: readonly RedisServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}

async function launch(
  args: readonly string[],
  port: number,
  tls: boolean,
  logFile: string,
): Promise<ChildProcess> {
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const log = () => {
    try {
      return output + readFileSync(logFile, "utf8");
    } catch {
      return output;
    }
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const pong = await answersPing(port, tls);
    // Another process may answer on the port: make sure it is this one.
    if (pong && (await servedBy(port, tls, child.pid))) return child;
    if (child.exitCode !== null || pong) {
      await terminate(child, "SIGKILL");
      const text = log();
      const message = pong
        ? `port ${port} is served by another process`
        : `redis-server on port ${port} did not start: ${text.slice(-2000)}`;
      throw /already in use|another process/i.test(text) || pong
        ? new PortTaken(message)
        : new Error(message);
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server on port ${port} did not answer PING within 15s: ${log().slice(-2000)}`);
    }
    await sleep(20);
  }
}

/** True when the server on the port reports `pid` (or requires a password, so cannot say). */
function servedBy(port: number, tls: boolean, pid: number | undefined): Promise<boolean> {
  return askRedis(port, "INFO server", tls ? { rejectUnauthorized: false } : undefined, (reply) => {
    if (reply.startsWith("-")) return reply.startsWith("-NOAUTH");
    if (/process_id:\d+\r\n/.test(reply)) return reply.includes(`process_id:${pid}\r\n`);
    return undefined;
  });
}

/**
 * Sends one inline command over a raw socket (TLS when `tls` is given) and resolves with what
 * `decide` makes of the reply so far, once it returns a boolean; false on error or after 1 s.
 */
export function askRedis(
  port: number,
  command: string,
  tls: ConnectionOptions | undefined,
  decide: (reply: string) => boolean | undefined,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls
      ? connectTls({ host: "127.0.0.1", port, ...tls })
      : connect({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on("error", () => done(false));
    socket.on(tls ? "secureConnect" : "connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString();
      const verdict = decide(reply);
      if (verdict !== undefined) done(verdict);
    });
  });
}

async function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * True when the server answers `+PONG`, or `-NOAUTH` when the default user needs a password
 * (not `-LOADING` while it replays its AOF).
 */
function answersPing(port: number, tls: boolean): Promise<boolean> {
  return askRedis(port, "PING", tls ? { rejectUnauthorized: false } : undefined, (reply) =>
    reply.includes("\r\n") ? reply.startsWith("+PONG") || reply.startsWith("-NOAUTH") : undefined,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
