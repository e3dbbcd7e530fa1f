import { execFile, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.js";
import { launch, PortTaken, terminate } from "./redis-process.js";
import type { TlsFiles } from "./redis-tls.js";

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
