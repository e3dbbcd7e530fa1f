import { Command, CommanderError } from "commander";
import { settings } from "../config/settings.js";
import { EXIT, VERSION, type CommandHost, type Env } from "./command-host.js";
import { deployCommands } from "./deploy-commands.js";
import { devCommand } from "./dev.js";
import { initCommand } from "./init.js";
import { inspectCommand } from "./inspect.js";
import { sendCommand } from "./send.js";

export { EXIT, VERSION, type CommandHost, type Env } from "./command-host.js";

/** A long-running command over function folders whose options are the flagged settings. */
interface HostCommandSpec {
  readonly name: "serve" | "relay";
  readonly summary: string;
  readonly description: string;
}

function hostCommand(host: CommandHost, spec: HostCommandSpec): Command {
  const command = new Command(spec.name)
    .summary(spec.summary)
    .description(
      `${spec.description}\nEach option is also an environment variable; an option wins over its variable.`,
    )
    .argument(
      "[function...]",
      "function folders or module files (default: $KNSTATE_FUNCTIONS, comma-separated)",
    );
  const flagged = settings.filter((s) => s.flag !== undefined);
  for (const s of flagged) {
    command.option(`--${s.flag} <value>`, `${s.doc} [${s.env}] (default: ${s.default ?? "unset"})`);
  }
  command.addHelpText(
    "after",
    "\nAll settings and their environment variables: the README's Configuration section.",
  );
  return command.action((paths: string[], options: Record<string, string | undefined>) =>
    host.run(async () => {
      const flags: Record<string, string | undefined> = {};
      for (const s of flagged) flags[s.flag!] = options[camel(s.flag!)];
      const run =
        spec.name === "serve" ? (await import("./serve.js")).serve : (await import("./relay.js")).relay;
      return run({ paths, flags, env: host.env });
    }),
  );
}

const serveSpec: HostCommandSpec = {
  name: "serve",
  summary: "serve entities and actions over HTTP and CloudEvents",
  description: "Serve the entities and actions that function folders export, over HTTP and CloudEvents.",
};

const relaySpec: HostCommandSpec = {
  name: "relay",
  summary: "publish the outbox of publishing entities to K_SINK, with no API",
  description:
    "Publish the outbox that function folders' publishing entities write to K_SINK, with no API:\n" +
    "run it beside functions served with KNSTATE_OUTBOX_RELAY=false. Answers /healthz and /readyz\n" +
    "on the port, serves the metrics port, and drains on SIGTERM.",
};

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The command tree; exit behaviour and output are configured on every command. */
export function program(host: CommandHost): Command {
  const root = new Command("knstate")
    .description("knstate: stateful serverless functions for Knative")
    .version(VERSION, "-v, --version")
    .addHelpCommand("help [command]", "help for a command");
  for (const command of [
    hostCommand(host, serveSpec),
    hostCommand(host, relaySpec),
    sendCommand(host),
    initCommand(host),
    devCommand(host),
    inspectCommand(host),
    ...deployCommands(host),
  ]) {
    root.addCommand(command);
  }
  configure(root, host);
  return root;
}

function configure(command: Command, host: CommandHost): void {
  const valid = command.options.map((o) => o.long ?? o.short).join(", ");
  command
    .exitOverride()
    .showHelpAfterError(
      command.commands.length > 0
        ? "(knstate --help lists the commands)"
        : `${valid ? `valid options: ${valid} ` : ""}(knstate ${command.name()} --help explains them)`,
    )
    .configureOutput({
      writeOut: (text) => host.out(text.replace(/\n$/, "")),
      writeErr: (text) => host.err(text.replace(/\n$/, "")),
    });
  for (const sub of command.commands) configure(sub, host);
}

/** Runs the CLI; resolves with the process exit code. */
export async function main(argv: readonly string[], env: Env): Promise<number> {
  let code: number = EXIT.ok;
  const host: CommandHost = {
    env,
    out: (line) => process.stdout.write(line + "\n"),
    err: (line) => process.stderr.write(line + "\n"),
    run: async (action) => {
      code = await action();
    },
  };
  try {
    await program(host).parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw error;
  }
  return code;
}
