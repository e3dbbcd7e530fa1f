/**
 * One version of the functions under `knstate dev`: tells the supervisor which commands it
 * serves, then runs `knstate serve` with the arguments it was given. Started by dev.ts.
 */
import { loadFunctions } from "../host/load-functions.js";
import type { DevChildMessage } from "./dev-supervisor.js";
import { main } from "./index.js";

const [separator, ...rest] = process.argv.slice(2);
const at = rest.indexOf("--");
const paths = separator === "--paths" && at >= 0 ? rest.slice(0, at) : [];
const serveArgs = at >= 0 ? rest.slice(at + 1) : rest;

const components = await loadFunctions(paths).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
const commands = components.flatMap((c) => {
  const table = (c.kind === "action" ? c.handlers : c.commands) as Record<string, unknown>;
  return Object.keys(table).map((command) => ({
    type: `${c.typePrefix}.${c.name}.${command}`,
    path: c.kind === "action" ? `/${c.name}/${command}` : `/${c.name}/demo/${command}`,
    entity: c.kind !== "action",
  }));
});
process.send?.({ commands } satisfies DevChildMessage);
process.exit(await main(["serve", ...paths, ...serveArgs], process.env));
// The supervisor is gone (killed without a chance to stop this version): stop too.
process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
