import { existsSync, readdirSync, statSync, watch, type FSWatcher } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Command, Option } from "commander";
import { Supervisor } from "./dev-supervisor.js";
import { EXIT, type CommandHost } from "./command-host.js";

/** `knstate dev [function-dir...]` */
export function devCommand(host: CommandHost): Command {
  return new Command("dev")
    .summary("serve TypeScript functions and reload them on every change")
    .description(
      "Serve TypeScript functions directly, with no build step, and reload them when a file changes.\n" +
        "A version that fails to load (a syntax error, a bad export) is shown and the previous one keeps\n" +
        "serving; type errors are shown as they are found (tsc, when the project has TypeScript).\n" +
        "State is in memory unless --store redis is given; it starts empty on each reload.",
    )
    .argument("[function-dir...]", "function folders (default: every folder in ./functions)")
    .option("-p, --port <port>", "port to listen on (default: $PORT or 8080)")
    .addOption(new Option("--store <store>", "state store").choices(["memory", "redis"]).default("memory"))
    .option("--redis-url <url>", "Redis URL, with --store redis")
    .option("--no-typecheck", "do not run tsc --noEmit after each change")
    .action((dirs: string[], o: { port?: string; store: string; redisUrl?: string; typecheck: boolean }) =>
      host.run(async () => {
        const paths = dirs.length > 0 ? dirs : defaultFunctions();
        if (paths.length === 0) {
          host.err("knstate dev: no function folders given and ./functions has none");
          return EXIT.usage;
        }
        for (const path of paths) {
          if (!existsSync(path)) {
            host.err(`knstate dev: ${path} does not exist`);
            return EXIT.usage;
          }
        }
        const port = Number(o.port ?? host.env.PORT ?? 8080);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          host.err(`knstate dev: --port ${o.port}: expected a port number`);
          return EXIT.usage;
        }
        return dev({ paths, port, store: o.store, redisUrl: o.redisUrl, typecheck: o.typecheck, host });
      }),
    );
}

/** The folder and its subfolders, without node_modules and dot-folders; a file's own folder. */
function folders(path: string): string[] {
  if (!statSync(path).isDirectory()) return [dirname(path)];
  return [
    path,
    ...readdirSync(path, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== "node_modules" && !e.name.startsWith("."))
      .flatMap((e) => folders(join(path, e.name))),
  ];
}

function defaultFunctions(): string[] {
  if (!existsSync("functions")) return [];
  return readdirSync("functions", { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join("functions", entry.name));
}

interface DevOptions {
  readonly paths: readonly string[];
  readonly port: number;
  readonly store: string;
  readonly redisUrl: string | undefined;
  readonly typecheck: boolean;
  readonly host: CommandHost;
}

/** Serves until SIGINT or SIGTERM; resolves with the exit code. */
async function dev(options: DevOptions): Promise<number> {
  const serveArgs = [
    "--store",
    options.store,
    "--log-format",
    "pretty",
    "--metrics-port",
    "0",
    "--admin-port",
    "0",
  ];
  if (options.redisUrl !== undefined) serveArgs.push("--redis-url", options.redisUrl);
  const supervisor = new Supervisor({
    paths: options.paths.map((p) => resolve(p)),
    serveArgs,
    port: options.port,
    typecheck: options.typecheck,
    out: options.host.out,
    err: options.host.err,
  });
  const port = await supervisor.start();
  options.host.out(`knstate dev: serving ${options.paths.join(", ")} on http://localhost:${port}/`);
  let timer: NodeJS.Timeout | undefined;
  // One watch per folder, not per file: an editor that saves by renaming replaces the file.
  const watchers: FSWatcher[] = options.paths.flatMap(folders).map((folder) =>
    watch(folder, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void supervisor.reload(), 50);
    }),
  );
  return new Promise<number>((done) => {
    const stop = () => {
      for (const watcher of watchers) watcher.close();
      clearTimeout(timer);
      void supervisor.close().then(() => done(EXIT.ok));
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
