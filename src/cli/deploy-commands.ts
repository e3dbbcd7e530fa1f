import { Command } from "commander";
import { DEPLOY_HELP, DEPLOY_OPTIONS_HELP } from "./deploy-help.js";
import { EXIT, type CommandHost } from "./command-host.js";

const COMMANDS = {
  manifest: ["<function-dir>", "print the function's Knative manifests as YAML"],
  deploy: ["<function-dir>", "apply the function's manifests through the current kubeconfig, wait for Ready"],
  status: ["<name>", "revision, Ready condition, URL and replicas of a Service"],
  delete: ["<name>", "delete a Service, its Trigger and its PingSource"],
  secret: ["<kind>", "print a Secret manifest: `secret redis --url redis://…` for REDIS_URL"],
} as const;

type DeployName = keyof typeof COMMANDS;

/**
 * `knstate manifest|deploy|status|delete`: the options are parsed by `deployCommand` itself
 * (src/cli/deploy-argv.ts, loaded on demand); here they are only checked against its table so an
 * unknown one is a usage error that names the valid ones.
 */
export function deployCommands(host: CommandHost): Command[] {
  return (Object.keys(COMMANDS) as DeployName[]).map((name) => {
    const [argument, summary] = COMMANDS[name];
    return new Command(name)
      .summary(summary)
      .argument(argument)
      .allowUnknownOption()
      .allowExcessArguments()
      .helpOption("-h, --help", "show this help")
      .addHelpText("after", `\n${DEPLOY_HELP}\n\n${DEPLOY_OPTIONS_HELP}`)
      .action((_target: string, _options: unknown, command: Command) =>
        host.run(async () => {
          const { deployCommand, DEPLOY_OPTIONS } = await import("./deploy-argv.js");
          const unknown = unknownOptions(command.args, DEPLOY_OPTIONS);
          if (unknown !== undefined) {
            const valid = Object.keys(DEPLOY_OPTIONS).map((o) => `--${o}`);
            host.err(`knstate ${name}: unknown option ${unknown}; valid options: ${valid.join(", ")}`);
            return EXIT.usage;
          }
          return deployCommand(name, command.args, host.env, host.out, host.err);
        }),
      );
  });
}

function unknownOptions(
  args: readonly string[],
  table: Readonly<Record<string, { readonly type: string; readonly short?: string }>>,
): string | undefined {
  const shorts = new Set(Object.values(table).flatMap((o) => (o.short ? [o.short] : [])));
  for (const arg of args) {
    if (arg === "--") return undefined;
    if (arg.startsWith("--")) {
      const name = arg.slice(2).split("=")[0]!;
      if (!Object.hasOwn(table, name)) return `--${name}`;
    } else if (/^-[A-Za-z]/.test(arg) && !shorts.has(arg[1]!)) return arg;
  }
  return undefined;
}
