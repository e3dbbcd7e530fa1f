import { fork, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { setPriority } from "node:os";
import { join } from "node:path";

/** What the child tells the supervisor before it serves. */
export interface DevChildMessage {
  readonly commands: readonly { readonly type: string; readonly path: string; readonly entity: boolean }[];
}

export interface SupervisorOptions {
  readonly paths: readonly string[];
  readonly serveArgs: readonly string[];
  readonly port: number;
  readonly typecheck: boolean;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

interface Version {
  readonly child: ChildProcess;
  readonly port: number;
}

/**
 * Keeps one child process per version of the functions: the proxy on the user's port forwards
 * to the current one; a new version replaces it only once it answers /readyz, so a version that
 * does not load leaves the previous one serving.
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #printed = new Set<string>();
  #current: Version | undefined;
  #server: Server | undefined;
  #generation = 0;
  #tsc: ChildProcess | undefined;
  #closed = false;
  readonly #loading = new Set<ChildProcess>();

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  /** Starts the first version and the proxy; resolves with the port listened on. */
  async start(): Promise<number> {
    const server = createServer((req, res) => {
      const target = this.#current;
      if (target === undefined) {
        res.writeHead(503, { "content-type": "application/problem+json" });
        res.end(JSON.stringify({ title: "no version of the functions loads yet", status: 503 }));
        return;
      }
      const upstream = request(
        { host: "127.0.0.1", port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", (error) => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
        res.end(`knstate dev: ${error.message}\n`);
      });
      req.pipe(upstream);
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#options.port, resolve);
    });
    await this.reload();
    return (server.address() as AddressInfo).port;
  }

  /** Starts a new version; switches to it when it is ready, keeps the old one if it fails. */
  async reload(): Promise<void> {
    if (this.#closed) return;
    const generation = ++this.#generation;
    this.#tsc?.kill();
    if (this.#current !== undefined) this.#options.out("knstate dev: change seen, reloading");
    try {
      await this.#load(generation);
    } finally {
      // After the load, so tsc does not compete with it for the CPU.
      if (generation === this.#generation) this.#typecheck();
    }
  }

  async #load(generation: number): Promise<void> {
    const port = await freePort();
    const child = fork(
      new URL(`./dev-child${extension()}`, import.meta.url),
      [
        "--paths",
        ...this.#options.paths,
        "--",
        ...this.#options.serveArgs,
        "--port",
        String(port),
        "--host",
        "127.0.0.1",
      ],
      { detached: true },
    ); // its own process group: Ctrl-C reaches the supervisor, which stops it
    this.#loading.add(child);
    const commands: DevChildMessage["commands"][number][] = [];
    child.on("message", (message: DevChildMessage) => commands.push(...message.commands));
    const ready = await waitReady(child, port);
    this.#loading.delete(child);
    if (this.#closed) {
      child.kill("SIGTERM");
      return;
    }
    if (!ready) {
      this.#options.err(
        `knstate dev: this version does not load (above)${this.#current ? "; the previous one keeps serving" : ""}`,
      );
      return;
    }
    if (generation !== this.#generation) {
      child.kill("SIGTERM"); // a newer change is loading already
      return;
    }
    const previous = this.#current;
    this.#current = { child, port };
    previous?.child.kill("SIGTERM");
    this.#options.out(`knstate dev: ${previous ? "reloaded" : "ready"}`);
    this.#printCommands(commands);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#tsc?.kill();
    for (const child of this.#loading) child.kill("SIGTERM");
    const current = this.#current;
    this.#current = undefined;
    if (current && current.child.exitCode === null) {
      const exited = new Promise((resolve) => current.child.once("exit", resolve));
      current.child.kill("SIGTERM");
      await exited;
    }
    await new Promise((resolve) => this.#server?.close(resolve) ?? resolve(undefined));
  }

  #printCommands(commands: DevChildMessage["commands"]): void {
    const port = (this.#server?.address() as AddressInfo).port;
    for (const c of commands) {
      if (this.#printed.has(c.type)) continue;
      this.#printed.add(c.type);
      const subject = c.entity ? " --subject demo" : "";
      this.#options.out(`  knstate send http://localhost:${port}/ --type ${c.type}${subject} --data '{}'`);
      this.#options.out(
        `  curl -i -X POST localhost:${port}${c.path} -H 'content-type: application/json' -d '{}'`,
      );
    }
  }

  /** Type errors are shown, not enforced: esbuild (tsx) strips types, so the version still loads. */
  #typecheck(): void {
    if (!this.#options.typecheck || !existsSync("tsconfig.json")) return;
    let tsc: string;
    try {
      tsc = createRequire(join(process.cwd(), "package.json")).resolve("typescript/bin/tsc");
    } catch {
      return;
    }
    this.#tsc?.kill();
    const run = spawn(process.execPath, [tsc, "--noEmit", "--pretty", "-p", "tsconfig.json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#tsc = run;
    if (run.pid !== undefined) setPriority(run.pid, 19); // the served version comes first
    let output = "";
    run.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    run.on("exit", (code) => {
      if (this.#tsc === run) this.#tsc = undefined;
      if (code !== 0 && code !== null) this.#options.err(`knstate dev: type errors:\n${output.trimEnd()}`);
    });
  }
}

/** `.ts` when running from source (tsx), `.js` when compiled. */
function extension(): string {
  return import.meta.url.endsWith(".ts") ? ".ts" : ".js";
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Polls the child's /readyz; false when it exits first. */
async function waitReady(child: ChildProcess, port: number): Promise<boolean> {
  let exited = false;
  child.once("exit", () => (exited = true));
  while (!exited) {
    const ok = await new Promise<boolean>((resolve) => {
      const probe = request({ host: "127.0.0.1", port, path: "/readyz" }, (answer) => {
        answer.resume();
        resolve(answer.statusCode === 200);
      });
      probe.on("error", () => resolve(false));
      probe.end();
    });
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
