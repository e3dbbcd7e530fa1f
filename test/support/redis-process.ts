import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { connect as connectTls, type ConnectionOptions } from "node:tls";

/**
 * The `redis-server` process itself: launched and watched until it answers PING on its port,
 * and terminated; with the raw-socket probe the tests also use to ask a server one thing.
 */

/** The port was taken by another process before redis-server could bind it: try another. */
export class PortTaken extends Error {}

/**
 * Spawns `redis-server` with `args` and resolves once it, and not another process, answers PING
 * on `port`; throws `PortTaken` when another process holds the port.
 */
export async function launch(
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

/** Sends `signal` and waits for the exit (SIGKILL after 10 s). */
export async function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
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

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
