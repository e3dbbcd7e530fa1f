import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { freePort } from "../../support/ports.js";

export interface RedisNode {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  pid(): number | undefined;
  /** A fresh admin connection (no retries); close it with `quit()` or `disconnect()`. */
  admin(): Redis;
  /** Runs one command on a short-lived admin connection. */
  command(...args: Array<string | number>): Promise<unknown>;
  kill9(): Promise<void>;
  /** Starts the server again on the same port and directory, with the same arguments. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  signal(signal: NodeJS.Signals): void;
}

/**
 * A `redis-server` (or sentinel) on a free loopback port in its own temporary directory, for
 * setups `test/support/redis.ts` does not cover: sentinel mode needs a writable configuration
 * file of its own. `conf` is written to `redis.conf` in the
 * directory and passed first (sentinel needs a writable configuration file).
 */
export async function startRedisNode(
  options: { args?: readonly string[]; conf?: string; sentinel?: boolean; port?: number } = {},
): Promise<RedisNode> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "knstate-faults-redis-"));
  const conf = join(dir, "redis.conf");
  writeFileSync(conf, options.conf ?? "");
  const args = [
    conf,
    ...(options.sentinel ? ["--sentinel"] : []),
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    ...(options.sentinel ? [] : ["--save", "", "--appendonly", "no"]),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let output = "";

  const launch = async () => {
    output = "";
    const started = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    started.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    started.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    child = started;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (started.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
      const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null });
      client.on("error", () => {});
      try {
        await client.connect();
        const pong = await client.ping();
        client.disconnect();
        if (pong === "PONG") return;
      } catch {
        client.disconnect();
      }
      if (Date.now() > deadline) {
        started.kill("SIGKILL");
        throw new Error(`redis-server on ${port} did not answer PING in 10s: ${output}`);
      }
      await sleep(50);
    }
  };

  const waitExit = async (proc: ChildProcess) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise((resolve) => proc.once("exit", resolve));
  };

  await launch();
  const node: RedisNode = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    pid: () => child?.pid,
    admin() {
      const client = new Redis({
        port,
        host: "127.0.0.1",
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      client.on("error", () => {});
      return client;
    },
    async command(...commandArgs) {
      const client = node.admin();
      try {
        const [name, ...rest] = commandArgs;
        return await client.call(String(name), ...rest);
      } finally {
        client.disconnect();
      }
    },
    async kill9() {
      if (!child) return;
      const proc = child;
      proc.kill("SIGKILL");
      await waitExit(proc);
    },
    restart: launch,
    async stop() {
      if (child) {
        const proc = child;
        proc.kill("SIGCONT");
        proc.kill("SIGKILL");
        await waitExit(proc);
      }
      rmSync(dir, { recursive: true, force: true });
    },
    signal(signal) {
      child?.kill(signal);
    },
  };
  return node;
}
