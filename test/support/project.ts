import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./host.js";

/** The environment without the `npm_*` variables of a surrounding `npm test`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return { ...env, NO_UPDATE_NOTIFIER: "1", ...extra };
}

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], cwd: string, env = cleanEnv()): Ran {
  const r = spawnSync(command, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs or throws with everything the command printed. */
export function must(command: string, args: readonly string[], cwd: string, env = cleanEnv()): Ran {
  const r = run(command, args, cwd, env);
  if (r.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} in ${cwd}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

/** A temporary folder outside the repository. */
export function scratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `knstate-${prefix}-`));
}

/**
 * Packs this repository as `npm pack` does for a publish. The global setup has built dist/ already;
 * `--ignore-scripts` skips `prepack`, whose clean rebuild would pull dist/ from under other tests.
 */
export function pack(into: string): string {
  const r = must("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", into], ROOT);
  const [{ filename }] = JSON.parse(r.stdout) as [{ filename: string }];
  return join(into, filename);
}

/** `knstate init` with the packed package's own CLI (from the repository's dist/, the same files). */
export function init(parent: string, dir: string, args: readonly string[]): Ran {
  return run(process.execPath, [join(ROOT, "dist/src/cli/bin.js"), "init", dir, ...args], parent);
}

export function install(project: string, ...flags: string[]): void {
  must("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...flags], project);
}

/** Bytes in a folder tree. */
export function treeSize(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + treeSize(join(path, name)), 0);
}

/** A started process whose output is collected. */
export interface Started {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves when the output matches, rejects when the process exits first or `ms` pass. */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  stop(): Promise<number | null>;
}

export function start(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Started {
  // Its own process group: `npm start` does not pass SIGTERM on to the server it runs.
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let text = "";
  child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => text,
    async waitFor(pattern, ms = 120_000) {
      const deadline = Date.now() + ms;
      while (!pattern.test(text)) {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before ${pattern}:\n${text}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} after ${ms} ms:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
      return exited;
    },
  };
}

/** POSTs JSON; resolves with status and body text, or undefined when nothing answers. */
export async function postJson(
  url: string,
  data: unknown,
): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(data),
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined;
  }
}

/** Polls `check` until it returns true; throws after `ms` (a generous bound, not a latency figure). */
export async function eventually(check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
