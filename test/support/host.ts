import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/config/load-config.js";
import type { HostConfig } from "../../src/config/host-config.js";
import type { Component } from "../../src/entity/define.js";
import { createHost, type Host, type HostOptions } from "../../src/host/host.js";
import type { StateStore } from "../../src/store/state-store.js";
import counter from "../../functions/counter/index.js";
import echo from "../../functions/echo/index.js";
import cart from "../../functions/shopping-cart/index.js";
import { freePort } from "./ports.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const examples: readonly Component[] = [counter, echo, cart] as unknown as Component[];

export interface RunningHost {
  readonly host: Host;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A host in this process on a free loopback port, with the example functions by default. */
export async function startHost(
  options: {
    env?: Record<string, string>;
    components?: readonly Component[];
    store?: StateStore;
  } & Omit<Partial<HostOptions>, "config" | "components" | "store"> = {},
): Promise<RunningHost> {
  const config: HostConfig = loadConfig({
    METRICS_PORT: "0",
    ADMIN_PORT: "0",
    PORT: "0",
    KNSTATE_HOST: "127.0.0.1",
    ...options.env,
  });
  const { env: _env, components, store, ...rest } = options;
  const host = createHost({
    ...rest,
    config,
    components: components ?? examples,
    ...(store ? { store } : {}),
  });
  const port = await host.listen(0, "127.0.0.1");
  return { host, port, url: `http://127.0.0.1:${port}`, close: () => host.close() };
}

export interface HostProcess {
  readonly url: string;
  readonly port: number;
  /** Where /metrics is served, when spawned with `metricsPort: true`. */
  readonly metricsPort?: number;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

export interface SpawnOptions {
  functions?: readonly string[];
  env?: Record<string, string>;
  args?: readonly string[];
  /** The command to run (default: `serve`). */
  command?: "serve" | "relay";
  /** The Node executable to run the host with (default: the one running the tests). */
  node?: string;
  /** Serve /metrics on a free port of its own (`HostProcess.metricsPort`) instead of the public one. */
  metricsPort?: boolean;
}

/**
 * `knstate serve` (or `knstate relay`) in a child process, from the compiled `dist/` (the global
 * test setup builds it), resolving once `/readyz` answers 200. The ports it picks were free a
 * moment before; when another process took one in between (the host exits with EADDRINUSE), it
 * starts again on new ones, up to 5 times.
 */
export async function spawnHost(options: SpawnOptions = {}): Promise<HostProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(options);
    } catch (error) {
      if (attempt >= 5 || !(error instanceof Error) || !error.message.includes("EADDRINUSE")) throw error;
    }
  }
}

async function spawnOnce(options: SpawnOptions): Promise<HostProcess> {
  const port = await freePort();
  const metricsPort = options.metricsPort === true ? await freePort() : undefined;
  const functions = options.functions ?? ["counter", "echo", "shopping-cart"];
  const child = spawn(
    options.node ?? process.execPath,
    [
      "dist/src/cli/bin.js",
      options.command ?? "serve",
      ...functions.map((f) => (f.includes("/") ? f : `dist/functions/${f}`)),
      ...(options.args ?? []),
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        PORT: String(port),
        METRICS_PORT: String(metricsPort ?? 0),
        ADMIN_PORT: "0",
        KNSTATE_HOST: "127.0.0.1",
        KNSTATE_LOG_LEVEL: "warn",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`host exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`host did not become ready in 20s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    ...(metricsPort === undefined ? {} : { metricsPort }),
    child,
    output: () => output,
    async stop(signal = "SIGTERM", timeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Posts a binary-mode CloudEvent. */
export function postEvent(
  url: string,
  event: { id: string; type: string; subject?: string; source?: string; data?: unknown },
  headers: Record<string, string> = {},
): Promise<Response> {
  const h: Record<string, string> = {
    "ce-specversion": "1.0",
    "ce-id": event.id,
    "ce-source": event.source ?? "/test",
    "ce-type": event.type,
    ...headers,
  };
  if (event.subject !== undefined) h["ce-subject"] = event.subject;
  if (event.data !== undefined) h["content-type"] = "application/json";
  return fetch(url, {
    method: "POST",
    headers: h,
    ...(event.data === undefined ? {} : { body: JSON.stringify(event.data) }),
  });
}
