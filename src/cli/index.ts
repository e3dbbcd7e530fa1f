import { parseArgs } from "node:util";
import { settings } from "../config/settings.js";
import { DEPLOY_HELP, DEPLOY_OPTIONS_HELP } from "./deploy-help.js";

const HELP = `knstate: stateful serverless functions for Knative

Usage:
  knstate serve <function>... [options]   serve entities and actions over HTTP and CloudEvents
  knstate send <url> --type T [--subject S] [--data JSON] [--mode binary|structured] [--source URI] [--id ID]
                                          send one CloudEvent and print the reply
${DEPLOY_HELP}
  knstate help                            this text

${DEPLOY_OPTIONS_HELP}

serve options (each also an environment variable; flags win):
${settings
  .filter((s) => s.flag !== undefined)
  .map((s) => `  --${s.flag!.padEnd(22)} ${s.env.padEnd(24)} ${s.doc} (default: ${s.default ?? "unset"})`)
  .join("\n")}

All settings, with their environment variables: see the README's Configuration section.
`;

/** Runs the CLI; resolves with the process exit code. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const [command, ...rest] = argv;
  const out = (line: string) => process.stdout.write(line + "\n");
  switch (command) {
    case "serve": {
      const options = Object.fromEntries(
        settings.filter((s) => s.flag !== undefined).map((s) => [s.flag!, { type: "string" as const }]),
      );
      const { values, positionals } = parseArgs({
        args: [...rest],
        options,
        allowPositionals: true,
        strict: true,
      });
      const { serve } = await import("./serve.js");
      return serve({ paths: positionals, flags: values, env });
    }
    case "send": {
      const { values, positionals } = parseArgs({
        args: [...rest],
        allowPositionals: true,
        options: {
          type: { type: "string" },
          subject: { type: "string" },
          data: { type: "string" },
          source: { type: "string" },
          id: { type: "string" },
          mode: { type: "string", default: "binary" },
        },
      });
      const url = positionals[0];
      if (
        url === undefined ||
        values.type === undefined ||
        (values.mode !== "binary" && values.mode !== "structured")
      ) {
        process.stderr.write(
          "usage: knstate send <url> --type T [--subject S] [--data JSON] [--mode binary|structured]\n",
        );
        return 2;
      }
      const { send } = await import("./send.js");
      return send({
        url,
        type: values.type,
        subject: values.subject,
        data: values.data,
        source: values.source,
        id: values.id,
        mode: values.mode,
        out,
      });
    }
    case "manifest":
    case "deploy":
    case "status":
    case "delete":
    case "secret": {
      // Loaded on demand: the Kubernetes client would add ~60 MB and seconds to every cold start.
      const { deployCommand } = await import("./deploy-argv.js");
      return deployCommand(command, rest, env, out, (line) => process.stderr.write(line + "\n"));
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      out(HELP);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`knstate: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}
